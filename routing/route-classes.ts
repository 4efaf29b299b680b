// Several producers write into one table. When two want the same kernel key (table, dst,
// metric), a fixed class order decides, so the result never flaps between passes: a local
// workload beats anything remote, and the blackhole of a local block loses to everything.
import type { Route } from '../kernel/state.js';
import { routeKey } from '../kernel/state.js';
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

/** Keeps one route per key: lowest class, then the smallest source name; reports each loser. */
export function resolveCollisions(routes: readonly DesiredRoute[]): { routes: DesiredRoute[]; problems: ObjectProblem[] } {
  const winners = new Map<string, DesiredRoute>();
  const problems: ObjectProblem[] = [];
  for (const route of routes) {
    const key = routeKey(route);
    const held = winners.get(key);
    if (held === undefined) {
      winners.set(key, route);
      continue;
    }
    const newWins = RANK[route.class] - RANK[held.class] || (route.source < held.source ? -1 : 1);
    const [winner, loser] = newWins < 0 ? [route, held] : [held, route];
    winners.set(key, winner);
    if (loser.source !== winner.source) problems.push(collision(loser, winner));
  }
  return { routes: [...winners.values()], problems };
}

function collision(loser: DesiredRoute, winner: DesiredRoute): ObjectProblem {
  const [kind, ...rest] = loser.source.split('/');
  return {
    kind: kind ?? 'unknown',
    name: rest.join('/'),
    field: 'route',
    message: `wants ${loser.dst} (${loser.class}) but ${winner.source} holds it (${winner.class})`,
  };
}
