// `wren snapshot --datastore etcd|kubernetes … > FILE`: the live cluster, as the snapshot file
// `wren routes --snapshot` reads (a YAML List in Calico's and Kubernetes' shapes).
import { renderSnapshotFile, snapshotObjects } from '../../../calico/objects/snapshot-render.js';
import { parseFlags } from '../args.js';
import { clusterFlags, loadCluster } from '../cluster-flags.js';
import type { Output } from '../output.js';
import { reportProblems } from '../output.js';

export async function snapshotCommand(argv: readonly string[], io: Output): Promise<number> {
  const { values } = parseFlags(argv, { ...clusterFlags, node: { type: 'string' }, json: { type: 'boolean' } });
  const cluster = await loadCluster(values);
  reportProblems(io, cluster.problems);
  // JSON for big clusters: it loads about a hundred times faster than YAML.
  if (values.json) io.out(JSON.stringify({ apiVersion: 'v1', kind: 'List', items: snapshotObjects(cluster.snapshot) }));
  else io.out(renderSnapshotFile(cluster.snapshot).trimEnd());
  return 0;
}
