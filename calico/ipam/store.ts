// What Calico's IPAM needs from a datastore: versioned reads and compare-and-swap writes of
// blocks, affinities and handles. etcd implements it with mod revisions in transactions, the
// Kubernetes API with resourceVersions; a lost race is a `conflict`, never a silent overwrite.
import type { AffinityState } from '../../routing/cluster.js';
import type { BlockData } from './block-data.js';

export interface Versioned<T> {
  readonly value: T;
  /** etcd mod revision or Kubernetes resourceVersion, as an opaque string. */
  readonly revision: string;
}

export interface AffinityData {
  readonly node: string;
  readonly cidr: string;
  readonly state: AffinityState;
}

export interface HandleData {
  readonly handleID: string;
  /** Block CIDR → how many addresses this handle holds there. */
  readonly block: Record<string, number>;
}

export type WriteResult<T> = { readonly ok: true; readonly entry: Versioned<T> } | { readonly ok: false; readonly reason: 'conflict' | 'exists' | 'missing' };

export interface IpamStore {
  listBlocks(): Promise<Versioned<BlockData>[]>;
  /** The CIDR of every block, deleted or not: what claiming a free block needs, without the blocks. */
  listBlockCidrs(): Promise<string[]>;
  getBlock(cidr: string): Promise<Versioned<BlockData> | undefined>;
  createBlock(block: BlockData): Promise<WriteResult<BlockData>>;
  updateBlock(block: BlockData, revision: string): Promise<WriteResult<BlockData>>;
  deleteBlock(cidr: string, revision: string): Promise<boolean>;

  listAffinities(node: string): Promise<Versioned<AffinityData>[]>;
  createAffinity(affinity: AffinityData): Promise<WriteResult<AffinityData>>;
  updateAffinity(affinity: AffinityData, revision: string): Promise<WriteResult<AffinityData>>;
  deleteAffinity(affinity: AffinityData, revision: string): Promise<boolean>;

  getHandle(id: string): Promise<Versioned<HandleData> | undefined>;
  createHandle(handle: HandleData): Promise<WriteResult<HandleData>>;
  updateHandle(handle: HandleData, revision: string): Promise<WriteResult<HandleData>>;
  deleteHandle(id: string, revision: string): Promise<boolean>;
}
