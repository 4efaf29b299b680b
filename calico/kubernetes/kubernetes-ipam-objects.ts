// IPAMBlock and IPAMHandle objects exactly as Calico's KDD backend writes them
// (libcalico-go/lib/apis/v3/ipam_block.go, ipam_handle.go; calico.md §5), so calicoctl ipam
// check, kube-controllers' IPAM GC and calico-node read wren's allocations as their own.
//
// Block spec fields wren does not model (affinityClaimTime, attributes' alternateOwnerAttrs and
// releasedAt from newer Calico) ride along untouched in BlockData, so a write never drops them.
import type { Cidr } from '../../kernel/values.js';
import type { BlockData } from '../ipam/block-data.js';
import type { HandleData, Versioned } from '../ipam/store.js';
import { cidrName } from '../objects/names.js';
import { record, type KubeObject } from './kubernetes-client.js';
import { apiVersionOf, IPAMBLOCKS, IPAMHANDLES } from './kubernetes-resources.js';

/** A stored object as the IPAM store needs it: its value, and what a conditional delete needs. */
export interface Stored<T> extends Versioned<T> {
  readonly uid: string;
  readonly deleted: boolean;
}

export function blockName(cidr: string): string {
  return cidrName(cidr as Cidr);
}

/** IPAM handles are named by their ID in lower case (Calico's ipamHandleClient.parseKey). */
export function handleName(handleID: string): string {
  return handleID.toLowerCase();
}

export function blockObject(block: BlockData, revision?: string): KubeObject {
  const { cidr, affinity, allocations, unallocated, attributes, sequenceNumber, sequenceNumberForAllocation, deleted, strictAffinity, ...unmodelled } = block;
  // Go's omitempty: no affinity key at all for a block without one. Its claim time goes with it.
  const { affinityClaimTime, ...rest } = unmodelled as Record<string, unknown>;
  const spec = {
    cidr,
    ...(affinity ? { affinity, ...(affinityClaimTime === undefined ? {} : { affinityClaimTime }) } : {}),
    ...rest,
    allocations,
    unallocated,
    attributes,
    sequenceNumber: sequenceNumber ?? 0,
    sequenceNumberForAllocation: sequenceNumberForAllocation ?? {},
    deleted,
    strictAffinity: strictAffinity ?? false,
  };
  return { apiVersion: apiVersionOf(IPAMBLOCKS), kind: IPAMBLOCKS.kind, metadata: metadata(blockName(cidr), revision), spec };
}

export function readBlock(object: KubeObject): Stored<BlockData> {
  const { name, ...stored } = storedMeta(object);
  const spec = record(object.spec);
  const shapeless = (field: string) => new Error(`IPAMBlock ${name}: spec.${field} is not what Calico writes`);
  if (typeof spec.cidr !== 'string') throw shapeless('cidr');
  if (!Array.isArray(spec.allocations) || !spec.allocations.every((a) => a === null || Number.isInteger(a))) throw shapeless('allocations');
  if (!Array.isArray(spec.unallocated) || !spec.unallocated.every(Number.isInteger)) throw shapeless('unallocated');
  if (spec.attributes != null && !Array.isArray(spec.attributes)) throw shapeless('attributes');
  const copy = structuredClone(spec);
  const value = { ...copy, attributes: copy.attributes ?? [], deleted: copy.deleted === true } as unknown as BlockData;
  return { ...stored, value, deleted: value.deleted };
}

export function handleObject(handle: HandleData, deleted: boolean, revision?: string): KubeObject {
  const spec = { handleID: handle.handleID, block: handle.block, deleted };
  return { apiVersion: apiVersionOf(IPAMHANDLES), kind: IPAMHANDLES.kind, metadata: metadata(handleName(handle.handleID), revision), spec };
}

export function readHandle(object: KubeObject): Stored<HandleData> {
  const { name, ...stored } = storedMeta(object);
  const spec = record(object.spec);
  if (typeof spec.handleID !== 'string') throw new Error(`IPAMHandle ${name}: spec.handleID is not a string`);
  const block: Record<string, number> = {};
  for (const [cidr, count] of Object.entries(record(spec.block))) {
    if (!Number.isInteger(count)) throw new Error(`IPAMHandle ${name}: spec.block[${JSON.stringify(cidr)}] is not a count`);
    block[cidr] = count as number;
  }
  return { ...stored, value: { handleID: spec.handleID, block }, deleted: spec.deleted === true };
}

export function metadata(name: string, revision: string | undefined, labels?: Record<string, string>): Record<string, unknown> {
  return { name, ...(labels === undefined ? {} : { labels }), ...(revision === undefined ? {} : { resourceVersion: revision }) };
}

/** Name, resourceVersion and uid, which every object the API server returns has. */
export function storedMeta(object: KubeObject): { name: string; revision: string; uid: string } {
  const meta = record(object.metadata);
  const name = typeof meta.name === 'string' ? meta.name : '(unnamed)';
  if (typeof meta.resourceVersion !== 'string' || typeof meta.uid !== 'string') {
    throw new Error(`${String(object.kind)} ${name}: the API server returned it without resourceVersion and uid`);
  }
  return { name, revision: meta.resourceVersion, uid: meta.uid };
}
