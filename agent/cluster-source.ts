// Where `wren routes|diff|apply|snapshot` take the cluster from: a dump file, or a live
// datastore read once (list, wait for sync, take the snapshot, close).
import { readFile } from 'node:fs/promises';
import type { ClusterSnapshot, ObjectProblem } from '../routing/cluster.js';
import { parseSnapshotText } from './objects/snapshot-file.js';

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
