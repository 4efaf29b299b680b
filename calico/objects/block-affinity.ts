// BlockAffinity → BlockAffinity (calico.md §5; `libcalico-go/lib/backend/k8s/resources/ipam_affinity_v1.go`).
//
// KDD v1 stores `deleted` as the string "true"/"false"; the v3 shape and etcd use a boolean, so
// both are accepted. A deleted affinity is ignored, as is a `virtual` one (no node to route to);
// a missing `type` reads as `host`. The etcd value holds only state and deleted, with node and
// CIDR in the key; the etcd reader fills them in and calls convertBlockAffinity.
import type { JSONSchemaType } from 'ajv';
import { AFFINITY_STATES, type AffinityState, type BlockAffinity } from '../../routing/cluster.js';
import type { KubeObject, ParseResult } from './api.js';
import { parseBlockCidr } from './block-cidr.js';
import { readMetadata } from './metadata.js';
import { isObjectName, NAME_RULE, sharedName } from './names.js';
import { describeValue, ignored, invalid, ok, type ObjectRef } from './results.js';
import { check, compileSchema, joinPath } from './schema.js';

export const AFFINITY_TYPES = ['host', 'virtual'] as const;
export type AffinityType = (typeof AFFINITY_TYPES)[number];

export interface BlockAffinitySpecRaw {
  state: AffinityState;
  node: string;
  cidr: string;
  type?: AffinityType | null;
  deleted?: 'true' | 'false' | boolean | null;
}

export const BLOCK_AFFINITY_SPEC_SCHEMA: JSONSchemaType<BlockAffinitySpecRaw> = {
  type: 'object',
  properties: {
    state: { type: 'string', enum: AFFINITY_STATES },
    node: { type: 'string' },
    cidr: { type: 'string' },
    type: { type: 'string', enum: [...AFFINITY_TYPES, null], nullable: true },
    deleted: { type: ['string', 'boolean'], enum: ['true', 'false', true, false, null], nullable: true },
  },
  required: ['state', 'node', 'cidr'],
};
const validateSpec = compileSchema(BLOCK_AFFINITY_SPEC_SCHEMA);

export function parseBlockAffinity(raw: KubeObject): ParseResult {
  const meta = readMetadata(raw, { kind: 'BlockAffinity', sourceKind: 'BlockAffinity', namespaced: false });
  if (!meta.ok) return meta.result;
  return convertBlockAffinity(meta.ref, meta.name, raw.spec, 'spec');
}

export function convertBlockAffinity(ref: ObjectRef, name: string, spec: unknown, at: string): ParseResult {
  const checked = check(validateSpec, spec, at);
  if (!checked.ok) return invalid(ref, checked.field, checked.message);
  const raw = checked.value;
  if (raw.deleted === true || raw.deleted === 'true') return ignored(ref, 'affinity is marked deleted');
  if (raw.type === 'virtual') return ignored(ref, 'virtual affinity: no node to route to');
  if (!isObjectName(raw.node)) return invalid(ref, joinPath(at, 'node'), `${NAME_RULE}, got ${describeValue(raw.node)}`);
  const parsed = parseBlockCidr(raw.cidr);
  if ('message' in parsed) return invalid(ref, joinPath(at, 'cidr'), parsed.message);
  const value: BlockAffinity = { name, node: sharedName(raw.node), cidr: parsed.cidr, state: raw.state };
  return ok({ kind: 'BlockAffinity', key: ref.key, value });
}
