// `wren snapshot --datastore etcd|kubernetes … > FILE`: the live cluster, as the snapshot file
// `wren routes --snapshot` reads (a YAML List in Calico's and Kubernetes' shapes).
import { renderSnapshotFile } from '../../objects/snapshot-render.js';
import { parseFlags } from '../args.js';
import { clusterFlags, loadCluster } from '../cluster-flags.js';
import type { Output } from '../output.js';
import { problemLine } from '../output.js';

export async function snapshotCommand(argv: readonly string[], io: Output): Promise<number> {
  const { values } = parseFlags(argv, { ...clusterFlags, node: { type: 'string' } });
  const cluster = await loadCluster(values);
  for (const p of cluster.problems) io.err(problemLine(p));
  io.out(renderSnapshotFile(cluster.snapshot).trimEnd());
  return 0;
}
