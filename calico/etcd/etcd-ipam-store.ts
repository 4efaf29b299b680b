// Calico's IPAM records in etcd, in Calico's own key layout and JSON (calico.md §6), with every
// write a transaction on the key's mod revision: the revision a reader saw is the only one its
// write may replace. Creating requires the key to be absent (create revision 0).
import type { Cidr } from '../../kernel/values.js';
import { parseCidr } from '../../kernel/values.js';
import { AFFINITY_STATES, type AffinityState } from '../../routing/cluster.js';
import { affinityKey, blockKey, handleKey, IPAM_PREFIX, parseEtcdKey } from '../objects/etcd-keys.js';
import type { BlockData } from '../ipam/block-data.js';
import type { AffinityData, HandleData, IpamStore, Versioned, WriteResult } from '../ipam/store.js';
import type { EtcdClient } from './etcd-client.js';

/** The part of the etcd client IPAM and registration use. */
export type EtcdKv = Pick<EtcdClient, 'listPrefix' | 'scanPrefix' | 'get' | 'create' | 'compareAndSwap' | 'compareAndDelete'>;

export class EtcdIpamStore implements IpamStore {
  constructor(private readonly etcd: EtcdKv) {}

  async listBlocks(): Promise<Versioned<BlockData>[]> {
    let blocks: Versioned<BlockData>[] = [];
    for (const family of [4, 6]) {
      // Decoded page by page: the raw values of every block are never all in memory at once.
      const listed = await this.etcd.scanPrefix(`${IPAM_PREFIX}assignment/ipv${family}/block/`, (kv) => {
        const block = decode<BlockData>(kv.value);
        return block === undefined ? undefined : { value: block, revision: String(kv.modRevision) };
      });
      blocks = blocks.concat(listed.kvs);
    }
    return blocks;
  }

  async listBlockCidrs(): Promise<string[]> {
    let cidrs: string[] = [];
    for (const family of [4, 6]) {
      // Keys only: a node claiming its first block in a cluster of 100,000 blocks would otherwise
      // read and decode every one of them (hundreds of MB) just to learn which CIDRs are taken.
      const listed = await this.etcd.scanPrefix(`${IPAM_PREFIX}assignment/ipv${family}/block/`, (kv) => {
        const key = parseEtcdKey(kv.key);
        return key.type === 'block' ? key.cidr : undefined;
      }, { keysOnly: true });
      cidrs = cidrs.concat(listed.kvs);
    }
    return cidrs;
  }

  async getBlock(cidr: string): Promise<Versioned<BlockData> | undefined> {
    return this.read<BlockData>(blockKey(toCidr(cidr)));
  }

  createBlock(block: BlockData): Promise<WriteResult<BlockData>> {
    return this.create(blockKey(toCidr(block.cidr)), block);
  }

  updateBlock(block: BlockData, revision: string): Promise<WriteResult<BlockData>> {
    return this.swap(blockKey(toCidr(block.cidr)), block, revision);
  }

  async deleteBlock(cidr: string, revision: string): Promise<boolean> {
    return (await this.etcd.compareAndDelete(blockKey(toCidr(cidr)), Number(revision))).ok;
  }

  async listAffinities(node: string): Promise<Versioned<AffinityData>[]> {
    const out: Versioned<AffinityData>[] = [];
    for (const family of [4, 6]) {
      const listed = await this.etcd.listPrefix(`${IPAM_PREFIX}host/${node}/ipv${family}/block/`);
      for (const kv of listed.kvs) {
        const key = parseEtcdKey(kv.key);
        const value = decode<{ state?: string }>(kv.value === '' ? '{}' : kv.value);
        if (key.type !== 'affinity' || value === undefined) continue;
        // An old empty value means confirmed, as Calico reads it.
        const state = (AFFINITY_STATES as readonly string[]).includes(value.state ?? '') ? (value.state as AffinityState) : 'confirmed';
        out.push({ value: { node, cidr: key.cidr, state }, revision: String(kv.modRevision) });
      }
    }
    return out;
  }

  createAffinity(a: AffinityData): Promise<WriteResult<AffinityData>> {
    return this.create(affinityKey(a.node, toCidr(a.cidr)), a, affinityValue(a));
  }

  updateAffinity(a: AffinityData, revision: string): Promise<WriteResult<AffinityData>> {
    return this.swap(affinityKey(a.node, toCidr(a.cidr)), a, revision, affinityValue(a));
  }

  async deleteAffinity(a: AffinityData, revision: string): Promise<boolean> {
    return (await this.etcd.compareAndDelete(affinityKey(a.node, toCidr(a.cidr)), Number(revision))).ok;
  }

  async getHandle(id: string): Promise<Versioned<HandleData> | undefined> {
    const stored = await this.read<{ block: Record<string, number> }>(handleKey(id));
    return stored === undefined ? undefined : { value: { handleID: id, block: stored.value.block ?? {} }, revision: stored.revision };
  }

  createHandle(h: HandleData): Promise<WriteResult<HandleData>> {
    return this.create(handleKey(h.handleID), h, handleValue(h));
  }

  updateHandle(h: HandleData, revision: string): Promise<WriteResult<HandleData>> {
    return this.swap(handleKey(h.handleID), h, revision, handleValue(h));
  }

  async deleteHandle(id: string, revision: string): Promise<boolean> {
    return (await this.etcd.compareAndDelete(handleKey(id), Number(revision))).ok;
  }

  private async read<T>(key: string): Promise<Versioned<T> | undefined> {
    const kv = await this.etcd.get(key);
    const value = kv === undefined ? undefined : decode<T>(kv.value);
    return kv === undefined || value === undefined ? undefined : { value, revision: String(kv.modRevision) };
  }

  private async create<T>(key: string, value: T, stored: unknown = value): Promise<WriteResult<T>> {
    const result = await this.etcd.create(key, JSON.stringify(stored));
    return result.ok ? { ok: true, entry: { value, revision: String(result.revision) } } : { ok: false, reason: 'exists' };
  }

  private async swap<T>(key: string, value: T, revision: string, stored: unknown = value): Promise<WriteResult<T>> {
    const result = await this.etcd.compareAndSwap(key, JSON.stringify(stored), Number(revision));
    return result.ok ? { ok: true, entry: { value, revision: String(result.revision) } } : { ok: false, reason: result.reason };
  }
}

function affinityValue(a: AffinityData) {
  return { state: a.state, deleted: false };
}

function handleValue(h: HandleData) {
  return { block: h.block, deleted: false };
}

function toCidr(text: string): Cidr {
  const cidr = parseCidr(text);
  if (cidr === undefined) throw new RangeError(`not a block CIDR: ${JSON.stringify(text)}`);
  return cidr;
}

function decode<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}
