// The items of a JSON `List` (what `kubectl get -o json` and `wren snapshot --json` print), each
// handed over by its own JSON.parse as the caller asks for it, so only one item's tree is alive at
// a time. Parsed whole, a 100,000-block dump's objects are hundreds of MB, nearly all thrown away
// once converted: `wren apply` of one peaked at 527 MB RSS, and at 355 MB read this way, in about
// the same time (the scan costs ~26 ms per 10 MB; less garbage gives most of it back).
//
// This is not a JSON parser: it finds where the top-level object's members and the `items`
// array's elements begin and end (strings, escapes and nesting), and V8's JSON.parse reads every
// piece. What it does not recognise — a top-level array or scalar, no `items` array or two of
// them — is left to the caller (undefined, or a head of undefined). Malformed JSON makes it
// throw a SyntaxError, partway through the items if that is where it is: the caller then parses
// the whole text, which says where.
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

export interface JsonList {
  /** The array's elements, each parsed when it is reached. */
  readonly items: Iterable<unknown>;
  /**
   * Once the items have all been read: the top-level object with `items` as an empty array, or
   * undefined when it has a second `items` member (JSON.parse would keep the last one).
   */
  head(): Record<string, unknown> | undefined;
}

/**
 * Reads up to the `items` array of a top-level object; the rest of the object is read after the
 * last item, so the text is gone over once. Undefined when the text is not an object with an
 * `items` array.
 */
export function jsonListItems(text: string): JsonList | undefined {
  let at = skipSpace(text, 0);
  if (text.charCodeAt(at) !== OPEN_OBJECT) return undefined;
  at = skipSpace(text, at + 1);
  if (text.charCodeAt(at) === CLOSE_OBJECT) return undefined;
  for (;;) {
    const member = readMember(text, at);
    if (member.key === 'items' && text.charCodeAt(member.value) === OPEN_ARRAY) return listFrom(text, member.value);
    at = afterMember(text, skipValue(text, member.value));
    if (at < 0) return undefined; // the object ended without an items array
  }
}

function listFrom(text: string, itemsStart: number): JsonList {
  let head: Record<string, unknown> | undefined;
  let done = false;
  function* items(): Generator<unknown> {
    let at = skipSpace(text, itemsStart + 1);
    if (text.charCodeAt(at) !== CLOSE_ARRAY) {
      for (;;) {
        const end = skipValue(text, at);
        yield JSON.parse(text.slice(at, end));
        at = skipSpace(text, end);
        if (text.charCodeAt(at) === CLOSE_ARRAY) break;
        if (text.charCodeAt(at) !== COMMA) throw malformed(at, '"," or "]"');
        at = skipSpace(text, at + 1);
      }
    }
    const itemsEnd = at + 1;
    // The members after the items: another `items` array makes the list ambiguous.
    let twice = false;
    for (let next = afterMember(text, itemsEnd); next >= 0; ) {
      const member = readMember(text, next);
      if (member.key === 'items') twice = true;
      next = afterMember(text, skipValue(text, member.value));
    }
    head = twice ? undefined : (JSON.parse(`${text.slice(0, itemsStart)}[]${text.slice(itemsEnd)}`) as Record<string, unknown>);
    done = true;
  }
  return {
    items: items(),
    head: () => {
      if (!done) throw new Error('the head of a JSON List is known once its items have been read');
      return head;
    },
  };
}

/** The member (name, then where its value starts) at `at`. */
function readMember(text: string, at: number): { key: unknown; value: number } {
  if (text.charCodeAt(at) !== QUOTE) throw malformed(at, 'a member name');
  const keyEnd = skipString(text, at);
  const key: unknown = JSON.parse(text.slice(at, keyEnd));
  const colon = skipSpace(text, keyEnd);
  if (text.charCodeAt(colon) !== COLON) throw malformed(colon, '":"');
  return { key, value: skipSpace(text, colon + 1) };
}

/** After a member's value: where the next member starts, or -1 at the object's end (nothing may follow it). */
function afterMember(text: string, valueEnd: number): number {
  const at = skipSpace(text, valueEnd);
  const next = text.charCodeAt(at);
  if (next === CLOSE_OBJECT) {
    if (skipSpace(text, at + 1) !== text.length) throw malformed(at + 1, 'the end of the text');
    return -1;
  }
  if (next !== COMMA) throw malformed(at, '"," or "}"');
  return skipSpace(text, at + 1);
}

/** Past one value starting at `at`: a string, an object or array with all it holds, or a literal. */
function skipValue(text: string, at: number): number {
  const first = text.charCodeAt(at);
  if (first === QUOTE) return skipString(text, at);
  if (first !== OPEN_OBJECT && first !== OPEN_ARRAY) {
    // A number, true, false or null: JSON.parse of the piece checks which.
    let end = at;
    while (end < text.length && !isDelimiter(text.charCodeAt(end))) end += 1;
    if (end === at) throw malformed(at, 'a value');
    return end;
  }
  let depth = 0;
  for (let i = at; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) i = skipString(text, i) - 1;
    else if (c === OPEN_OBJECT || c === OPEN_ARRAY) depth += 1;
    else if ((c === CLOSE_OBJECT || c === CLOSE_ARRAY) && --depth === 0) return i + 1;
  }
  throw malformed(text.length, 'the end of an object or array');
}

/**
 * Past the string whose opening quote is at `at`. indexOf finds the next quote in native code: a
 * dump is mostly strings, and this made the whole scan of a 10,000-block dump 26 ms, not 34.
 */
function skipString(text: string, at: number): number {
  for (let from = at + 1; ; ) {
    const quote = text.indexOf('"', from);
    if (quote < 0) throw malformed(text.length, 'the end of a string');
    // Escaped when an odd number of backslashes stands right before it.
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes += 1;
    if (backslashes % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}

function skipSpace(text: string, at: number): number {
  let i = at;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
    i += 1;
  }
}

function isDelimiter(c: number): boolean {
  return c === COMMA || c === CLOSE_OBJECT || c === CLOSE_ARRAY || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function malformed(at: number, expected: string): SyntaxError {
  return new SyntaxError(`JSON: expected ${expected} at offset ${at}`);
}
