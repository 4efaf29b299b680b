// A cluster source backed by a real SnapshotStore, fed with domain values from a test: the agent
// loop sees per-object changes (a ChangeFeed) exactly as it does from etcd or Kubernetes. Started
// with `inSync: false`, it is a datastore still in its first listing until `listed()`.
import type { ChangeFeed, ClusterSource } from '../../agent/cluster-source.js';
import { ChangeSignal } from '../../agent/change-signal.js';
import type { ParsedObject } from '../../calico/objects/api.js';
import { SnapshotStore } from '../../agent/snapshot-store.js';
import type { BlockAffinity, ClusterNode, ClusterSnapshot, IpamBlock, IpPool, Workload } from '../../routing/cluster.js';

export class StoreSource implements ClusterSource {
  readonly store = new SnapshotStore();
  private readonly changed = new ChangeSignal();
  private synced: boolean;

  constructor(initial: ClusterSnapshot, options: { readonly inSync?: boolean } = {}) {
    this.synced = options.inSync ?? true;
    this.store.onChange(() => this.changed.emit());
    for (const p of initial.pools) this.put(pool(p));
    for (const n of initial.nodes) this.put(nodeObject(n));
    for (const b of initial.blocks) this.put(blockObject(b));
    for (const a of initial.affinities) this.put(affinityObject(a));
    for (const w of initial.workloads) this.put(workloadObject(w));
  }

  put(object: ParsedObject): void {
    this.store.apply({ status: 'ok', object });
  }

  remove(kind: ParsedObject['kind'], key: string): void {
    this.store.remove(kind, key);
  }

  get feed(): ChangeFeed {
    return this.store;
  }

  snapshot(): ClusterSnapshot {
    return this.store.snapshot();
  }
  inSync(): boolean {
    return this.synced;
  }
  /** The first listing is complete: the source is in sync. */
  listed(): void {
    this.synced = true;
    this.changed.emit();
  }
  onChange(listener: () => void): () => void {
    return this.changed.subscribe(listener);
  }
  async close(): Promise<void> {
    this.changed.clear();
  }
}

const pool = (value: IpPool): ParsedObject => ({ kind: 'IPPool', key: value.name, value });
export const nodeObject = (value: ClusterNode): ParsedObject => ({ kind: 'Node', key: value.name, value });
export const blockObject = (value: IpamBlock): ParsedObject => ({ kind: 'IPAMBlock', key: value.name, value });
export const affinityObject = (value: BlockAffinity): ParsedObject => ({ kind: 'BlockAffinity', key: value.name, value });
export const workloadObject = (value: Workload): ParsedObject => ({ kind: 'Workload', key: `${value.namespace}/${value.name}`, value });
