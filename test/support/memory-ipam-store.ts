// An IpamStore in memory with real compare-and-swap semantics and an await between read and
// write, so concurrent allocators interleave as they would against etcd. Used to test the
// allocator's algorithm; the etcd and Kubernetes stores are tested against real servers.
import type { BlockData } from '../../calico/ipam/block-data.js';
import type { AffinityData, HandleData, IpamStore, Versioned, WriteResult } from '../../calico/ipam/store.js';

class Table<T> {
  private rows = new Map<string, Versioned<T>>();
  constructor(private readonly clock: { next(): string }) {}
  list(): Versioned<T>[] {
    return [...this.rows.values()].map((r) => structuredClone(r));
  }
  get(key: string): Versioned<T> | undefined {
    const row = this.rows.get(key);
    return row === undefined ? undefined : structuredClone(row);
  }
  async create(key: string, value: T): Promise<WriteResult<T>> {
    await tick();
    if (this.rows.has(key)) return { ok: false, reason: 'exists' };
    return this.put(key, value);
  }
  async update(key: string, value: T, revision: string): Promise<WriteResult<T>> {
    await tick();
    const row = this.rows.get(key);
    if (row === undefined) return { ok: false, reason: 'missing' };
    if (row.revision !== revision) return { ok: false, reason: 'conflict' };
    return this.put(key, value);
  }
  async delete(key: string, revision: string): Promise<boolean> {
    await tick();
    if (this.rows.get(key)?.revision !== revision) return false;
    return this.rows.delete(key);
  }
  private put(key: string, value: T): WriteResult<T> {
    const entry = { value: structuredClone(value), revision: this.clock.next() };
    this.rows.set(key, entry);
    return { ok: true, entry: structuredClone(entry) };
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

export class MemoryIpamStore implements IpamStore {
  private revision = 0;
  private readonly clock = { next: () => String(++this.revision) };
  readonly blocks = new Table<BlockData>(this.clock);
  readonly affinities = new Table<AffinityData>(this.clock);
  readonly handles = new Table<HandleData>(this.clock);

  async listBlocks() { return this.blocks.list(); }
  async listBlockCidrs() { return this.blocks.list().map((b) => b.value.cidr); }
  async getBlock(cidr: string) { return this.blocks.get(cidr); }
  createBlock(block: BlockData) { return this.blocks.create(block.cidr, block); }
  updateBlock(block: BlockData, revision: string) { return this.blocks.update(block.cidr, block, revision); }
  deleteBlock(cidr: string, revision: string) { return this.blocks.delete(cidr, revision); }
  async listAffinities(node: string) { return this.affinities.list().filter((a) => a.value.node === node); }
  createAffinity(a: AffinityData) { return this.affinities.create(`${a.node}/${a.cidr}`, a); }
  updateAffinity(a: AffinityData, revision: string) { return this.affinities.update(`${a.node}/${a.cidr}`, a, revision); }
  deleteAffinity(a: AffinityData, revision: string) { return this.affinities.delete(`${a.node}/${a.cidr}`, revision); }
  async getHandle(id: string) { return this.handles.get(id); }
  createHandle(h: HandleData) { return this.handles.create(h.handleID, h); }
  updateHandle(h: HandleData, revision: string) { return this.handles.update(h.handleID, h, revision); }
  deleteHandle(id: string, revision: string) { return this.handles.delete(id, revision); }
}
