// Request-body checks and the metadata rules of the apiserver's generic registry
// (rest.BeforeCreate / rest.BeforeUpdate): type meta must match the URL, names are RFC 1123
// subdomains, and uid, creationTimestamp, deletionTimestamp and generation belong to the server.
import type { KubeObject, ObjectMeta } from './types.js';
import type { ResourceDef } from './resources.js';
import { apiVersionOf } from './resources.js';
import { badRequest, invalid } from './status.js';
import { isPlainObject } from './json.js';

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function checkStringMap(meta: ObjectMeta, field: 'labels' | 'annotations'): void {
  const map = meta[field];
  if (map === undefined || map === null) return;
  if (!isPlainObject(map)) throw badRequest(`json: cannot unmarshal ${typeof map} into Go struct field ObjectMeta.metadata.${field} of type map[string]string`);
  for (const value of Object.values(map)) {
    if (typeof value !== 'string') throw badRequest(`json: cannot unmarshal ${typeof value} into Go struct field ObjectMeta.metadata.${field} of type string`);
  }
}

/** Decodes a request body as an object of `def`'s type, filling in kind/apiVersion. */
export function decodeObject(def: ResourceDef, body: unknown): KubeObject {
  if (!isPlainObject(body)) throw badRequest('the body of the request must be a JSON object');
  const obj = structuredClone(body) as KubeObject;
  // Custom resources decode as unstructured data, which needs its type meta spelled out.
  if (def.custom && typeof obj.kind !== 'string') throw badRequest(`Object 'Kind' is missing in '${JSON.stringify(body)}'`);
  if (def.custom && typeof obj.apiVersion !== 'string') throw badRequest(`Object 'apiVersion' is missing in '${JSON.stringify(body)}'`);
  if (obj.apiVersion !== undefined && obj.apiVersion !== apiVersionOf(def)) {
    throw badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${apiVersionOf(def)})`);
  }
  if (obj.kind !== undefined && obj.kind !== def.kind) {
    throw badRequest(`the kind in the data (${String(obj.kind)}) does not match the expected kind (${def.kind})`);
  }
  if (obj.metadata === undefined) obj.metadata = {};
  if (!isPlainObject(obj.metadata)) throw badRequest('json: cannot unmarshal metadata into Go struct field of type v1.ObjectMeta');
  checkStringMap(obj.metadata, 'labels');
  checkStringMap(obj.metadata, 'annotations');
  obj.kind = def.kind;
  obj.apiVersion = apiVersionOf(def);
  return obj;
}

export function validateName(def: ResourceDef, name: string): void {
  if (name.length > 253 || !SUBDOMAIN.test(name)) {
    throw invalid(def, name, 'metadata.name', 'FieldValueInvalid',
      `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`);
  }
}

/** The path's namespace wins; a conflicting one in the body is a 400, and cluster-scoped objects have none. */
export function settleNamespace(def: ResourceDef, obj: KubeObject, namespace: string | undefined): void {
  if (!def.namespaced) {
    delete obj.metadata.namespace;
    return;
  }
  const claimed = obj.metadata.namespace;
  if (claimed !== undefined && claimed !== '' && claimed !== namespace) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  obj.metadata.namespace = namespace;
}

const SERVER_OWNED = ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'] as const;

/** Copies the fields clients may not change from the stored object onto `next`. */
export function keepServerOwned(next: KubeObject, current: KubeObject): void {
  for (const field of SERVER_OWNED) {
    if (current.metadata[field] === undefined) delete next.metadata[field];
    else next.metadata[field] = current.metadata[field] as never;
  }
}
