// Test-side writes that bypass the API (as if another component wrote to etcd): apply() upserts an
// object as given, status and deletionTimestamp included, with no concurrency check; remove()
// deletes at once, finalizers or not. Both produce the same revisions and watch events as API
// writes, and an apply that changes nothing writes nothing.
import { randomUUID } from 'node:crypto';
import type { KubeObject } from './types.js';
import type { ObjectStore } from './store.js';
import type { Registry } from './registry.js';
import { qualifiedResource } from './resources.js';
import { objectKey, timestamp } from './store.js';
import { decodeObject, settleNamespace, validateName } from './object-meta.js';
import { jsonEqual } from './json.js';

export function applyObject(store: ObjectStore, registry: Registry, obj: KubeObject): KubeObject {
  if (typeof obj.kind !== 'string') throw new Error('kube-api-double apply(): the object needs a kind');
  const def = registry.forKind(obj.kind, obj.apiVersion);
  const next = decodeObject(def, obj);
  settleNamespace(def, next, def.namespaced ? next.metadata.namespace || 'default' : undefined);
  const name = next.metadata.name ?? '';
  validateName(def, name);
  const resource = qualifiedResource(def);
  const key = objectKey(next.metadata.namespace, name);
  const current = store.get(resource, key);
  next.metadata.uid = current?.metadata.uid ?? randomUUID();
  next.metadata.creationTimestamp = current?.metadata.creationTimestamp ?? timestamp();
  next.metadata.resourceVersion = current?.metadata.resourceVersion;
  if (def.custom) {
    const { metadata: _a, ...was } = current ?? { metadata: {} };
    const { metadata: _b, ...now } = next;
    const generation = current?.metadata.generation ?? 0;
    next.metadata.generation = current !== undefined && jsonEqual(was, now) ? generation : generation + 1;
  }
  if (current !== undefined && jsonEqual(current, next)) return current;
  return store.write(resource, key, next).object;
}

export function removeObject(store: ObjectStore, registry: Registry, kind: string, name: string, namespace?: string): KubeObject | undefined {
  const def = registry.forKind(kind);
  const ns = def.namespaced ? namespace ?? 'default' : undefined;
  const resource = qualifiedResource(def);
  const key = objectKey(ns, name);
  if (store.get(resource, key) === undefined) return undefined;
  return store.write(resource, key, undefined).object;
}

export function readObject(store: ObjectStore, registry: Registry, kind: string, name: string, namespace?: string): KubeObject | undefined {
  const def = registry.forKind(kind);
  return store.get(qualifiedResource(def), objectKey(def.namespaced ? namespace ?? 'default' : undefined, name));
}

export function listKind(store: ObjectStore, registry: Registry, kind: string): KubeObject[] {
  return store.current(qualifiedResource(registry.forKind(kind))).map(([, obj]) => obj);
}
