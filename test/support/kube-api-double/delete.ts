// DELETE as the generic registry store does it: DeleteOptions preconditions (uid, resourceVersion)
// checked against the stored object (409 on mismatch); finalizers and graceful deletion (pods)
// only stamp deletionTimestamp and the object stays; otherwise it goes at once. The answer is the
// object when it still exists (or the type returns deleted objects, as pods do), else a Success Status.
import type { KubeObject } from './types.js';
import type { ResourceDef } from './resources.js';
import type { ObjectStore } from './store.js';
import type { ObjectAddress } from './writes.js';
import { qualifiedResource } from './resources.js';
import { objectKey, timestamp } from './store.js';
import { badRequest, conflict, notFound } from './status.js';
import { isPlainObject } from './json.js';

interface DeleteOptions {
  readonly gracePeriodSeconds?: number;
  readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string };
}

export interface SuccessStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success';
  details: { name: string; group?: string; kind: string; uid: string };
}

/** DeleteOptions from the query string, overridden by a JSON body when one is sent. */
export function parseDeleteOptions(params: URLSearchParams, rawBody: string): DeleteOptions {
  const grace = params.get('gracePeriodSeconds');
  let options: DeleteOptions = grace === null ? {} : { gracePeriodSeconds: Number(grace) };
  if (rawBody.trim() !== '') {
    let body: unknown;
    try {
      body = JSON.parse(rawBody);
    } catch (err) {
      throw badRequest(`error decoding DeleteOptions: ${(err as Error).message}`);
    }
    if (!isPlainObject(body)) throw badRequest('DeleteOptions must be a JSON object');
    options = { ...options, ...(body as DeleteOptions) };
  }
  if (options.gracePeriodSeconds !== undefined && !Number.isInteger(options.gracePeriodSeconds)) {
    throw badRequest('gracePeriodSeconds must be an integer');
  }
  return options;
}

function checkPreconditions(def: ResourceDef, current: KubeObject, options: DeleteOptions): void {
  const { uid, resourceVersion } = options.preconditions ?? {};
  if (uid && uid !== current.metadata.uid) {
    throw conflict(def, current.metadata.name ?? '', `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${current.metadata.uid ?? ''}`);
  }
  if (resourceVersion && resourceVersion !== current.metadata.resourceVersion) {
    throw conflict(def, current.metadata.name ?? '', `Precondition failed: ResourceVersion in precondition: ${resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion ?? ''}`);
  }
}

export function deleteObject(
  store: ObjectStore, def: ResourceDef, at: ObjectAddress, options: DeleteOptions, dryRun: boolean,
): KubeObject | SuccessStatus {
  const resource = qualifiedResource(def);
  const key = objectKey(at.namespace, at.name);
  const current = store.get(resource, key);
  if (current === undefined) throw notFound(def, at.name);
  checkPreconditions(def, current, options);
  const grace = def.gracePeriodSeconds?.(current, options.gracePeriodSeconds) ?? 0;
  const hasFinalizers = (current.metadata.finalizers ?? []).length > 0;
  const terminating = current.metadata.deletionTimestamp !== undefined;
  const pendingGrace = current.metadata.deletionGracePeriodSeconds ?? 0;

  if (grace > 0 || hasFinalizers) {
    // Already terminating with no shorter period requested: nothing changes.
    if (terminating && grace >= pendingGrace) return current;
    const next = structuredClone(current);
    next.metadata.deletionTimestamp = timestamp(new Date(Date.now() + grace * 1000));
    next.metadata.deletionGracePeriodSeconds = grace;
    return dryRun ? next : store.write(resource, key, next).object;
  }
  const gone = dryRun ? current : store.write(resource, key, undefined).object;
  if (def.returnDeletedObject) return gone;
  const details: SuccessStatus['details'] = { name: at.name, kind: def.plural, uid: current.metadata.uid ?? '' };
  if (def.group !== '') details.group = def.group;
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details };
}
