// LIST, with the apiserver's resourceVersion semantics:
//   unset       → a consistent read of the latest state
//   "0"         → any state (served from the watch cache), and `limit` is ignored
//   N           → not older than N (NotOlderThan, the default); a future N waits, then 504
//   N + Exact   → the state at exactly N; 410 Expired once N is compacted away
// and etcd-style pagination: `limit` cuts the list, `continue` resumes at the same snapshot, and a
// continue token older than the compaction gets 410 with an "inconsistent" token to carry on.
import type { JsonObject, KubeObject } from './types.js';
import type { ResourceDef } from './resources.js';
import type { ObjectStore } from './store.js';
import { apiVersionOf, qualifiedResource } from './resources.js';
import { badRequest, expired, unprocessable } from './status.js';
import { hasSelectors, objectFilter } from './selectors.js';
import { decodeContinue, encodeContinue } from './continue-token.js';
import { waitForRevision } from './freshness.js';

export interface ReadContext {
  readonly store: ObjectStore;
  readonly tooLargeWaitMs: number;
  readonly closing: AbortSignal;
}

const INCONSISTENT_CONTINUE =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.';

export function parseRevision(raw: string): number {
  if (!/^\d+$/.test(raw)) throw badRequest(`invalid resource version: ${JSON.stringify(raw)}`);
  return Number(raw);
}

function parseLimit(raw: string | null): number {
  if (raw === null || raw === '') return 0;
  if (!/^\d+$/.test(raw)) throw badRequest(`invalid limit: ${JSON.stringify(raw)}`);
  return Number(raw);
}

interface Read {
  readonly revision: number;
  readonly items: [string, KubeObject][];
  readonly after: string;
}

async function readContinued(ctx: ReadContext, resource: string, raw: string): Promise<Read> {
  const token = decodeContinue(raw);
  if (token.revision === -1) {
    return { revision: ctx.store.currentRevision(), items: ctx.store.current(resource), after: token.after };
  }
  const items = ctx.store.snapshotAt(resource, token.revision);
  if (items === undefined) {
    const err = expired(INCONSISTENT_CONTINUE);
    err.status.metadata.continue = encodeContinue({ revision: -1, after: token.after });
    throw err;
  }
  return { revision: token.revision, items, after: token.after };
}

async function readAt(ctx: ReadContext, resource: string, rv: string, match: string): Promise<Read> {
  const latest = (): Read => ({ revision: ctx.store.currentRevision(), items: ctx.store.current(resource), after: '' });
  if (rv === '' || rv === '0') return latest();
  const revision = parseRevision(rv);
  await waitForRevision(ctx.store, revision, ctx.tooLargeWaitMs, ctx.closing);
  if (match !== 'Exact') return latest();
  const items = ctx.store.snapshotAt(resource, revision);
  if (items === undefined) throw expired('The resourceVersion for the provided list is too old.');
  return { revision, items, after: '' };
}

function validate(params: URLSearchParams): void {
  const rv = params.get('resourceVersion') ?? '';
  const match = params.get('resourceVersionMatch') ?? '';
  const cont = params.get('continue') ?? '';
  if (match !== '' && match !== 'Exact' && match !== 'NotOlderThan') {
    throw unprocessable(`ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Unsupported value: "${match}": supported values: "Exact", "NotOlderThan", ""`);
  }
  if (match !== '' && cont !== '') throw unprocessable('ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided');
  if (match !== '' && rv === '') throw unprocessable('ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided');
  if (match === 'Exact' && rv === '0') throw unprocessable('ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"');
  if (cont !== '' && rv !== '' && rv !== '0') throw badRequest('specifying resource version is not allowed when using continue');
}

/** Built-in lists carry TypeMeta once, on the list; custom-resource lists keep it on every item. */
export function listItem(def: ResourceDef, obj: KubeObject): KubeObject {
  if (def.custom) return obj;
  const { apiVersion: _apiVersion, kind: _kind, ...rest } = obj;
  return rest as KubeObject;
}

export async function listObjects(ctx: ReadContext, def: ResourceDef, namespace: string | undefined, params: URLSearchParams): Promise<JsonObject> {
  validate(params);
  const resource = qualifiedResource(def);
  const rv = params.get('resourceVersion') ?? '';
  const cont = params.get('continue') ?? '';
  const read = cont !== '' ? await readContinued(ctx, resource, cont) : await readAt(ctx, resource, rv, params.get('resourceVersionMatch') ?? '');
  const limit = rv === '0' ? 0 : parseLimit(params.get('limit'));
  const filter = objectFilter(def, namespace, params);
  const matching = read.items.filter(([key, obj]) => key > read.after && filter(obj));
  const page = limit > 0 ? matching.slice(0, limit) : matching;
  const metadata: JsonObject = { resourceVersion: String(read.revision) };
  const last = page[page.length - 1];
  if (page.length < matching.length && last !== undefined) {
    metadata.continue = encodeContinue({ revision: read.revision, after: last[0] });
    // etcd can only count what is left when nothing is filtered out after the read.
    if (!hasSelectors(params)) metadata.remainingItemCount = matching.length - page.length;
  }
  return {
    kind: `${def.kind}List`,
    apiVersion: apiVersionOf(def),
    metadata,
    items: page.map(([, obj]) => listItem(def, obj)) as unknown as JsonObject[],
  };
}
