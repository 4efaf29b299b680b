// Cluster snapshot → the routes one node must have. Pure: no I/O, same input, same output.
//
// Producers (route-units.ts; see route-classes.ts for who wins a shared key):
//   blackhole  every live block affine to this node, so traffic to a free address in it is
//              dropped here instead of leaking to the default gateway;
//   workload   a /32 (/128) per local pod via its host-side veth, scope link;
//   remote     every block affine to another node, via VXLAN, IPIP or directly (encapsulation.ts);
//   borrowed   an address allocated to node B out of a block affine to node A (or to no node) is
//              a /32 towards B on every node but B, or A's blackhole and everyone's block route
//              would swallow it.
// A bad object costs only its own routes: it is reported as a problem and skipped.
import type { Route } from '../kernel/state.js';
import { MAIN_TABLE } from '../kernel/state.js';
import { compareCidrs } from '../kernel/values.js';
import type { ClusterSnapshot, ObjectProblem } from './cluster.js';
import type { DesiredRoute } from './route-classes.js';
import { RouteEngine } from './route-engine.js';
import type { LocalNode, RoutingOptions } from './route-units.js';

export type { LocalNode, RoutingOptions } from './route-units.js';

export const DEFAULT_ROUTE_PROTOCOL = 199;

export interface DesiredRoutes {
  readonly routes: DesiredRoute[];
  readonly problems: ObjectProblem[];
  /** The engine that computed them, ready to take changes object by object. */
  readonly engine: RouteEngine;
}

export function desiredRoutes(snapshot: ClusterSnapshot, local: LocalNode, options: RoutingOptions = { proto: DEFAULT_ROUTE_PROTOCOL, table: MAIN_TABLE }): DesiredRoutes {
  const engine = RouteEngine.build(snapshot, local, options);
  return { routes: engine.routes(), problems: engine.problems(), engine };
}

/** Routes in the order `ip route` lists them: by address, then prefix length. */
export function sortRoutes<T extends Route>(routes: readonly T[]): T[] {
  return [...routes].sort((a, b) => compareCidrs(a.dst, b.dst) || a.metric - b.metric);
}
