// `wren routes --node NAME --snapshot FILE [--json]`: what routes (and NAT tables) should this
// node have?
import { formatRoute } from '../../../kernel/format.js';
import { renderNatOp } from '../../../kernel/nat/nat-render.js';
import { NAT_TABLE, nftFamily } from '../../../kernel/nat/nat-state.js';
import { sortRoutes } from '../../../routing/desired-routes.js';
import type { DesiredNat } from '../../../routing/nat.js';
import { desiredNode } from '../../node-plan.js';
import { parseFlags, requireFlag } from '../args.js';
import { clusterFlags, loadCluster } from '../cluster-flags.js';
import { DATAPLANE_FLAGS, dataplaneConfig } from '../dataplane-flags.js';
import type { Output } from '../output.js';
import { refuseUnlessWhole, reportProblems } from '../output.js';

/** The NAT tables the pools want, as the commands of the one `nft -f` that would create them. */
function natLines(nat: DesiredNat): string[] {
  if (nat.tables.length === 0) return [];
  return ['nat (natOutgoing), one nft -f transaction:', ...nat.tables.flatMap((table) => renderNatOp({ op: 'nat-replace', table, fresh: true, reason: 'wanted' }))];
}

export async function routesCommand(argv: readonly string[], io: Output): Promise<number> {
  const { values } = parseFlags(argv, { ...DATAPLANE_FLAGS, ...clusterFlags, json: { type: 'boolean' } });
  const config = dataplaneConfig(values, requireFlag(values.node, 'node', 'the node whose routes to compute'));
  const cluster = await loadCluster(values);
  refuseUnlessWhole(io, cluster, config.nodeName);
  const desired = desiredNode(cluster.snapshot, [], config);
  const routes = sortRoutes(desired.routes);
  reportProblems(io, [...cluster.problems, ...desired.problems]);
  if (values.json) {
    // The NAT tables as `wren status --json` names them: the pools masqueraded, and all pools.
    const nat = desired.nat.tables.map((t) => ({ table: `${nftFamily(t.family)} ${NAT_TABLE}`, masquerade: t.masquerade, pools: t.pools }));
    io.out(JSON.stringify({ routes, nat }, null, 2));
  } else {
    for (const r of routes) io.out(formatRoute(r));
    // Commented, so the routes still compare with `ip route`: the NAT tables as nft would get them.
    for (const line of natLines(desired.nat)) io.out(`# ${line}`);
  }
  return 0;
}
