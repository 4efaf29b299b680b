// `--snapshot FILE`: the cluster as `kubectl get … -o yaml` dumped it.
import type { LoadedCluster } from '../cluster-source.js';
import { loadSnapshotFile } from '../cluster-source.js';
import { UsageError } from './args.js';

export const clusterFlags = {
  snapshot: { type: 'string' },
} as const;

export async function loadCluster(values: { snapshot?: string }): Promise<LoadedCluster> {
  if (values.snapshot !== undefined) return loadSnapshotFile(values.snapshot);
  throw new UsageError('say where the cluster comes from: --snapshot FILE');
}
