// A cluster source backed by a dump file (`kubectl get … -o yaml`), re-read when it changes.
// The directory is watched rather than the file, so an editor's or `mv`'s replace-by-rename is
// seen too. A file that fails to load, or cannot be a whole cluster (emptied, cut short), keeps
// the last good picture and is refused: the loop runs no pass until the file is whole again.
import type { AllocationDetail } from '../../calico/objects/ipam-block.js';
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';
import type { ClusterSnapshot, ObjectProblem } from '../../routing/cluster.js';
import { EMPTY_SNAPSHOT } from '../../routing/cluster.js';
import type { ClusterSource } from '../cluster-source.js';
import { loadSnapshotFile } from '../cluster-source.js';
import { ChangeSignal } from '../change-signal.js';
import { ClusterRefusedError, type ClusterRefusal } from '../cluster-wholeness.js';

export class SnapshotFileSource implements ClusterSource {
  private current: ClusterSnapshot = EMPTY_SNAPSHOT;
  private synced = false;
  private watcher: FSWatcher | undefined;
  private readonly changed = new ChangeSignal();
  private reloading: Promise<void> = Promise.resolve();
  /** Why the file as it is now was not taken (the picture is the last good one). */
  private refused: ClusterRefusal | undefined;
  private loadedProblems: readonly ObjectProblem[] = [];

  /** `detail`: whose IPAM allocations to keep in full (calico/objects/ipam-block.ts). */
  constructor(private readonly path: string, private readonly log: Logger, private readonly detail: AllocationDetail = 'all') {}

  async start(): Promise<void> {
    await this.reload();
    if (!this.synced) throw new Error(`snapshot ${this.path} could not be loaded: ${this.refused?.message ?? 'unknown'}`);
    this.watcher = watch(dirname(this.path), (_event, file) => {
      if (file === null || file === basename(this.path)) this.reloading = this.reloading.then(() => this.reload());
    });
  }

  snapshot(): ClusterSnapshot {
    return this.current;
  }

  inSync(): boolean {
    return this.synced;
  }

  refusal(): ClusterRefusal | undefined {
    return this.refused;
  }

  /** The last good file's problems (the agent reports them per reason). */
  problems(): readonly ObjectProblem[] {
    return this.loadedProblems;
  }

  onChange(listener: () => void): () => void {
    return this.changed.subscribe(listener);
  }

  async close(): Promise<void> {
    this.watcher?.close();
    await this.reloading;
  }

  private async reload(): Promise<void> {
    try {
      const loaded = await loadSnapshotFile(this.path, this.detail);
      this.loadedProblems = loaded.problems;
      this.current = loaded.snapshot;
      this.synced = true;
      this.refused = undefined;
      this.changed.emit();
    } catch (error) {
      this.refused = error instanceof ClusterRefusedError ? error.refusal : { code: 'unreadable', message: (error as Error).message };
      this.log.error({ err: error, path: this.path, reason: this.refused.code }, 'snapshot not reloaded; keeping the last good one');
      this.changed.emit(); // the loop hears of the refusal, and stops until the file is whole
    }
  }
}
