// Compare-and-swap over the Kubernetes API, the way Calico's KDD backend does it: the revision is
// metadata.resourceVersion, an update carries it (stale → 409 Conflict), a create of an existing
// name is 409 AlreadyExists. A delete cannot be conditional on content, so Calico deletes in two
// steps: an update marking the object deleted (the compare-and-swap), then a delete bound to the
// uid and resourceVersion that update produced. Readers skip objects marked deleted, and one left
// marked by a crash between the steps is finished off by the next get (finishDelete).
import type { WriteResult } from '../ipam/store.js';
import { isApiError, type KubeClient, type KubeObject } from './kubernetes-client.js';
import type { Stored } from './kubernetes-ipam-objects.js';
import type { KubeResource } from './kubernetes-resources.js';

type Reader<T> = (object: KubeObject) => Stored<T>;

export async function casCreate<T>(client: KubeClient, resource: KubeResource, object: KubeObject, read: Reader<T>): Promise<WriteResult<T>> {
  try {
    return written(read(await client.create(resource, object)));
  } catch (error) {
    if (isApiError(error, 409)) return { ok: false, reason: 'exists' };
    throw error;
  }
}

/** `object` carries the expected revision in metadata.resourceVersion. */
export async function casUpdate<T>(client: KubeClient, resource: KubeResource, name: string, object: KubeObject, read: Reader<T>): Promise<WriteResult<T>> {
  try {
    return written(read(await client.replace(resource, name, object)));
  } catch (error) {
    if (isApiError(error, 409)) return { ok: false, reason: 'conflict' };
    if (isApiError(error, 404)) return { ok: false, reason: 'missing' };
    throw error;
  }
}

/**
 * Marks the object deleted at the expected revision (`marked` is the object with its deleted
 * flag set and that resourceVersion), then deletes it. True once the mark is written: from then
 * on the object is gone for every reader, whether or not the second step gets through.
 */
export async function twoStepDelete<T>(client: KubeClient, resource: KubeResource, name: string, marked: KubeObject, read: Reader<T>): Promise<boolean> {
  const result = await casUpdate(client, resource, name, marked, read);
  if (!result.ok) return false;
  await finishDelete(client, resource, name, result.entry as Stored<T>);
  return true;
}

/** The second step; someone else finishing it first (404, or 409 once it is recreated) is fine. */
export async function finishDelete(client: KubeClient, resource: KubeResource, name: string, stored: Stored<unknown>): Promise<void> {
  try {
    await client.delete(resource, name, { uid: stored.uid, resourceVersion: stored.revision });
  } catch (error) {
    if (!isApiError(error, 404) && !isApiError(error, 409)) throw error;
  }
}

/** The entry a write returns keeps the uid, so a later delete can be bound to it. */
function written<T>(stored: Stored<T>): WriteResult<T> {
  return { ok: true, entry: stored };
}
