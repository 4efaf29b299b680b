// A cluster source held in memory, for driving the loop from a test: set the snapshot, say when
// it is in sync, and listeners hear about it as they would from a datastore.
import type { ClusterSource } from '../../agent/cluster-source.js';
import type { ClusterSnapshot } from '../../routing/cluster.js';

export class MemorySource implements ClusterSource {
  private listeners = new Set<() => void>();
  constructor(private current: ClusterSnapshot, private synced = true) {}

  set(snapshot: ClusterSnapshot, synced = true): void {
    this.current = snapshot;
    this.synced = synced;
    for (const l of this.listeners) l();
  }
  snapshot(): ClusterSnapshot {
    return this.current;
  }
  inSync(): boolean {
    return this.synced;
  }
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  async close(): Promise<void> {
    this.listeners.clear();
  }
}
