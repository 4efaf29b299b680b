// A cluster source held in memory, for driving the loop from a test: set the snapshot, say when
// it is in sync, and listeners hear about it as they would from a datastore.
import type { ClusterSource } from '../../agent/cluster-source.js';
import { ChangeSignal } from '../../agent/change-signal.js';
import type { ClusterSnapshot } from '../../routing/cluster.js';

export class MemorySource implements ClusterSource {
  private readonly changed = new ChangeSignal();
  constructor(private current: ClusterSnapshot, private synced = true) {}

  set(snapshot: ClusterSnapshot, synced = true): void {
    this.current = snapshot;
    this.synced = synced;
    this.changed.emit();
  }
  snapshot(): ClusterSnapshot {
    return this.current;
  }
  inSync(): boolean {
    return this.synced;
  }
  onChange(listener: () => void): () => void {
    return this.changed.subscribe(listener);
  }
  async close(): Promise<void> {
    this.changed.clear();
  }
}
