// One kernel routing table, owned: the routes wren wants there and the routes the kernel holds,
// by key, and the keys whose two sides may differ. Everything that changes either side marks its
// key dirty; `pending()` decides exactly those keys (route-policy.ts) and yields the operations,
// and `applied()` folds the kernel's answer back in. A full pass is "every key dirty, the kernel
// re-read" (`reset` + `setAllDesired`); a resync is a listing compared with the view
// (route-listing.ts), whose drifted keys become dirty like any other.
//
// Plain data and pure decisions: no process is run here, so the policy — ownership by protocol,
// adoption of the CNI plugin's route, routes held until their device is there — is tested table
// by table without a kernel.
import type { OpFailure } from '../kernel.js';
import type { RouteEvent } from '../monitor-route.js';
import type { Op } from '../plan.js';
import type { Route } from '../state.js';
import { routeKey } from '../state.js';
import type { IfaceName } from '../values.js';
import { addDecision, decideRoute, emptyDiff, type HeldRoute, type RouteConflict, type WorkloadIfaceTest } from './route-policy.js';
import { RouteListing, type ListingCheck } from './route-listing.js';
import { RouteView } from './route-view.js';

/** What the table must know of the rest of the node to decide its keys. */
export interface RouteContext {
  /** Devices present in the namespace (or about to be), and whether each is up. */
  readonly links: ReadonlyMap<IfaceName, { readonly up: boolean }>;
  /** False until the datastore has synced once: nothing is withdrawn from a partial picture. */
  readonly allowDeletes: boolean;
  /** Workload devices inside their grace period: wren's routes on them are not deleted yet. */
  readonly graceIfaces?: ReadonlySet<IfaceName>;
}

export interface RouteOps {
  readonly ops: Op[];
  readonly replaced: number;
  readonly removed: number;
  /** Keys decided, and of those the ones already as wanted. */
  readonly keys: number;
  readonly unchanged: number;
}

export class RouteTable<D extends Route = Route> {
  private readonly desired = new Map<string, D>();
  private view: RouteView;
  private dirty = new Set<string>();
  /** Every key is dirty (a full read, or every wanted route replaced): no set of 100,000 keys is built for it. */
  private allDirty = false;
  private listing = new RouteListing();
  /** Route events that came while a full read was on its way: replayed onto the view it makes. */
  private buffered: RouteEvent[] | undefined;
  /** Routes that could not be written, by key, kept across passes for status and metrics. */
  readonly held = new Map<string, HeldRoute<D>>();
  readonly conflicts = new Map<string, RouteConflict<D>>();

  constructor(
    readonly table: number,
    private readonly policy: { readonly proto: number; readonly isWorkloadIface: WorkloadIfaceTest },
  ) {
    this.view = new RouteView([], table);
  }

  /** A full read of the table starts: events from here on are newer than it, and kept for `reset`. */
  beginRead(): void {
    this.buffered = [];
  }

  /**
   * The kernel's routes of this table, as read since `beginRead`: every key they or the wanted
   * routes have is dirty, and the events that came meanwhile are folded in on top.
   */
  reset(routes: readonly Route[]): void {
    this.view = new RouteView(routes, this.table);
    this.listing = new RouteListing();
    this.allDirty = true;
    const events = this.buffered ?? [];
    this.buffered = undefined;
    for (const event of events) this.observe(event);
  }

  /** Every route wren wants in this table, replacing what it wanted before. */
  setAllDesired(routes: Iterable<D>): void {
    this.allDirty = true;
    this.desired.clear();
    for (const route of routes) this.desired.set(routeKey(route), route);
  }

  setDesired(route: D): void {
    const key = routeKey(route);
    this.desired.set(key, route);
    this.dirty.add(key);
  }

  deleteDesired(key: string): void {
    this.desired.delete(key);
    this.dirty.add(key);
  }

  desiredCount(): number {
    return this.desired.size;
  }

  markDirty(key: string): void {
    this.dirty.add(key);
  }

  /** A device appeared: the routes held for want of one are decided again. */
  markHeldDirty(): void {
    for (const key of this.held.keys()) this.dirty.add(key);
  }

  /** Keys of kernel routes on these devices (a grace period over: decided like any others now). */
  markDirtyOn(devices: ReadonlySet<IfaceName>): void {
    for (const [key, route] of this.view.routes) if (route.dev !== undefined && devices.has(route.dev)) this.dirty.add(key);
  }

  /** The kernel dropped a device's routes without an event each (it vanished, went down, is re-created). */
  dropRoutesOf(dev: IfaceName): void {
    for (const key of this.view.dropRoutesOf(dev)) this.dirty.add(key);
  }

  /** A route event from `ip monitor`; true when it made a key dirty (a stale echo or drift). */
  observe(event: RouteEvent): boolean {
    if (this.buffered !== undefined) {
      this.buffered.push(event); // decided by the full pass that reads the table
      return false;
    }
    const key = this.view.observe(event);
    if (key === undefined) return false;
    this.dirty.add(key);
    return true;
  }

  hasPending(): boolean {
    return this.allDirty || this.dirty.size > 0;
  }

  /** Decides every dirty key as a full diff would, recording held and conflicting routes. */
  pending(context: RouteContext): RouteOps {
    const options = { ...context, proto: this.policy.proto, isWorkloadIface: this.policy.isWorkloadIface };
    const diff = emptyDiff<D>();
    const keys = this.dirty;
    this.dirty = new Set();
    let decided = keys.size;
    if (this.allDirty) {
      // Every key: the wanted ones, then those only the kernel has; nothing else was held.
      this.allDirty = false;
      this.held.clear();
      this.conflicts.clear();
      const actual = this.view.routes;
      for (const [key, route] of this.desired) addDecision(diff, decideRoute(route, actual.get(key), options));
      decided = this.desired.size;
      for (const [key, route] of actual) {
        if (this.desired.has(key)) continue;
        addDecision(diff, decideRoute(undefined, route, options));
        decided += 1;
      }
    } else {
      for (const key of keys) {
        this.held.delete(key);
        this.conflicts.delete(key);
        addDecision(diff, decideRoute(this.desired.get(key), this.view.routes.get(key), options));
      }
    }
    for (const h of diff.held) this.held.set(routeKey(h.route), h);
    for (const c of diff.conflicts) this.conflicts.set(routeKey(c.desired), c);
    const ops: Op[] = [];
    for (const route of diff.replace) ops.push({ op: 'route-replace', route });
    for (const route of diff.remove) ops.push({ op: 'route-delete', route });
    return { ops, replaced: diff.replace.length, removed: diff.remove.length, keys: decided, unchanged: diff.unchanged };
  }

  /** Call with a batch's operations before it runs, and `applied` after: echoes meanwhile are known. */
  applying(ops: readonly Op[]): void {
    this.view.applying(ops);
  }

  /** What the kernel did: accepted writes are held; refused ones stay as the kernel has them. */
  applied(ops: readonly Op[], failures: readonly OpFailure[]): void {
    this.view.applied(ops, failures);
  }

  /** Before a listing is read: what changes from here on raced it (route-listing.ts). */
  beginListing(): void {
    this.view.takeChanged();
  }

  /** Compares a listing read since `beginListing` with the view; drifted keys become dirty. */
  resync(listing: Buffer): ListingCheck {
    const checked = this.listing.check(listing, this.view);
    for (const key of checked.drifted) this.dirty.add(key);
    return checked;
  }

  /** After a full read and its writes: the view's changes so far are settled. */
  settle(): void {
    this.view.takeChanged();
  }

  heldRoutes(): HeldRoute<D>[] {
    return [...this.held.values()];
  }

  conflictingRoutes(): RouteConflict<D>[] {
    return [...this.conflicts.values()];
  }

  /** The route the kernel holds on a key, as far as the table knows. */
  actual(key: string): Route | undefined {
    return this.view.routes.get(key);
  }
}
