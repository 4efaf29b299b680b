// Where the agent and the one-shot commands take the cluster from. Every source — a dump file,
// etcd, the Kubernetes API — offers the same three things: the whole validated snapshot at any
// time, whether it has listed everything once, and a signal that something changed.
import { readFile } from 'node:fs/promises';
import type { ClusterSnapshot, ObjectProblem } from '../routing/cluster.js';
import { parseSnapshotText } from './objects/snapshot-file.js';

export interface ClusterSource {
  snapshot(): ClusterSnapshot;
  /** True once every kind has been listed: before that nothing may be withdrawn from the kernel. */
  inSync(): boolean;
  /** Called after each change (and on reaching sync); returns an unsubscribe function. */
  onChange(listener: () => void): () => void;
  close(): Promise<void>;
}

export interface LoadedCluster {
  readonly snapshot: ClusterSnapshot;
  readonly problems: readonly ObjectProblem[];
}

export async function loadSnapshotFile(path: string): Promise<LoadedCluster> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read snapshot ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const parsed = parseSnapshotText(text);
  return { snapshot: parsed.snapshot, problems: parsed.problems };
}
