// The kernel view's reading of `ip monitor` route events: which ones are the echo of the agent's
// own writes (nothing to look at) and which tell of a change someone else made (a key the loop
// must decide again). An echo often arrives before the batch that caused it is acknowledged.
import { describe, expect, it } from 'vitest';
import { RouteView } from '../kernel/route-table/route-view.js';
import { parseRouteEvent } from '../kernel/monitor-route.js';
import type { Op } from '../kernel/plan.js';
import { MAIN_TABLE, routeKey, type Route } from '../kernel/state.js';

const OURS = '10.0.0.0/26 via 172.16.0.11 dev vxlan.calico proto 199 onlink ';
const MOVED = '10.0.0.0/26 via 172.16.0.12 dev vxlan.calico proto 199 onlink ';
const FOREIGN = '10.0.0.0/26 via 172.16.0.11 dev vxlan.calico proto 4 onlink ';
const OTHER = '10.0.1.0/26 via 172.16.0.13 dev vxlan.calico proto 199 onlink ';
const route = (line: string): Route => parseRouteEvent(line)!.route;
const event = (line: string) => parseRouteEvent(`[ROUTE]${line}`)!;
const replace = (line: string): Op => ({ op: 'route-replace', route: route(line) });
const remove = (line: string): Op => ({ op: 'route-delete', route: route(line) });

interface Case {
  readonly name: string;
  /** Routes the view holds before the batch. */
  readonly held: readonly string[];
  /** The batch in flight; none: no batch. */
  readonly batch?: readonly Op[];
  /** The monitor line that arrives (before the batch is acknowledged). */
  readonly line: string;
  readonly news: boolean;
  /** The route the view holds on the line's key afterwards (undefined: none). */
  readonly after: string | undefined;
}

const CASES: readonly Case[] = [
  { name: 'the echo of a route the batch adds', held: [], batch: [replace(OURS)], line: OURS, news: false, after: OURS },
  { name: 'the echo of a route the batch moves to another gateway', held: [OURS], batch: [replace(MOVED)], line: MOVED, news: false, after: MOVED },
  { name: 'the echo of a route the batch deletes', held: [OURS], batch: [remove(OURS)], line: `Deleted ${OURS}`, news: false, after: undefined },
  { name: 'another route on a key the batch writes', held: [], batch: [replace(OURS)], line: FOREIGN, news: true, after: FOREIGN },
  { name: 'a deletion of a route the batch replaces', held: [OURS], batch: [replace(MOVED)], line: `Deleted ${OURS}`, news: true, after: undefined },
  { name: 'a route on a key the batch does not touch', held: [], batch: [replace(OURS)], line: OTHER, news: true, after: OTHER },
  { name: 'a new route with no batch in flight', held: [], line: OURS, news: true, after: OURS },
  { name: 'a route deleted with no batch in flight', held: [OURS], line: `Deleted ${OURS}`, news: true, after: undefined },
  { name: 'a route the view already holds', held: [OURS], line: OURS, news: false, after: OURS },
];

describe('kernel view: echoes and news', () => {
  it.each(CASES)('$name', ({ held, batch, line, news, after }) => {
    const view = new RouteView(held.map(route), MAIN_TABLE);
    if (batch !== undefined) view.applying(batch);
    const seen = event(line);
    const key = routeKey(seen.route);
    expect(view.observe(seen)).toBe(news ? key : undefined);
    if (batch !== undefined) view.applied(batch, []);
    expect(view.routes.get(key)).toEqual(after === undefined ? undefined : route(after));
  });

  it('keeps the line an early echo printed, so the next check recognises that route without parsing it', () => {
    const view = new RouteView([], MAIN_TABLE);
    const batch = [replace(OURS)];
    view.applying(batch);
    view.observe(event(OURS));
    view.applied(batch, []);
    expect(view.hasLine(routeKey(route(OURS)))).toBe(true);
    expect(view.knownLines()).toBeDefined();
  });

  it('after the batch, a later identical line is nothing new, and a change by hand is news', () => {
    const view = new RouteView([], MAIN_TABLE);
    const batch = [replace(OURS)];
    view.applying(batch);
    view.applied(batch, []);
    expect(view.observe(event(OURS))).toBeUndefined();
    expect(view.observe(event(`Deleted ${OURS}`))).toBe(routeKey(route(OURS)));
  });
});
