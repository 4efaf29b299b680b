// Calico's label selectors (`libcalico-go/lib/selector/parser`), as BGPPeer.nodeSelector uses
// them: `all()`, `has(k)`, `k == "v"`, `k != "v"`, `k in {"a", "b"}`, `k not in {…}`,
// `k contains "s"`, `k starts with "s"`, `k ends with "s"`, `!`, `&&`, `||` and parentheses, with
// single- or double-quoted strings. `global()` (namespaces only) is not a node selector and is
// refused, as is anything else: a selector wren cannot read must never match more nodes than meant.
//
// Pure: the text is parsed once, when the object is read; a node's labels are matched against
// the tree. Selector text never reaches BIRD's configuration.

export type Selector =
  | { readonly op: 'all' }
  | { readonly op: 'has'; readonly key: string }
  | { readonly op: '==' | '!=' | 'contains' | 'starts with' | 'ends with'; readonly key: string; readonly value: string }
  | { readonly op: 'in' | 'not in'; readonly key: string; readonly values: readonly string[] }
  | { readonly op: '!'; readonly of: Selector }
  | { readonly op: '&&' | '||'; readonly left: Selector; readonly right: Selector };

export type Labels = Readonly<Record<string, string>>;

export function matches(selector: Selector, labels: Labels): boolean {
  const value = 'key' in selector && Object.hasOwn(labels, selector.key) ? labels[selector.key] : undefined;
  switch (selector.op) {
    case 'all':
      return true;
    case 'has':
      return value !== undefined;
    case '==':
      return value === selector.value;
    // Calico: a missing label is "not equal" and "not in" (matched), as Kubernetes selectors are.
    case '!=':
      return value !== selector.value;
    case 'contains':
      return value !== undefined && value.includes(selector.value);
    case 'starts with':
      return value !== undefined && value.startsWith(selector.value);
    case 'ends with':
      return value !== undefined && value.endsWith(selector.value);
    case 'in':
      return value !== undefined && selector.values.includes(value);
    case 'not in':
      return value === undefined || !selector.values.includes(value);
    case '!':
      return !matches(selector.of, labels);
    case '&&':
      return matches(selector.left, labels) && matches(selector.right, labels);
    case '||':
      return matches(selector.left, labels) || matches(selector.right, labels);
  }
}

const MAX_LENGTH = 1024;
const MAX_DEPTH = 32;
// Label keys as Kubernetes allows them (an optional DNS prefix and a name).
const KEY = /^[A-Za-z0-9][A-Za-z0-9_.\-/]*/;

/** The parsed selector, or why it cannot be read (a message for the object's problem). */
export function parseSelector(text: string): Selector | { readonly error: string } {
  if (text.length > MAX_LENGTH) return { error: `is longer than ${MAX_LENGTH} characters` };
  const parser = new Parser(text);
  try {
    const tree = parser.or(0);
    parser.skipSpace();
    if (!parser.done) throw new SyntaxError(`unexpected text at offset ${parser.at}`);
    return tree;
  } catch (error) {
    return { error: error instanceof SyntaxError ? error.message : String(error) };
  }
}

class Parser {
  at = 0;
  constructor(private readonly text: string) {}

  get done(): boolean {
    return this.at >= this.text.length;
  }

  skipSpace(): void {
    while (!this.done && /\s/.test(this.text[this.at] ?? '')) this.at += 1;
  }

  or(depth: number): Selector {
    let left = this.and(depth);
    while (this.take('||')) left = { op: '||', left, right: this.and(depth) };
    return left;
  }

  private and(depth: number): Selector {
    let left = this.unary(depth);
    while (this.take('&&')) left = { op: '&&', left, right: this.unary(depth) };
    return left;
  }

  private unary(depth: number): Selector {
    if (depth > MAX_DEPTH) throw new SyntaxError(`nests deeper than ${MAX_DEPTH} levels`);
    if (this.take('!')) return { op: '!', of: this.unary(depth + 1) };
    if (this.take('(')) {
      const inner = this.or(depth + 1);
      this.expect(')');
      return inner;
    }
    if (this.takeWord('all')) {
      this.expect('(');
      this.expect(')');
      return { op: 'all' };
    }
    if (this.takeWord('has')) {
      this.expect('(');
      const key = this.key();
      this.expect(')');
      return { op: 'has', key };
    }
    return this.comparison();
  }

  private comparison(): Selector {
    const key = this.key();
    if (this.take('==')) return { op: '==', key, value: this.string() };
    if (this.take('!=')) return { op: '!=', key, value: this.string() };
    if (this.takeWord('not')) {
      if (!this.takeWord('in')) throw new SyntaxError(`expected "in" after "not" at offset ${this.at}`);
      return { op: 'not in', key, values: this.set() };
    }
    if (this.takeWord('in')) return { op: 'in', key, values: this.set() };
    if (this.takeWord('contains')) return { op: 'contains', key, value: this.string() };
    if (this.takeWord('starts')) return this.withWord('starts with', key);
    if (this.takeWord('ends')) return this.withWord('ends with', key);
    throw new SyntaxError(`expected an operator after ${JSON.stringify(key)} at offset ${this.at}`);
  }

  private withWord(op: 'starts with' | 'ends with', key: string): Selector {
    if (!this.takeWord('with')) throw new SyntaxError(`expected "with" at offset ${this.at}`);
    return { op, key, value: this.string() };
  }

  private set(): string[] {
    this.expect('{');
    const values: string[] = [];
    if (this.take('}')) return values;
    do values.push(this.string());
    while (this.take(','));
    this.expect('}');
    return values;
  }

  private key(): string {
    this.skipSpace();
    const found = KEY.exec(this.text.slice(this.at, this.at + 317));
    if (found === null) throw new SyntaxError(`expected a label key at offset ${this.at}`);
    this.at += found[0].length;
    return found[0];
  }

  private string(): string {
    this.skipSpace();
    const quote = this.text[this.at];
    if (quote !== '"' && quote !== "'") throw new SyntaxError(`expected a quoted string at offset ${this.at}`);
    const end = this.text.indexOf(quote, this.at + 1);
    if (end < 0) throw new SyntaxError(`unterminated string at offset ${this.at}`);
    const value = this.text.slice(this.at + 1, end);
    this.at = end + 1;
    return value;
  }

  private take(token: string): boolean {
    this.skipSpace();
    if (!this.text.startsWith(token, this.at)) return false;
    this.at += token.length;
    return true;
  }

  /** A keyword, not the start of a longer key (`hasty == "x"` is a comparison, not has()). */
  private takeWord(word: string): boolean {
    this.skipSpace();
    if (!this.text.startsWith(word, this.at) || /[A-Za-z0-9_.\-/]/.test(this.text[this.at + word.length] ?? '')) return false;
    this.at += word.length;
    return true;
  }

  private expect(token: string): void {
    if (!this.take(token)) throw new SyntaxError(`expected ${JSON.stringify(token)} at offset ${this.at}`);
  }
}
