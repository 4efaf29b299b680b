// Checks blocks against each other and against pools before any route is made from them.
//
// Blocks are aligned prefixes, so two blocks overlap only when one contains the other. After
// sorting by start address, an overlap is a block that starts before the end of the last kept
// one. The first in (address, name) order is kept and the other is rejected, deterministically,
// so a bad block never takes routes away from the good one it collides with.
import type { Cidr } from '../kernel/values.js';
import { addressOf, cidrContains, cidrSize, familyOf, ipToBigInt, ipv4ToNumber, prefixLength } from '../kernel/values.js';
import type { BlockAffinity, IpamBlock, IpPool, ObjectProblem, ProblemReason } from './cluster.js';

export interface IndexedBlock {
  readonly block: IpamBlock;
  readonly pool: IpPool;
}

export function indexBlocks(
  blocks: readonly IpamBlock[],
  pools: readonly IpPool[],
): { blocks: IndexedBlock[]; problems: ObjectProblem[]; overlapping: number; unpooled: IpamBlock[] } {
  const problems: ObjectProblem[] = [];
  const kept: IndexedBlock[] = [];
  const unpooled: IpamBlock[] = [];
  let overlapping = 0;
  const byLength = poolsBySpecificity(pools);
  // IPv4 starts are plain numbers (BigInt arithmetic on 100,000 blocks costs tenths of a second).
  const sorted = blocks
    .map((block) => ({ block, start: startOf(block.cidr), family: familyOf(block.cidr) }))
    .sort((a, b) => a.family - b.family || (a.start < b.start ? -1 : a.start > b.start ? 1 : 0) || (a.block.name < b.block.name ? -1 : 1));
  let last: { cidr: Cidr; name: string; end: number | bigint; family: number } | undefined;
  for (const { block, start, family } of sorted) {
    if (last !== undefined && last.family === family && start < last.end) {
      problems.push(problem(block, 'spec.cidr', `overlaps IPAMBlock ${last.name} (${last.cidr})`, 'overlap'));
      overlapping += 1;
      continue;
    }
    last = { cidr: block.cidr, name: block.name, end: endOf(block.cidr, start), family };
    const pool = poolOf(block.cidr, byLength);
    if (pool === undefined) {
      problems.push(notInPool(block));
      unpooled.push(block);
      continue;
    }
    kept.push({ block, pool });
  }
  return { blocks: kept, problems, overlapping, unpooled };
}

/**
 * Affinities say which blocks a node may blackhole. Pending ones count as absent (Calico's
 * claim is not finished); two live affinities on one block are a conflict: the block's own
 * `affinity` field decides, and the affinity objects that disagree with it are reported.
 */
export function affinityStatus(block: IpamBlock, affinities: readonly BlockAffinity[] | undefined): { pending: boolean; problems: ObjectProblem[] } {
  const problems: ObjectProblem[] = [];
  if (affinities === undefined || affinities.length === 0) return { pending: false, problems };
  const live = affinities.filter((a) => a.state !== 'pending');
  const pending = affinities.some((a) => a.state === 'pending' && a.node === block.affinityNode) && !live.some((a) => a.node === block.affinityNode);
  if (live.length > 1) {
    for (const a of live.filter((x) => x.node !== block.affinityNode).sort((x, y) => (x.name < y.name ? -1 : 1))) {
      problems.push({
        kind: 'BlockAffinity',
        name: a.name,
        field: 'spec.node',
        message: `second affinity for block ${block.cidr}: the block is affine to ${block.affinityNode ?? 'no node'}`,
        reason: 'affinity',
      });
    }
  }
  return { pending, problems };
}

/** Affinities grouped by the block CIDR they name. */
export function affinitiesByCidr(affinities: readonly BlockAffinity[]): Map<string, BlockAffinity[]> {
  const byCidr = new Map<string, BlockAffinity[]>();
  for (const a of affinities) {
    const list = byCidr.get(a.cidr);
    if (list === undefined) byCidr.set(a.cidr, [a]);
    else list.push(a);
  }
  return byCidr;
}

/** Pools, most specific first: a block in nested pools belongs to the innermost one. */
export function poolsBySpecificity(pools: readonly IpPool[]): IpPool[] {
  return [...pools].sort((a, b) => prefixLength(b.cidr) - prefixLength(a.cidr) || (a.name < b.name ? -1 : 1));
}

export function poolOf(cidr: Cidr, bySpecificity: readonly IpPool[]): IpPool | undefined {
  return bySpecificity.find((p) => cidrContains(p.cidr, addressOf(cidr)) && prefixLength(p.cidr) <= prefixLength(cidr));
}

function startOf(cidr: Cidr): number | bigint {
  const ip = addressOf(cidr);
  return familyOf(cidr) === 4 ? ipv4ToNumber(ip) : ipToBigInt(ip);
}

function endOf(cidr: Cidr, start: number | bigint): number | bigint {
  return typeof start === 'number' ? start + 2 ** (32 - prefixLength(cidr)) : start + cidrSize(cidr);
}

/**
 * The name Calico gives a block: its CIDR with `.`, `:` and `/` made `-` (libcalico-go's
 * names.CIDRToName; the etcd key holds the CIDR itself). No two blocks of Calico's share one.
 */
export function calicoBlockName(cidr: Cidr): string {
  // split + join, not replace: a flat string (see calico/objects/names.ts, flatJoin), and faster.
  return cidr.split(/[.:/]/).join('-');
}

/** Whether `name` is calicoBlockName(cidr), compared in place: no string per block (100,000 a full pass). */
export function isCalicoBlockName(name: string, cidr: Cidr): boolean {
  if (name.length !== cidr.length) return false;
  for (let i = 0; i < cidr.length; i++) {
    const c = cidr.charCodeAt(i);
    const want = c === 46 || c === 58 || c === 47 ? 45 : c; // '.', ':', '/' → '-'
    if (name.charCodeAt(i) !== want) return false;
  }
  return true;
}

export function notInPool(block: IpamBlock): ObjectProblem {
  return problem(block, 'spec.cidr', 'is not inside any IPPool', 'outside-pool');
}

function problem(block: IpamBlock, field: string, message: string, reason: ProblemReason): ObjectProblem {
  return { kind: 'IPAMBlock', name: block.name, field, message, reason };
}
