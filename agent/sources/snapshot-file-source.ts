// A cluster source backed by a dump file (`kubectl get … -o yaml`), re-read when it changes.
// The directory is watched rather than the file, so an editor's or `mv`'s replace-by-rename is
// seen too. A file that fails to parse keeps the last good picture and is reported.
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';
import type { ClusterSnapshot } from '../../routing/cluster.js';
import { EMPTY_SNAPSHOT } from '../../routing/cluster.js';
import type { ClusterSource } from '../cluster-source.js';
import { loadSnapshotFile } from '../cluster-source.js';
import { ChangeSignal } from '../change-signal.js';

export class SnapshotFileSource implements ClusterSource {
  private current: ClusterSnapshot = EMPTY_SNAPSHOT;
  private synced = false;
  private watcher: FSWatcher | undefined;
  private readonly changed = new ChangeSignal();
  private reloading: Promise<void> = Promise.resolve();

  constructor(private readonly path: string, private readonly log: Logger) {}

  async start(): Promise<void> {
    await this.reload();
    if (!this.synced) throw new Error(`snapshot ${this.path} could not be loaded`);
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

  onChange(listener: () => void): () => void {
    return this.changed.subscribe(listener);
  }

  async close(): Promise<void> {
    this.watcher?.close();
    await this.reloading;
  }

  private async reload(): Promise<void> {
    try {
      const loaded = await loadSnapshotFile(this.path);
      for (const p of loaded.problems) this.log.warn({ kind: p.kind, name: p.name, field: p.field, problem: p.message }, 'invalid object left out');
      this.current = loaded.snapshot;
      this.synced = true;
      this.changed.emit();
    } catch (error) {
      this.log.error({ err: error, path: this.path }, 'snapshot not reloaded; keeping the last good one');
    }
  }
}
