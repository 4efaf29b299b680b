// The route table's policy: what one kernel key needs, from the route wren wants there and the
// route the kernel has. Pure, and generic over the desired route's extra fields (routing/ adds
// the class and source object; the kernel layer does not need them).
//
// Ownership is the route's protocol number: a route carrying wren's number is wren's, and only
// wren's routes are ever replaced or deleted. A foreign route on a key wren wants is a conflict,
// reported and left alone — with one exception: the route Calico's CNI plugin adds for a pod
// (`<ip> dev cali… scope link`, no protocol) forwards exactly as wren's would, so wren adopts it
// by replacing it in place, as Felix does; nothing changes for the pod's packets.
import type { Route } from '../state.js';
import { sameRoute } from '../state.js';
import type { IfaceName } from '../values.js';

/** Whether an interface is a workload's (Calico's `cali…`, or `--interface-prefix`). */
export type WorkloadIfaceTest = (name: string) => boolean;

export interface RouteDiffOptions {
  readonly proto: number;
  /** Devices present in the namespace, and whether each is up. */
  readonly links: ReadonlyMap<IfaceName, { readonly up: boolean }>;
  /** False until the datastore has synced once: nothing is withdrawn from a partial picture. */
  readonly allowDeletes: boolean;
  /** Workload devices inside their grace period: wren's routes on them are not deleted yet. */
  readonly graceIfaces?: ReadonlySet<IfaceName>;
  /** Which interfaces are workloads' (the CNI plugin's route on one is adopted). */
  readonly isWorkloadIface: WorkloadIfaceTest;
}

export interface RouteConflict<D extends Route = Route> {
  readonly desired: D;
  readonly foreign: Route;
}

export interface HeldRoute<D extends Route = Route> {
  readonly route: D;
  readonly reason: string;
}

export interface RouteDiff<D extends Route = Route> {
  readonly replace: D[];
  readonly remove: Route[];
  readonly conflicts: RouteConflict<D>[];
  /** Routes whose device is missing or down: applied when it appears. */
  readonly held: HeldRoute<D>[];
  /** Counted as the diff is built. */
  unchanged: number;
}

/** What one kernel key needs, from the route wren wants there and the route the kernel has. */
export type RouteDecision<D extends Route = Route> =
  | { readonly kind: 'unchanged' | 'none' }
  | { readonly kind: 'replace'; readonly route: D }
  | { readonly kind: 'remove'; readonly route: Route }
  | { readonly kind: 'held'; readonly held: HeldRoute<D>; readonly stale?: Route }
  | { readonly kind: 'conflict'; readonly conflict: RouteConflict<D> };

// The common answers carry no data: one shared object each, not one allocation per route.
const UNCHANGED = { kind: 'unchanged' } as const;
const NONE = { kind: 'none' } as const;

export function decideRoute<D extends Route>(desired: D | undefined, current: Route | undefined, options: RouteDiffOptions): RouteDecision<D> {
  if (desired === undefined) return removable(current, options) ? { kind: 'remove', route: current } : NONE;
  if (current !== undefined && current.proto !== options.proto && !adoptable(desired, current, options.isWorkloadIface)) {
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

export function emptyDiff<D extends Route>(): RouteDiff<D> {
  return { replace: [], remove: [], conflicts: [], held: [], unchanged: 0 };
}

export function addDecision<D extends Route>(diff: RouteDiff<D>, decision: RouteDecision<D>): void {
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

/**
 * The CNI plugin's route for a pod: a direct route on the workload interface wren routes the pod
 * through (only a local workload's route is direct on such an interface).
 */
function adoptable(desired: Route, foreign: Route, isWorkloadIface: WorkloadIfaceTest): boolean {
  return (
    desired.type === 'unicast' &&
    desired.via === undefined &&
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
