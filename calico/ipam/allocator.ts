// A Calico-compatible IPAM allocator (libcalico-go/lib/ipam semantics) over any IpamStore.
//
// assign: first from the node's affine blocks; then by claiming a free block of an eligible
// pool (affinity `pending` → block created with `host:<node>` → affinity `confirmed`, the same
// three steps as Calico, so a crash in between leaves what Calico's GC knows how to clean up);
// then, affinity not being strict, by borrowing a free address from another node's block.
// Every write is compare-and-swap and retried on conflict: two allocators never hand out one
// address twice, and a handle's count always matches its blocks.
import { createHash } from 'node:crypto';
import type { Cidr, IpAddr } from '../../kernel/values.js';
import { cidrContains, familyOf, nthAddress, parseIp, prefixLength } from '../../kernel/values.js';
import type { IpPool } from '../../routing/cluster.js';
import { allocate, emptyBlock, freeCount, ipsOfHandle, isEmpty, release, type BlockData } from './block-data.js';
import type { AffinityData, IpamStore, Versioned } from './store.js';

export interface AssignRequest {
  readonly node: string;
  readonly count: number;
  readonly handle: string;
  /** Calico's secondary attributes: node, pod, namespace, type, timestamp. */
  readonly attributes: Readonly<Record<string, string>>;
  /** Pools to allocate from, in order of preference (already filtered for family and use). */
  readonly pools: readonly IpPool[];
}

export class IpamError extends Error {
  override readonly name = 'IpamError';
}

const MAX_RETRIES = 20;

export class IpamAllocator {
  constructor(private readonly store: IpamStore, private readonly options: { strictAffinity?: boolean } = {}) {}

  async assign(req: AssignRequest): Promise<IpAddr[]> {
    const pools = req.pools.filter((p) => !p.disabled);
    if (pools.length === 0) throw new IpamError(`no enabled IP pool to allocate ${req.handle} from`);
    const ips: IpAddr[] = [];
    const want = () => req.count - ips.length;

    for (const affinity of await this.confirmedAffinities(req.node, pools)) {
      if (want() === 0) break;
      for (const ip of await this.assignFromBlock(affinity.cidr, want(), req)) ips.push(ip);
    }
    while (want() > 0) {
      const claimed = await this.claimBlock(req.node, pools);
      if (claimed === undefined) break;
      for (const ip of await this.assignFromBlock(claimed, want(), req)) ips.push(ip);
    }
    if (want() > 0 && !this.options.strictAffinity) {
      for (const block of await this.store.listBlocks()) {
        if (want() === 0) break;
        if (block.value.deleted || freeCount(block.value) === 0 || !inPools(block.value.cidr, pools)) continue;
        for (const ip of await this.assignFromBlock(block.value.cidr, want(), req)) ips.push(ip);
      }
    }
    if (want() > 0) {
      await this.releaseIps(ips);
      throw new IpamError(`pools ${pools.map((p) => p.cidr).join(', ')} have no ${req.count} free address(es) for ${req.handle}`);
    }
    return ips;
  }

  /** The blocks a node holds a confirmed affinity for. */
  async affinitiesOf(node: string): Promise<string[]> {
    return (await this.store.listAffinities(node)).filter((a) => a.value.state === 'confirmed').map((a) => a.value.cidr).sort();
  }

  /** The addresses a handle holds (for idempotent re-registration). */
  async addressesOf(handle: string): Promise<IpAddr[]> {
    const h = await this.store.getHandle(handle);
    if (h === undefined) return [];
    const out: IpAddr[] = [];
    for (const cidr of Object.keys(h.value.block)) {
      const block = await this.store.getBlock(cidr);
      if (block !== undefined) for (const ip of ipsOfHandle(block.value, handle)) out.push(ip);
    }
    return out;
  }

  async releaseIps(ips: readonly IpAddr[]): Promise<IpAddr[]> {
    const byBlock = new Map<string, IpAddr[]>();
    const blocks = await this.store.listBlocks();
    for (const ip of ips) {
      const block = blocks.find((b) => cidrContains(b.value.cidr as Cidr, ip));
      if (block === undefined) continue;
      byBlock.set(block.value.cidr, [...(byBlock.get(block.value.cidr) ?? []), ip]);
    }
    const released: IpAddr[] = [];
    for (const [cidr, list] of byBlock) for (const ip of await this.releaseFromBlock(cidr, () => list)) released.push(ip);
    return released;
  }

  async releaseHandle(handle: string): Promise<IpAddr[]> {
    const h = await this.store.getHandle(handle);
    if (h === undefined) return [];
    const released: IpAddr[] = [];
    for (const cidr of Object.keys(h.value.block)) for (const ip of await this.releaseFromBlock(cidr, (b) => ipsOfHandle(b, handle))) released.push(ip);
    return released;
  }

  /** Gives a node's block back (Calico's ReleaseBlockAffinity): empty blocks go, others lose their affinity. */
  async releaseAffinities(node: string): Promise<void> {
    for (const affinity of await this.store.listAffinities(node)) {
      const pending = await this.store.updateAffinity({ ...affinity.value, state: 'pendingDeletion' }, affinity.revision);
      if (!pending.ok) continue;
      for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
        const block = await this.store.getBlock(affinity.value.cidr);
        if (block === undefined) break;
        if (isEmpty(block.value) ? await this.store.deleteBlock(block.value.cidr, block.revision) : (await this.store.updateBlock({ ...block.value, affinity: null }, block.revision)).ok) break;
      }
      await this.store.deleteAffinity(pending.entry.value, pending.entry.revision);
    }
  }

  private async confirmedAffinities(node: string, pools: readonly IpPool[]): Promise<AffinityData[]> {
    return (await this.store.listAffinities(node))
      .map((a) => a.value)
      .filter((a) => a.state === 'confirmed' && inPools(a.cidr, pools))
      .sort((a, b) => (a.cidr < b.cidr ? -1 : 1));
  }

  private async assignFromBlock(cidr: string, count: number, req: AssignRequest): Promise<IpAddr[]> {
    for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
      const block = await this.store.getBlock(cidr);
      if (block === undefined || block.value.deleted || freeCount(block.value) === 0) return [];
      const { block: next, ips } = allocate(block.value, count, req.handle, { ...req.attributes });
      // Handle first, as Calico does: a crash then leaves a count too high, which its GC fixes,
      // never an address nobody accounts for.
      await this.adjustHandle(req.handle, cidr, ips.length);
      const written = await this.store.updateBlock(next, block.revision);
      if (written.ok) return ips;
      await this.adjustHandle(req.handle, cidr, -ips.length);
    }
    throw new IpamError(`block ${cidr}: gave up after ${MAX_RETRIES} conflicting writes`);
  }

  private async releaseFromBlock(cidr: string, pick: (block: BlockData) => readonly IpAddr[]): Promise<IpAddr[]> {
    for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
      const block = await this.store.getBlock(cidr);
      if (block === undefined) return [];
      const result = release(block.value, pick(block.value));
      if (result.released.length === 0) return [];
      const written = await this.store.updateBlock(result.block, block.revision);
      if (!written.ok) continue;
      for (const [handle, n] of result.handles) await this.adjustHandle(handle, cidr, -n);
      return result.released;
    }
    throw new IpamError(`block ${cidr}: gave up after ${MAX_RETRIES} conflicting writes`);
  }

  private async adjustHandle(id: string, cidr: string, delta: number): Promise<void> {
    if (delta === 0) return;
    for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
      const current = await this.store.getHandle(id);
      if (current === undefined) {
        if (delta < 0) return;
        if ((await this.store.createHandle({ handleID: id, block: { [cidr]: delta } })).ok) return;
        continue;
      }
      const count = (current.value.block[cidr] ?? 0) + delta;
      const block = { ...current.value.block };
      if (count > 0) block[cidr] = count;
      else delete block[cidr];
      const done = Object.keys(block).length === 0 ? await this.store.deleteHandle(id, current.revision) : (await this.store.updateHandle({ handleID: id, block }, current.revision)).ok;
      if (done) return;
    }
    throw new IpamError(`handle ${id}: gave up after ${MAX_RETRIES} conflicting writes`);
  }

  /** Claims the first free block of the pools, starting where this node's name hashes to. */
  private async claimBlock(node: string, pools: readonly IpPool[]): Promise<string | undefined> {
    const taken = new Set(await this.store.listBlockCidrs());
    for (const pool of pools) {
      for (const cidr of candidateBlocks(pool, node)) {
        if (taken.has(cidr)) continue;
        const affinity = await this.store.createAffinity({ node, cidr, state: 'pending' });
        if (!affinity.ok) continue; // someone is claiming it
        const created = await this.store.createBlock(emptyBlock(cidr as Cidr, node));
        if (!created.ok) {
          await this.store.deleteAffinity(affinity.entry.value, affinity.entry.revision);
          taken.add(cidr);
          continue;
        }
        await this.confirm(affinity.entry);
        return cidr;
      }
    }
    return undefined;
  }

  private async confirm(entry: Versioned<AffinityData>): Promise<void> {
    const confirmed = await this.store.updateAffinity({ ...entry.value, state: 'confirmed' }, entry.revision);
    if (!confirmed.ok) throw new IpamError(`affinity ${entry.value.node} ${entry.value.cidr}: changed while being claimed`);
  }
}

function inPools(cidr: string, pools: readonly IpPool[]): boolean {
  const ip = parseIp(cidr.split('/')[0]);
  return ip !== undefined && pools.some((p) => cidrContains(p.cidr, ip));
}

/** Every block of the pool, starting at an offset from the node name so nodes spread out. */
export function* candidateBlocks(pool: IpPool, node: string): Generator<string> {
  const bits = pool.blockSize - prefixLength(pool.cidr);
  const count = 1n << BigInt(bits);
  const start = BigInt(`0x${createHash('sha256').update(node).digest('hex').slice(0, 16)}`) % count;
  const step = 1n << BigInt((familyOf(pool.cidr) === 4 ? 32 : 128) - pool.blockSize);
  const limit = count < 1_000_000n ? count : 1_000_000n;
  for (let i = 0n; i < limit; i++) {
    const index = (start + i) % count;
    yield `${nthAddress(pool.cidr, index * step)}/${pool.blockSize}`;
  }
}
