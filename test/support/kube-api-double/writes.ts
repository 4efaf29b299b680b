// POST and PUT (and, through patch.ts, PATCH) as the generic registry store does them:
// AlreadyExists on create, optimistic concurrency on update (a stale metadata.resourceVersion is a
// 409 Conflict; custom resources must send one, built-ins may omit it), server-owned metadata kept,
// the /status split, generation bumps for custom resources, and no write at all (same
// resourceVersion, no watch event) when an update changes nothing.
import { randomUUID } from 'node:crypto';
import type { KubeObject } from './types.js';
import type { ResourceDef } from './resources.js';
import type { ObjectStore } from './store.js';
import { qualifiedResource } from './resources.js';
import { objectKey, timestamp } from './store.js';
import { alreadyExists, badRequest, conflict, internalError, invalid, notFound } from './status.js';
import { decodeObject, keepServerOwned, settleNamespace, validateName } from './object-meta.js';
import { jsonEqual } from './json.js';

export interface ObjectAddress {
  readonly namespace?: string;
  readonly name: string;
  readonly subresource?: 'status';
}

const NAME_SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789'; // apiserver's SimpleNameGenerator

function generatedName(prefix: string): string {
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += NAME_SUFFIX_ALPHABET[Math.floor(Math.random() * NAME_SUFFIX_ALPHABET.length)];
  return `${prefix.slice(0, 253 - 5)}${suffix}`;
}

export function createObject(store: ObjectStore, def: ResourceDef, namespace: string | undefined, body: unknown, dryRun: boolean): KubeObject {
  const obj = decodeObject(def, body);
  settleNamespace(def, obj, namespace);
  const meta = obj.metadata;
  if (!meta.name && meta.generateName) meta.name = generatedName(meta.generateName);
  const name = meta.name ?? '';
  if (name === '') throw invalid(def, '', 'metadata.name', 'FieldValueRequired', 'Required value: name or generateName is required');
  validateName(def, name);
  if (meta.resourceVersion) throw internalError('resourceVersion should not be set on objects to be created');
  const key = objectKey(meta.namespace, name);
  if (store.get(qualifiedResource(def), key) !== undefined) throw alreadyExists(def, name);
  meta.uid = randomUUID();
  meta.creationTimestamp = timestamp();
  delete meta.deletionTimestamp;
  delete meta.deletionGracePeriodSeconds;
  if (def.custom) meta.generation = 1;
  else delete meta.generation;
  def.prepareForCreate?.(obj);
  return dryRun ? obj : store.write(qualifiedResource(def), key, obj).object;
}

function setOrDrop(obj: KubeObject, field: string, value: unknown): void {
  if (value === undefined) delete obj[field];
  else obj[field] = structuredClone(value);
}

/** Everything but metadata (and status, when /status owns it): what metadata.generation tracks. */
function generationContent(def: ResourceDef, obj: KubeObject): Record<string, unknown> {
  const { metadata: _m, status, ...rest } = obj;
  return def.statusSubresource ? rest : { ...rest, status };
}

export function updateObject(store: ObjectStore, def: ResourceDef, at: ObjectAddress, body: unknown, dryRun: boolean): KubeObject {
  const obj = decodeObject(def, body);
  const bodyName = obj.metadata.name ?? '';
  if (bodyName !== at.name) throw badRequest(`the name of the object (${bodyName}) does not match the name on the URL (${at.name})`);
  settleNamespace(def, obj, at.namespace);
  const resource = qualifiedResource(def);
  const key = objectKey(at.namespace, at.name);
  const current = store.get(resource, key);
  if (current === undefined) throw notFound(def, at.name);
  const rv = obj.metadata.resourceVersion ?? '';
  if (rv === '' && def.custom) {
    throw invalid(def, at.name, 'metadata.resourceVersion', 'FieldValueInvalid', 'Invalid value: 0x0: must be specified for an update');
  }
  if (rv !== '' && rv !== current.metadata.resourceVersion) throw conflict(def, at.name);
  const uid = obj.metadata.uid;
  if (uid && uid !== current.metadata.uid) {
    throw conflict(def, at.name, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${current.metadata.uid ?? ''}`);
  }

  let next: KubeObject;
  if (at.subresource === 'status') {
    next = structuredClone(current);
    setOrDrop(next, 'status', obj.status);
  } else {
    next = obj;
    keepServerOwned(next, current);
    if (def.statusSubresource) setOrDrop(next, 'status', current.status);
  }
  next.metadata.resourceVersion = current.metadata.resourceVersion;
  if (def.custom && !jsonEqual(generationContent(def, next), generationContent(def, current))) {
    next.metadata.generation = (current.metadata.generation ?? 0) + 1;
  }
  if (jsonEqual(next, current)) return current;
  // Removing the last finalizer from an object whose deletion is due completes the delete.
  const finishesDelete = next.metadata.deletionTimestamp !== undefined && (next.metadata.finalizers ?? []).length === 0
    && current.metadata.deletionGracePeriodSeconds === 0;
  if (dryRun) return next;
  return store.write(resource, key, finishesDelete ? undefined : next).object;
}
