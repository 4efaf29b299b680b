// IPAMBlock → IpamBlock (calico.md §5; `libcalico-go/lib/apis/internalapi/ipam_block.go`).
//
// `allocations[n]` is null for a free ordinal, or an index into `attributes`, whose `handle_id`
// and `secondary.node` say who holds address n of the block. The etcd value of
// `/calico/ipam/v2/assignment/…/block/…` has the same fields at its root, so both datastores go
// through convertIpamBlock with a different base path.
//
// A soft-deleted block (`deleted: true`, the first step of Calico's two-step delete) is ignored,
// as Calico's readers skip it. Every owner node and handle the allocations refer to must be valid
// or the block is rejected: an owner wren cannot trust would route a borrowed address to the
// wrong place.
//
// Kept are the allocations that route apart from the block — an address owned by another node
// than the block's (borrowed), or owned by no node in a block affine to none (reported) — and those
// the meaning checks need (routing/admission.ts): every tunnel address (its handle says whose it
// is), and, for the node the picture is read for (`AllocationDetail`), every allocation of its own
// blocks and every one naming it, with the pod it was given to. Any other address of a block's own
// node goes wherever the block goes, so it adds no route; in a real cluster that is nearly every
// address, and at 100,000 blocks keeping them all was most of the agent's memory. A change to
// those alone is no change to the snapshot.
import type { JSONSchemaType } from 'ajv';
import type { Cidr } from '../../kernel/values.js';
import { cidrSize, nthAddress, prefixLength } from '../../kernel/values.js';
import { isTunnelHandle, type Allocation, type IpamBlock } from '../../routing/cluster.js';
import type { KubeObject, ParseResult } from './api.js';
import { parseBlockCidr } from './block-cidr.js';
import { readMetadata } from './metadata.js';
import { HANDLE_RULE, isHandle, isNamespace, isObjectName, NAME_RULE, sharedName } from './names.js';
import { describeValue, ignored, invalid, ok, type ObjectRef } from './results.js';
import { check, compileSchema, joinPath } from './schema.js';

export interface BlockAttributeRaw {
  handle_id?: string | null;
  /** A string map (pod, namespace, node, timestamp, type); wren reads `node`, `namespace` and `pod`. */
  secondary?: { node?: string | null; namespace?: string | null; pod?: string | null } | null;
}

export interface IpamBlockSpecRaw {
  cidr: string;
  affinity?: string | null;
  allocations: (number | null)[];
  attributes?: BlockAttributeRaw[] | null;
  deleted?: boolean | null;
}

export const IPAM_BLOCK_SPEC_SCHEMA: JSONSchemaType<IpamBlockSpecRaw> = {
  type: 'object',
  properties: {
    cidr: { type: 'string' },
    affinity: { type: 'string', nullable: true },
    allocations: { type: 'array', items: { type: 'integer', minimum: 0, nullable: true } },
    attributes: {
      type: 'array',
      nullable: true,
      items: {
        type: 'object',
        properties: {
          handle_id: { type: 'string', nullable: true },
          secondary: {
            type: 'object',
            nullable: true,
            properties: { node: { type: 'string', nullable: true }, namespace: { type: 'string', nullable: true }, pod: { type: 'string', nullable: true } },
            required: [],
          },
        },
        required: [],
      },
    },
    deleted: { type: 'boolean', nullable: true },
  },
  required: ['cidr', 'allocations'],
};
const validateSpec = compileSchema(IPAM_BLOCK_SPEC_SCHEMA);

/**
 * Whose allocations a parse keeps in full, with the pod or handle holding each: every node's (a
 * dump meant for any node, tests), or one node's (an agent, or a command run for `--node`).
 */
export type AllocationDetail = 'all' | { readonly node: string };

export function parseIpamBlock(raw: KubeObject, detail: AllocationDetail = 'all'): ParseResult {
  const meta = readMetadata(raw, { kind: 'IPAMBlock', sourceKind: 'IPAMBlock', namespaced: false });
  if (!meta.ok) return meta.result;
  return convertIpamBlock(meta.ref, meta.name, raw.spec, 'spec', detail);
}

/** `spec` is the block's fields, found at path `at` (`'spec'` in Kubernetes, `''` in etcd). */
export function convertIpamBlock(ref: ObjectRef, name: string, spec: unknown, at: string, detail: AllocationDetail = 'all'): ParseResult {
  const checked = check(validateSpec, spec, at);
  if (!checked.ok) return invalid(ref, checked.field, checked.message);
  const raw = checked.value;
  if (raw.deleted === true) return ignored(ref, 'block is marked deleted: true');

  const parsed = parseBlockCidr(raw.cidr);
  if ('message' in parsed) return invalid(ref, joinPath(at, 'cidr'), parsed.message);
  const { cidr } = parsed;

  const affinity = parseAffinity(raw.affinity);
  if (affinity !== undefined && 'message' in affinity) return invalid(ref, joinPath(at, 'affinity'), affinity.message);

  const size = cidrSize(cidr);
  if (BigInt(raw.allocations.length) !== size) {
    return invalid(ref, joinPath(at, 'allocations'), `has ${raw.allocations.length} entries; a /${prefixLength(cidr)} block has ${size} addresses`);
  }
  const allocations = readAllocations(cidr, raw, affinity?.node, at, detail);
  if ('field' in allocations) return invalid(ref, allocations.field, allocations.message);

  const value: IpamBlock = affinity === undefined ? { name, cidr, allocations } : { name, cidr, affinityNode: affinity.node, allocations };
  return ok({ kind: 'IPAMBlock', key: ref.key, value });
}

/** `host:<node>` → that node; `virtual:<name>` or none → no affine node. */
function parseAffinity(text: string | null | undefined): { node: string } | { message: string } | undefined {
  if (text === null || text === undefined || text.startsWith('virtual:')) return undefined;
  if (!text.startsWith('host:')) return { message: `must be "host:<node>" or "virtual:<name>", got ${describeValue(text)}` };
  const node = text.slice('host:'.length);
  return isObjectName(node) ? { node: sharedName(node) } : { message: `names node ${describeValue(node)}, which ${NAME_RULE}` };
}

type Owner = Omit<Allocation, 'ip'>;
type Failure = { readonly field: string; readonly message: string };

/** Shared by every block with nothing routed apart (nearly all of them). */
const NONE: readonly Allocation[] = Object.freeze([]);

/** The allocations that route apart from the block or that the checks need (see the top of this file), checked. */
function readAllocations(cidr: Cidr, raw: IpamBlockSpecRaw, home: string | undefined, at: string, detail: AllocationDetail): readonly Allocation[] | Failure {
  const detailed = detail === 'all' || home === detail.node;
  const mine = detail === 'all' ? undefined : detail.node;
  const attributes = raw.attributes ?? [];
  const attributesAt = joinPath(at, 'attributes');
  // Many ordinals share one attribute (one per handle); each is checked once.
  const owners: (Owner | Failure | undefined)[] = [];
  let kept: Allocation[] | undefined;
  for (let ordinal = 0; ordinal < raw.allocations.length; ordinal++) {
    const index = raw.allocations[ordinal];
    if (index === null || index === undefined) continue;
    const attribute = attributes[index];
    if (attribute === undefined) {
      return { field: joinPath(joinPath(at, 'allocations'), ordinal), message: `refers to attribute ${index}, but ${attributesAt} has ${attributes.length} entries` };
    }
    const owner = (owners[index] ??= readOwner(attribute, joinPath(attributesAt, index)));
    if ('field' in owner) return owner;
    const routesApart = owner.node === undefined ? home === undefined : owner.node !== home;
    if (!routesApart && !detailed && owner.node !== mine && !isTunnelHandle(owner.handle)) continue;
    (kept ??= []).push({ ip: nthAddress(cidr, ordinal), ...owner });
  }
  return kept ?? NONE;
}

function readOwner(attribute: BlockAttributeRaw, at: string): Owner | Failure {
  // Calico writes "" for an unknown owner (Go's zero value), so empty means absent.
  const node = attribute.secondary?.node ?? '';
  const handle = attribute.handle_id ?? '';
  if (node !== '' && !isObjectName(node)) return { field: `${at}.secondary.node`, message: `${NAME_RULE}, got ${describeValue(node)}` };
  if (handle !== '' && !isHandle(handle)) return { field: `${at}.handle_id`, message: `${HANDLE_RULE}, got ${describeValue(handle)}` };
  // The pod is only ever compared with a workload's own (valid) name: a malformed one matches none.
  const namespace = attribute.secondary?.namespace;
  const pod = attribute.secondary?.pod;
  return {
    ...(node === '' ? {} : { node: sharedName(node) }),
    ...(handle === '' ? {} : { handle }),
    ...(isNamespace(namespace) && isObjectName(pod) ? { namespace: sharedName(namespace), pod } : {}),
  };
}


