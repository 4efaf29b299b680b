// A cluster dump file → ClusterSnapshot. Accepts what `kubectl get ippools,ipamblocks,
// blockaffinities,nodes,pods -A -o yaml` (or `-o json`) prints, and what renderSnapshotFile
// writes: a List (lists may nest), a single object, a JSON array, or several YAML documents.
//
// A file that is not YAML/JSON at all is an operator error, thrown once with its line; an object
// that is merely invalid is a problem, and the rest of the file still loads.
import type { ClusterSnapshot, ObjectProblem } from '../../routing/cluster.js';
import type { ObjectKind, ParsedObject, ParseResult } from './api.js';
import type { AllocationDetail } from './ipam-block.js';
import { parseObject } from './parse-object.js';
import { isRecord } from './results.js';
import { jsonListItems } from './json-list-items.js';
import { truncated } from './cluster-refusal.js';
import { buildSnapshot } from './snapshot-build.js';
import { decodeDocuments } from './yaml-documents.js';

export interface SnapshotFile {
  readonly snapshot: ClusterSnapshot;
  readonly problems: ObjectProblem[];
  /** Objects that are not part of the routing picture: other kinds, host-network pods, deleted blocks… */
  readonly ignored: number;
}

// Lists inside lists are legal (a List of per-kind Lists); dozens of levels are not a cluster dump.
const MAX_LIST_DEPTH = 16;

/** `detail`: whose IPAM allocations to keep in full (ipam-block.ts); every node's unless told. */
export function parseSnapshotText(text: string, detail: AllocationDetail = 'all'): SnapshotFile {
  const parse = (raw: unknown) => parseObject(raw, detail);
  const results = collectListItems(text, parse) ?? collectDocuments(text, parse);

  // Per kind, by key; undefined where the last occurrence was invalid or ignored (it still counts
  // as seen). No `${kind} ${key}` string per object: a 100,000-block dump has 200,000 of them.
  const byKind = new Map<ObjectKind, Map<string, ParsedObject | undefined>>();
  const problems: ObjectProblem[] = [];
  let ignored = 0;
  for (const result of results) {
    if (result.status === 'ignored') ignored += 1;
    if (result.status === 'ok' && result.problems !== undefined) for (const p of result.problems) problems.push(p);
    if (result.status === 'invalid') problems.push(result.problem);
    const kind = result.status === 'ok' ? result.object.kind : result.kind;
    const key = result.status === 'ok' ? result.object.key : result.key;
    if (kind === undefined || key === undefined) continue;
    let objects = byKind.get(kind);
    if (objects === undefined) byKind.set(kind, (objects = new Map()));
    if (objects.has(key)) problems.push({ kind, name: key, field: 'metadata.name', message: 'appears more than once in the file; the last one counts', reason: 'invalid' });
    // The last occurrence wins, as it would in a datastore: an invalid or ignored one removes the earlier value.
    objects.set(key, result.status === 'ok' ? result.object : undefined);
  }
  return { snapshot: buildSnapshot(parsedObjects(byKind)), problems, ignored };
}

function* parsedObjects(byKind: ReadonlyMap<ObjectKind, ReadonlyMap<string, ParsedObject | undefined>>): Iterable<ParsedObject> {
  for (const objects of byKind.values()) {
    for (const object of objects.values()) if (object !== undefined) yield object;
  }
}

/** Every document of the text, each parsed whole (YAML, or JSON that is not a List). */
function collectDocuments(text: string, parse: Parse): ParseResult[] {
  const results: ParseResult[] = [];
  for (const document of decodeDocuments(text)) collect(document, results, 0, parse);
  return results;
}

/**
 * A JSON List item by item (json-list-items.ts): the same results as collectDocuments, with one
 * item's raw tree alive at a time. Undefined for anything else, and for anything that fails,
 * which collectDocuments then does again and reports (malformed JSON with its line).
 */
function collectListItems(text: string, parse: Parse): ParseResult[] | undefined {
  try {
    const list = jsonListItems(text);
    if (list === undefined) return undefined;
    const results: ParseResult[] = [];
    for (const item of list.items) collect(item, results, 1, parse);
    // kubectl prints `kind` after `items`: only now is it known to be a List (nearly always).
    return isList(list.head()) ? results : undefined;
  } catch {
    // Malformed JSON, or lists nested too deep: the whole-text path says what and where.
    return undefined;
  }
}

function isList(value: unknown): value is { items: unknown } {
  return isRecord(value) && typeof value.kind === 'string' && value.kind.endsWith('List') && Array.isArray(value.items);
}

type Parse = (raw: unknown) => ParseResult;

function collect(value: unknown, results: ParseResult[], depth: number, parse: Parse): void {
  if (value === null || value === undefined) return; // an empty document, e.g. after a trailing `---`
  // kubectl writes a List's `kind` after its items: a List without one is a dump cut short.
  if (depth === 0 && isRecord(value) && Array.isArray(value.items) && value.kind === undefined) {
    throw truncated('a List without its kind (kubectl writes `kind: List` after the items)');
  }
  const items = Array.isArray(value) ? value : isList(value) ? value.items : undefined;
  if (items === undefined) {
    results.push(parse(value));
    return;
  }
  if (depth >= MAX_LIST_DEPTH) throw new Error(`snapshot nests lists more than ${MAX_LIST_DEPTH} deep`);
  for (const item of items as unknown[]) collect(item, results, depth + 1, parse);
}
