// An IPAM block as Calico stores it (the same keys in etcd's JSON and in the KDD IPAMBlock
// spec), and the pure operations Calico's IPAM performs on it. Keeping Calico's exact layout —
// `allocations` indexing into `attributes`, the `unallocated` FIFO, sequence numbers — is what
// lets Calico's own tools (calicoctl ipam check/show, kube-controllers' GC) read wren's writes.
import type { Cidr, IpAddr } from '../../kernel/values.js';
import { cidrSize, familyOf, ipToBigInt, addressOf, nthAddress } from '../../kernel/values.js';

export interface AllocationAttribute {
  handle_id?: string;
  secondary?: Record<string, string>;
}

export interface BlockData {
  cidr: string;
  affinity?: string | null;
  allocations: (number | null)[];
  unallocated: number[];
  attributes: AllocationAttribute[];
  sequenceNumber?: number;
  sequenceNumberForAllocation?: Record<string, number>;
  deleted: boolean;
  strictAffinity?: boolean;
}

export function emptyBlock(cidr: Cidr, host: string): BlockData {
  const size = Number(cidrSize(cidr));
  return {
    cidr,
    affinity: `host:${host}`,
    allocations: new Array<number | null>(size).fill(null),
    unallocated: Array.from({ length: size }, (_, i) => i),
    attributes: [],
    sequenceNumber: 0,
    sequenceNumberForAllocation: {},
    deleted: false,
    strictAffinity: false,
  };
}

export function ordinalOf(block: BlockData, ip: IpAddr): number | undefined {
  const cidr = block.cidr as Cidr;
  if (familyOf(cidr) !== familyOf(ip)) return undefined;
  const offset = ipToBigInt(ip) - ipToBigInt(addressOf(cidr));
  return offset >= 0n && offset < BigInt(block.allocations.length) ? Number(offset) : undefined;
}

export function freeCount(block: BlockData): number {
  return block.unallocated.length;
}

/**
 * Takes up to `count` addresses from the head of the free list, recording one attribute entry
 * (shared by all of them, as Calico does) with the handle and secondary attributes.
 */
export function allocate(block: BlockData, count: number, handle: string, secondary: Record<string, string>): { block: BlockData; ips: IpAddr[] } {
  const take = block.unallocated.slice(0, count);
  if (take.length === 0) return { block, ips: [] };
  const attributes = [...block.attributes, { handle_id: handle, secondary: { ...secondary } }];
  const attrIndex = attributes.length - 1;
  const allocations = [...block.allocations];
  const sequenceNumberForAllocation = { ...(block.sequenceNumberForAllocation ?? {}) };
  let seq = block.sequenceNumber ?? 0;
  for (const ordinal of take) {
    allocations[ordinal] = attrIndex;
    sequenceNumberForAllocation[String(ordinal)] = seq;
    seq += 1;
  }
  return {
    block: { ...block, allocations, attributes, unallocated: block.unallocated.slice(take.length), sequenceNumber: seq, sequenceNumberForAllocation },
    ips: take.map((o) => nthAddress(block.cidr as Cidr, o)),
  };
}

/** Frees the given addresses (free list tail, FIFO) and drops attribute entries nobody uses. */
export function release(block: BlockData, ips: readonly IpAddr[]): { block: BlockData; released: IpAddr[]; handles: Map<string, number> } {
  const allocations = [...block.allocations];
  const unallocated = [...block.unallocated];
  const sequenceNumberForAllocation = { ...(block.sequenceNumberForAllocation ?? {}) };
  const released: IpAddr[] = [];
  const handles = new Map<string, number>();
  for (const ip of ips) {
    const ordinal = ordinalOf(block, ip);
    if (ordinal === undefined) continue;
    const attr = allocations[ordinal];
    if (attr === null || attr === undefined) continue;
    const handle = block.attributes[attr]?.handle_id;
    if (handle !== undefined) handles.set(handle, (handles.get(handle) ?? 0) + 1);
    allocations[ordinal] = null;
    unallocated.push(ordinal);
    delete sequenceNumberForAllocation[String(ordinal)];
    released.push(ip);
  }
  return { block: compactAttributes({ ...block, allocations, unallocated, sequenceNumberForAllocation }), released, handles };
}

/** Addresses in the block allocated under a handle. */
export function ipsOfHandle(block: BlockData, handle: string): IpAddr[] {
  const out: IpAddr[] = [];
  block.allocations.forEach((attr, ordinal) => {
    if (attr !== null && block.attributes[attr]?.handle_id === handle) out.push(nthAddress(block.cidr as Cidr, ordinal));
  });
  return out;
}

export function isEmpty(block: BlockData): boolean {
  return block.allocations.every((a) => a === null);
}

function compactAttributes(block: BlockData): BlockData {
  const used = new Set(block.allocations.filter((a): a is number => a !== null));
  if (used.size === block.attributes.length) return block;
  const remap = new Map<number, number>();
  const attributes: AllocationAttribute[] = [];
  block.attributes.forEach((attr, index) => {
    if (!used.has(index)) return;
    remap.set(index, attributes.length);
    attributes.push(attr);
  });
  return { ...block, attributes, allocations: block.allocations.map((a) => (a === null ? null : (remap.get(a) ?? null))) };
}
