// Several producers write into one table. When two want the same kernel key (table, dst,
// metric), a fixed class order decides, so the result never flaps between passes: a local
// workload beats anything remote, and the blackhole of a local block loses to everything.
import type { Route } from '../kernel/state.js';
import type { ObjectProblem } from './cluster.js';

export const ROUTE_CLASSES = ['workload', 'vxlan', 'ipip', 'direct', 'blackhole'] as const;
export type RouteClass = (typeof ROUTE_CLASSES)[number];

/** A route wren wants, with the producer that wants it and the object it came from. */
export interface DesiredRoute extends Route {
  readonly class: RouteClass;
  /** `Kind/name` of the object the route exists for: shown by `wren routes`, used to break ties. */
  readonly source: string;
}

const RANK: Record<RouteClass, number> = { workload: 0, vxlan: 1, ipip: 2, direct: 3, blackhole: 4 };

/** The route that holds a key several producers want: lowest class, then the smallest source. */
export function pickWinner(candidates: readonly DesiredRoute[]): DesiredRoute {
  let best = candidates[0] as DesiredRoute;
  for (const route of candidates) if (beats(route, best)) best = route;
  return best;
}

function beats(a: DesiredRoute, b: DesiredRoute): boolean {
  return (RANK[a.class] - RANK[b.class] || (a.source < b.source ? -1 : 1)) < 0;
}

/** One problem per candidate that lost its key to another object. */
export function collisionProblems(candidates: readonly DesiredRoute[], winner: DesiredRoute): ObjectProblem[] {
  return candidates.filter((r) => r !== winner && r.source !== winner.source).map((loser) => collision(loser, winner));
}

function collision(loser: DesiredRoute, winner: DesiredRoute): ObjectProblem {
  const [kind, ...rest] = loser.source.split('/');
  return {
    kind: kind ?? 'unknown',
    name: rest.join('/'),
    field: 'route',
    message: `wants ${loser.dst} (${loser.class}) but ${winner.source} holds it (${winner.class})`,
    reason: 'route-conflict',
  };
}
