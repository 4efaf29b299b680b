// Desired routes against the kernel's table → what to write. Pure.
//
// Ownership is the route's protocol number: a route carrying wren's number is wren's, and only
// wren's routes are ever replaced or deleted. A foreign route on a key wren wants is a conflict,
// reported and left alone — with one exception: the route Calico's CNI plugin adds for a pod
// (`<ip> dev cali… scope link`, no protocol) forwards exactly as wren's would, so wren adopts it
// by replacing it in place, as Felix does; nothing changes for the pod's packets.
import type { Route } from '../kernel/state.js';
import { routeKey, sameRoute } from '../kernel/state.js';
import type { IfaceName } from '../kernel/values.js';
import { isDefaultWorkloadIface, type WorkloadIfaceTest } from './workload-iface.js';
import type { DesiredRoute } from './route-classes.js';

export interface RouteDiffOptions {
  readonly proto: number;
  /** Devices present in the namespace, and whether each is up. */
  readonly links: ReadonlyMap<IfaceName, { readonly up: boolean }>;
  /** False until the datastore has synced once: nothing is withdrawn from a partial picture. */
  readonly allowDeletes: boolean;
  /** Workload devices inside their grace period: wren's routes on them are not deleted yet. */
  readonly graceIfaces?: ReadonlySet<IfaceName>;
  /** Which interfaces are workloads' (the CNI plugin's route on one is adopted); Calico's `cali` when absent. */
  readonly isWorkloadIface?: WorkloadIfaceTest;
}

export interface RouteConflict {
  readonly desired: DesiredRoute;
  readonly foreign: Route;
}

export interface HeldRoute {
  readonly route: DesiredRoute;
  readonly reason: string;
}

export interface RouteDiff {
  readonly replace: DesiredRoute[];
  readonly remove: Route[];
  readonly conflicts: RouteConflict[];
  /** Routes whose device is missing or down: applied when it appears. */
  readonly held: HeldRoute[];
  /** Counted as the diff is built. */
  unchanged: number;
}

export function diffRoutes(desired: readonly DesiredRoute[], actual: readonly Route[], options: RouteDiffOptions): RouteDiff {
  // Whatever is left in `unclaimed` once every desired route has taken its key is not wanted.
  const unclaimed = new Map<string, Route>();
  for (const route of actual) unclaimed.set(routeKey(route), route);
  const diff = emptyDiff();
  for (const route of desired) {
    const key = routeKey(route);
    const current = unclaimed.get(key);
    if (current !== undefined) unclaimed.delete(key);
    addDecision(diff, decideRoute(route, current, options));
  }
  for (const route of unclaimed.values()) addDecision(diff, decideRoute(undefined, route, options));
  return diff;
}

/** What one kernel key needs, from the route wren wants there and the route the kernel has. */
export type RouteDecision =
  | { readonly kind: 'unchanged' | 'none' }
  | { readonly kind: 'replace'; readonly route: DesiredRoute }
  | { readonly kind: 'remove'; readonly route: Route }
  | { readonly kind: 'held'; readonly held: HeldRoute; readonly stale?: Route }
  | { readonly kind: 'conflict'; readonly conflict: RouteConflict };

// The common answers carry no data: one shared object each, not one allocation per route.
const UNCHANGED: RouteDecision = { kind: 'unchanged' };
const NONE: RouteDecision = { kind: 'none' };

export function decideRoute(desired: DesiredRoute | undefined, current: Route | undefined, options: RouteDiffOptions): RouteDecision {
  if (desired === undefined) return removable(current, options) ? { kind: 'remove', route: current } : NONE;
  if (current !== undefined && current.proto !== options.proto && !adoptable(desired, current, options.isWorkloadIface ?? isDefaultWorkloadIface)) {
    return { kind: 'conflict', conflict: { desired, foreign: current } };
  }
  if (current !== undefined && sameRoute(desired, current)) return UNCHANGED;
  const heldBecause = deviceProblem(desired, options.links);
  if (heldBecause !== undefined) {
    // wren's old route on this key (a pod's address reused before its new veth appears) would
    // send the new pod's traffic to another device: it goes now, the new route when the device comes.
    const held = { route: desired, reason: heldBecause };
    return removable(current, options) ? { kind: 'held', held, stale: current } : { kind: 'held', held };
  }
  return { kind: 'replace', route: desired };
}

export function emptyDiff(): RouteDiff {
  return { replace: [], remove: [], conflicts: [], held: [], unchanged: 0 };
}

export function addDecision(diff: RouteDiff, decision: RouteDecision): void {
  switch (decision.kind) {
    case 'unchanged':
      diff.unchanged += 1;
      break;
    case 'replace':
      diff.replace.push(decision.route);
      break;
    case 'remove':
      diff.remove.push(decision.route);
      break;
    case 'held':
      diff.held.push(decision.held);
      if (decision.stale !== undefined) diff.remove.push(decision.stale);
      break;
    case 'conflict':
      diff.conflicts.push(decision.conflict);
      break;
    case 'none':
      break;
  }
}

/** A kernel route wren may delete: its own, once the datastore has synced, off any device in grace. */
function removable(current: Route | undefined, options: RouteDiffOptions): current is Route {
  if (current === undefined || !options.allowDeletes || current.proto !== options.proto) return false;
  return current.dev === undefined || !(options.graceIfaces?.has(current.dev) ?? false);
}

function adoptable(desired: DesiredRoute, foreign: Route, isWorkloadIface: WorkloadIfaceTest): boolean {
  return (
    desired.class === 'workload' &&
    foreign.type === 'unicast' &&
    foreign.dev === desired.dev &&
    foreign.via === undefined &&
    desired.dev !== undefined &&
    isWorkloadIface(desired.dev)
  );
}

function deviceProblem(route: Route, links: RouteDiffOptions['links']): string | undefined {
  if (route.dev === undefined || route.type === 'blackhole') return undefined;
  const link = links.get(route.dev);
  if (link === undefined) return `device ${route.dev} does not exist`;
  if (!link.up) return `device ${route.dev} is down`;
  return undefined;
}
