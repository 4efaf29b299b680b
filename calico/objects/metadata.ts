// `metadata.name` (and `metadata.namespace`) of any object: validated first, because every
// problem about the object is filed under its name and every snapshot entry under its key.
import type { JSONSchemaType } from 'ajv';
import type { KubeObject, ObjectKind, ParseResult } from './api.js';
import { isNamespace, isObjectName, NAME_RULE, NAMESPACE_RULE } from './names.js';
import { invalid, isRecord, quote, type ObjectRef } from './results.js';
import { check, compileSchema } from './schema.js';

export interface MetadataRaw {
  name: string;
  namespace?: string | null;
}

const METADATA_SCHEMA: JSONSchemaType<MetadataRaw> = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    namespace: { type: 'string', nullable: true },
  },
  required: ['name'],
};
const validateMetadata = compileSchema(METADATA_SCHEMA);

/** What kind of object is being read, so its key and problems can be named. */
export interface SourceKind {
  readonly kind: ObjectKind;
  readonly sourceKind: string;
  readonly namespaced: boolean;
}

export type Metadata =
  | { readonly ok: true; readonly ref: ObjectRef; readonly name: string; readonly namespace: string }
  | { readonly ok: false; readonly result: ParseResult };

/** Kubernetes' default for a namespaced object that does not say. */
export const DEFAULT_NAMESPACE = 'default';

export function namespacedKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export function refFor(source: SourceKind, name: string, namespace = ''): ObjectRef {
  const display = source.namespaced ? namespacedKey(namespace, name) : name;
  return { kind: source.kind, sourceKind: source.sourceKind, key: display, name: display };
}

export function readMetadata(raw: KubeObject, source: SourceKind): Metadata {
  const metadata = isRecord(raw.metadata) ? raw.metadata : undefined;
  // Until a name is known good, the object is filed under a quoted, escaped form of it.
  const shown = (text: unknown, valid: (t: string) => boolean, fallback: string) =>
    typeof text !== 'string' ? fallback : valid(text) ? text : quote(text);
  const name = shown(metadata?.name, isObjectName, '(unnamed)');
  const namespace = shown(metadata?.namespace ?? DEFAULT_NAMESPACE, isNamespace, DEFAULT_NAMESPACE);
  const ref = refFor(source, name, namespace);
  const checked = check(validateMetadata, raw.metadata, 'metadata');
  if (!checked.ok) return { ok: false, result: invalid(ref, checked.field, checked.message) };
  const valid = { name: checked.value.name, namespace: checked.value.namespace ?? DEFAULT_NAMESPACE };
  if (source.namespaced && !isNamespace(valid.namespace)) {
    return { ok: false, result: invalid(ref, 'metadata.namespace', `${NAMESPACE_RULE}, got ${namespace}`) };
  }
  if (!isObjectName(valid.name)) return { ok: false, result: invalid(ref, 'metadata.name', `${NAME_RULE}, got ${name}`) };
  return { ok: true, ref, ...valid };
}

/**
 * `metadata.creationTimestamp` as ISO 8601, when it is a valid time: the API server writes it, and
 * it decides which of two objects claiming one thing is older. A bad one is no fact, not an error.
 */
export function creationTimestamp(metadata: unknown): string | undefined {
  const text = isRecord(metadata) ? metadata.creationTimestamp : undefined;
  if (typeof text !== 'string') return undefined;
  const time = Date.parse(text);
  return Number.isNaN(time) ? undefined : new Date(time).toISOString();
}
