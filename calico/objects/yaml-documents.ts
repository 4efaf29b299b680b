// A snapshot file's text → one plain value per YAML document (JSON is YAML too), or one Error
// that says where the text went wrong.
//
// Nesting is measured on yaml's concrete syntax tree, which its parser builds without recursion,
// before the recursive composer runs: past a few hundred levels the composer overflows the stack,
// and under V8 a run of such overflows has aborted the whole process ("RegExpCompiler Allocation
// failed") rather than thrown. No Kubernetes object comes close to the limit.
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import type { CST } from 'yaml';
import { jsonCutShort, truncated } from './cluster-refusal.js';

// Loaded on first use, synchronously (yaml is CommonJS on Node): JSON, which the big dumps are,
// never needs it, and loading it would cost `wren apply` ~40 ms of start-up.
let yaml: typeof Yaml | undefined;
const loadYaml = (): typeof Yaml => (yaml ??= createRequire(import.meta.url)('yaml') as typeof Yaml);

export const MAX_NESTING = 100;

export function decodeDocuments(text: string): unknown[] {
  // `kubectl -o json` and `wren snapshot` dumps of big clusters are JSON: V8's parser reads 100 MB
  // in well under a second, where the YAML composer takes minutes and gigabytes. Anything that is
  // not valid JSON goes the YAML way, which also says where an error is.
  // V8's JSON parser does not recurse, so no nesting check is needed on this path; what is built
  // from the value bounds its own depth (snapshot-file.ts: lists at most 16 deep).
  const start = text.trimStart()[0];
  if (start === '{' || start === '[') {
    try {
      return [JSON.parse(text) as unknown];
    } catch (error) {
      // JSON cut short (an interrupted `kubectl get -o json > file`): no YAML reading of an
      // unclosed `{` or `[` succeeds either, so say what happened.
      if (jsonCutShort(error, text)) throw truncated('the JSON ends before its last value closes');
      // Not JSON after all (or broken JSON): the YAML parser reports it with its line.
    }
  }
  const { Composer, LineCounter, Parser } = loadYaml();
  const lines = new LineCounter();
  const tokens = Array.from(new Parser(lines.addNewLine).parse(text));
  const where = (offset: number) => {
    const { line, col } = lines.linePos(offset);
    return `at line ${line}, column ${col}`;
  };
  const deep = deepestBeyond(tokens, MAX_NESTING);
  if (deep !== undefined) throw new Error(`snapshot is not valid YAML or JSON ${where(deep)}: nested more than ${MAX_NESTING} levels deep`);

  const documents = Array.from(new Composer().compose(tokens));
  for (const document of documents) {
    const error = document.errors[0];
    if (error !== undefined) throw new Error(`snapshot is not valid YAML or JSON ${where(error.pos[0])}: ${error.message.split('\n')[0] ?? ''}`);
  }
  return documents.map((document) => {
    try {
      return document.toJS() as unknown;
    } catch (error) {
      // toJS refuses alias bombs ("excessive alias count").
      throw new Error(`snapshot cannot be loaded: ${(error as Error).message}`);
    }
  });
}

/** The offset of the first node nested deeper than `limit`, walking with an explicit stack. */
function deepestBeyond(tokens: readonly CST.Token[], limit: number): number | undefined {
  const stack: [CST.Token, number][] = tokens.map((token) => [token, 0]);
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [token, depth] = next;
    if (depth > limit) return token.offset;
    if (token.type === 'document' && token.value !== undefined) stack.push([token.value, depth]);
    if (token.type === 'block-map' || token.type === 'block-seq' || token.type === 'flow-collection') {
      for (const item of token.items) {
        if (item.key) stack.push([item.key, depth + 1]);
        if (item.value) stack.push([item.value, depth + 1]);
      }
    }
  }
  return undefined;
}
