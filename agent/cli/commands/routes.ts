// `wren routes --node NAME --snapshot FILE [--json]`: what routes should this node have?
import { formatRoute } from '../../../kernel/format.js';
import { sortRoutes } from '../../../routing/desired-routes.js';
import { desiredNode } from '../../node-plan.js';
import { parseFlags, requireFlag } from '../args.js';
import { clusterFlags, loadCluster } from '../cluster-flags.js';
import { DATAPLANE_FLAGS, dataplaneConfig } from '../dataplane-flags.js';
import type { Output } from '../output.js';
import { refuseUnlessWhole, reportProblems } from '../output.js';

export async function routesCommand(argv: readonly string[], io: Output): Promise<number> {
  const { values } = parseFlags(argv, { ...DATAPLANE_FLAGS, ...clusterFlags, json: { type: 'boolean' } });
  const config = dataplaneConfig(values, requireFlag(values.node, 'node', 'the node whose routes to compute'));
  const cluster = await loadCluster(values);
  refuseUnlessWhole(io, cluster, config.nodeName);
  const desired = desiredNode(cluster.snapshot, [], config);
  const routes = sortRoutes(desired.routes);
  reportProblems(io, [...cluster.problems, ...desired.problems]);
  if (values.json) {
    io.out(JSON.stringify(routes, null, 2));
  } else {
    for (const r of routes) io.out(formatRoute(r));
  }
  return 0;
}
