// PATCH: pick the patcher from Content-Type, apply it to the stored object, then store the result
// through the update path. A patch that leaves metadata.resourceVersion alone applies to whatever
// is current; one that sets it is a precondition (stale → 409), as with the real patcher.
// Custom resources accept no strategic merge patch (415), exactly like CRD-backed endpoints.
import type { KubeObject } from './types.js';
import type { ResourceDef } from './resources.js';
import type { ObjectStore } from './store.js';
import type { ObjectAddress } from './writes.js';
import { qualifiedResource } from './resources.js';
import { objectKey } from './store.js';
import { ApiError, badRequest, notFound, unprocessable, unsupportedMediaType } from './status.js';
import { applyJsonPatch, JsonPatchError } from './patch-json.js';
import { mergePatch } from './patch-merge.js';
import { strategicMerge } from './patch-strategic.js';
import { isPlainObject } from './json.js';
import { updateObject } from './writes.js';

export const PatchType = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
} as const;

function applyPatch(def: ResourceDef, mediaType: string, current: KubeObject, patch: unknown): unknown {
  try {
    if (mediaType === PatchType.json) return applyJsonPatch(current, patch);
    if (mediaType === PatchType.merge) return mergePatch(current, patch);
    return strategicMerge(current, patch, '', def.mergeKeys);
  } catch (err) {
    if (err instanceof JsonPatchError) throw unprocessable('the server rejected our request due to an error in our request');
    if (err instanceof ApiError) throw err;
    throw badRequest((err as Error).message);
  }
}

export function patchObject(
  store: ObjectStore, def: ResourceDef, at: ObjectAddress, contentType: string, rawBody: string, dryRun: boolean,
): KubeObject {
  const mediaType = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  const accepted: string[] = def.custom ? [PatchType.json, PatchType.merge] : [PatchType.json, PatchType.merge, PatchType.strategic];
  if (!accepted.includes(mediaType)) throw unsupportedMediaType(accepted);
  let patch: unknown;
  try {
    patch = JSON.parse(rawBody);
  } catch (err) {
    throw badRequest(`error decoding patch: ${(err as Error).message}`);
  }
  const current = store.get(qualifiedResource(def), objectKey(at.namespace, at.name));
  if (current === undefined) throw notFound(def, at.name);
  const patched = applyPatch(def, mediaType, current, patch);
  if (!isPlainObject(patched) || !isPlainObject(patched.metadata)) throw badRequest('the patched object is not a valid object');
  if (!patched.metadata.resourceVersion) patched.metadata.resourceVersion = current.metadata.resourceVersion;
  return updateObject(store, def, at, patched, dryRun);
}
