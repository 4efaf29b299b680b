// One pass of the agent: read what the mode needs, bring the wanted state up to date, let the
// dataplane's managers say what differs, apply it in one plan, and hand the answer back. One
// path for the three modes, which differ only in what they read and recompute:
//   full         every key dirty: the kernel read whole, the node computed from the whole snapshot;
//   resync       the kernel re-read and compared: devices, neighbours and FDB as a full pass checks
//                them (a difference there means a full pass), the route table as a listing
//                checked line by line against what the table holds (kernel/route-table/);
//   incremental  the objects the source's change feed holds, through the meaning checks and the
//                route engine, and the keys the kernel monitor made dirty.
// wren's NAT tables are read in every full pass and resync, and in an incremental one when the
// nft monitor saw them change (reason 'kernel-nat'): a table changed by hand is put right then.
// Either way the kernel ends as a full pass would leave it (the property tests and the periodic
// resync hold it to that). Undefined from `step`: the change needs a full pass after all.
import type { Logger } from 'pino';
import type { Kernel } from '../kernel/kernel.js';
import type { NeighborEvent } from '../kernel/monitor-events.js';
import type { RouteEvent } from '../kernel/monitor-route.js';
import { countOps } from '../kernel/plan.js';
import type { KernelState, Link } from '../kernel/state.js';
import type { ObjectProblem } from '../routing/cluster.js';
import type { ClusterSource } from './cluster-source.js';
import { Dataplane, type PlanContext } from './dataplane/dataplane.js';
import { linkEffects, sameItems } from './dataplane/link-table.js';
import { GracePeriod } from './grace-period.js';
import type { LoopReport } from './loop-report.js';
import { planNode, type DataplaneConfig, type DesiredNode } from './node-plan.js';
import { computeDesired, readKernel } from './reconciler.js';

export type PassMode = 'full' | 'resync' | 'incremental';

/** What a resync reads: the route table's listing, and the rest of the kernel's state. */
export interface ResyncRead {
  readonly listing: Buffer;
  readonly actual: KernelState;
}

export class NodePass {
  readonly dataplane: Dataplane;
  private desired: DesiredNode | undefined;
  /** Problems of the node itself (tunnels, MTU, host), which only a full pass changes. */
  private nodeProblems: readonly ObjectProblem[] = [];
  /** Whether the dataplane follows the kernel (after a full pass), and a full pass is running. */
  private synced = false;
  private inFull = false;
  private neighborsDuringFull: NeighborEvent[] = [];
  private linksDirty = false;
  private ipipSupported: boolean | undefined;
  /** The devices, neighbours and FDB the last resync found right: an idle node's next resync recognises them. */
  private devicesChecked: KernelState | undefined;

  constructor(
    private readonly kernel: Kernel,
    private readonly source: ClusterSource,
    private readonly config: DataplaneConfig,
    private readonly grace: GracePeriod,
    private readonly log: Logger,
  ) {
    this.dataplane = new Dataplane(config);
  }

  /** Counts full passes: a resync read from before the last one has nothing to check. */
  generation = 0;

  /** Whether events can be followed key by key (else the next pass must be a full one). */
  get following(): boolean {
    return this.synced || this.inFull;
  }

  /** Following, and no full pass under way: a resync's read now can be checked after it. */
  get settled(): boolean {
    return this.synced && !this.inFull;
  }

  /** Idle: the engine's indexes are built now, not in front of the first change after a start. */
  prepareForUpdates(): void {
    this.desired?.routeEngine.prepareForUpdates();
  }

  /** The kernel's state is unknown now (a pass failed): the next pass reads it whole. */
  lost(): void {
    this.synced = false;
  }

  routeEvent(event: RouteEvent): boolean {
    return this.dataplane.observeRoute(event);
  }

  /** Events of a full pass are judged after it, against what it wanted. */
  neighborEvent(entry: NeighborEvent): boolean {
    if (this.inFull) this.neighborsDuringFull.push(entry);
    return !this.inFull && this.dataplane.observeNeighbor(entry);
  }

  linkEvent(): void {
    this.linksDirty = true;
  }

  /** Neighbour events a full pass held back, judged now: true when one is drift. */
  takeHeldBack(): boolean {
    const held = this.neighborsDuringFull;
    this.neighborsDuringFull = [];
    return held.map((e) => this.dataplane.observeNeighbor(e)).some(Boolean);
  }

  /** `reasons`: what the pass answers; 'kernel-nat' has it read wren's NAT tables first. */
  async step(mode: PassMode, started: number, resync?: () => Promise<ResyncRead>, reasons?: ReadonlySet<string>): Promise<LoopReport | undefined> {
    if (reasons?.has('kernel-nat') === true) this.dataplane.nat.markStale();
    if (mode === 'full' || !this.synced || this.desired === undefined || this.source.feed === undefined) return this.fullPass(started);
    if (mode === 'resync' && resync !== undefined && !(await this.resync(this.desired, await resync()))) return undefined;
    const report = await this.incremental(this.desired, started);
    return report === undefined || mode === 'incremental' ? report : { ...report, mode: 'resync' };
  }

  async fullPass(started: number): Promise<LoopReport> {
    this.synced = false;
    this.inFull = true;
    this.linksDirty = false;
    try {
      this.dataplane.beginRead();
      // The snapshot below covers every change the feed holds: drop them.
      this.source.feed?.takeChanges();
      const snapshot = this.source.snapshot();
      const read = await readKernel(this.kernel, this.config.table);
      // Asked once, and only when an admitted pool uses IPIP (reconciler.ts).
      const ipipProbe = this.ipipSupported ?? (async () => (this.ipipSupported = await this.kernel.supportsIpip()));
      const { desired, actual } = await computeDesired(this.kernel, snapshot, this.config, read, ipipProbe);
      const graceIfaces = this.grace.look(actual.links.map((l) => l.name), true).inGrace;
      this.dataplane.reset(actual);
      this.dataplane.setDesired(desired);
      const { planned, applied, kernelMs } = await this.apply({ allowDeletes: true, graceIfaces });
      const devicesChanged = planned.plan.some((p) => (p.name === 'setup' || p.name === 'teardown') && p.ops.some((op) => op.op !== 'link-mtu'));
      // Devices created, re-created or fixed: what follows needs them as they are now (relink).
      if (devicesChanged) this.relink(await this.kernel.readLinks());
      this.dataplane.routes.settle();
      const routeProblems = new Set([...desired.routeEngine.problems(), ...desired.admission.problems()]);
      this.nodeProblems = desired.problems.filter((p) => !routeProblems.has(p));
      this.desired = desired;
      this.synced = true;
      this.generation += 1;
      return { ...this.report('full', started, desired, planned.plan, applied, kernelMs), replaced: planned.routes.replaced, removed: planned.routes.removed, keys: desired.routes.length, problems: [...desired.problems, ...this.dataplane.nat.problems(this.config.nodeName)] };
    } finally {
      this.inFull = false;
    }
  }

  /** False when a full pass must answer (a device, neighbour or FDB entry is not as wanted, a structural link changed). */
  private async resync(desired: DesiredNode, read: ResyncRead): Promise<boolean> {
    const { listing, actual } = read;
    const checked = this.devicesChecked;
    const same = checked !== undefined && sameItems(checked.links, actual.links) && sameItems(checked.neighbors, actual.neighbors) && sameItems(checked.fdb, actual.fdb);
    if (!same) {
      // Devices, neighbours and FDB only: the routes are the listing's part.
      // NAT is not a device: its drift is repaired below, without a full pass.
      const devices = planNode({ ...desired, routes: [] }, { ...actual, routes: [], nat: undefined }, { proto: this.config.proto, allowDeletes: true, isWorkloadIface: this.config.isWorkloadIface });
      if (countOps(devices.plan) > 0) return false;
      this.devicesChecked = actual;
    }
    if (!this.followLinks(actual, desired)) return false;
    const listed = this.dataplane.routes.resync(listing);
    this.log.debug({ scanned: listed.scanned, parsedLines: listed.parsed, drifted: [...listed.drifted].slice(0, 10) }, 'route table checked');
    this.dataplane.nat.readTables(actual.nat);
    return true;
  }

  /** The resync's read; what the table changes from here on raced the listing (route-listing.ts). */
  async readForResync(): Promise<ResyncRead> {
    const listingOf = this.kernel.readRouteListing?.bind(this.kernel);
    if (listingOf === undefined) throw new Error('this kernel cannot list its routes');
    this.dataplane.routes.beginListing();
    const [listing, actual] = await Promise.all([listingOf(this.config.table), readKernel(this.kernel, this.config.table, { routes: false })]);
    return { listing, actual };
  }

  private async incremental(desired: DesiredNode, started: number): Promise<LoopReport | undefined> {
    const feed = this.source.feed;
    const changes = feed?.takeChanges() ?? 'all';
    if (changes === 'all' || feed === undefined) return undefined;
    if (this.linksDirty) {
      this.linksDirty = false;
      if (!this.followLinks({ links: await this.kernel.readLinks() }, desired)) return undefined;
    }
    const routes = this.dataplane.routes;
    if (changes.length > 0) {
      // Through the meaning checks first: the engine sees only what a full pass would admit.
      const admitted = desired.admission.changes(changes);
      const touched = admitted === undefined ? undefined : desired.routeEngine.update(admitted, (cidr) => feed.affinitiesOf(cidr));
      if (touched === undefined) return undefined;
      for (const key of touched) {
        const winner = desired.routeEngine.winner(key);
        if (winner === undefined) routes.deleteDesired(key);
        else routes.setDesired(winner);
        this.dataplane.bgp.routeWanted(key, winner);
      }
    }
    const grace = this.grace.look(this.dataplane.links.all.map((l) => l.name), false);
    // Routes on veths whose grace is over: decided like any others now.
    if (grace.over.size > 0) routes.markDirtyOn(grace.over);
    if (this.dataplane.nat.stale && this.kernel.readNat !== undefined) this.dataplane.nat.readTables(await this.kernel.readNat());
    for (const dev of this.dataplane.vxlan.takeDevicesToRead()) {
      if (this.dataplane.links.get(dev) === undefined) return undefined; // a device is missing: a full pass's job
      const [neighbors, fdb] = await Promise.all([this.kernel.readNeighbors(dev), this.kernel.readFdb(dev)]);
      this.dataplane.vxlan.setEntries(dev, { neighbors, fdb });
    }
    const { planned, applied, kernelMs } = await this.apply({ allowDeletes: true, graceIfaces: grace.inGrace });
    const engine = desired.routeEngine;
    const problems = [...this.nodeProblems, ...desired.admission.problems(), ...engine.problems(), ...this.dataplane.nat.problems(this.config.nodeName)];
    return { ...this.report('incremental', started, desired, planned.plan, applied, kernelMs), replaced: planned.routes.replaced, removed: planned.routes.removed, keys: planned.routes.keys, problems };
  }

  /**
   * Links re-read within a full pass, after its device writes: wren's devices as they are now, pod
   * veths as the plan saw them. A veth that came, went or was re-created meanwhile is then told by
   * its own events, through followLinks, like any other (had the table taken it as it is now, those
   * events would find no change: a route held for it, or lost with the old veth, stayed so).
   */
  private relink(links: readonly Link[]): void {
    const isPod = (link: Link) => this.dataplane.isWorkloadIface(link.name);
    this.dataplane.setLinks([...links.filter((l) => !isPod(l)), ...this.dataplane.links.all.filter(isPod)]);
  }

  /** A fresh read of the links: false when it needs a full pass. */
  private followLinks(actual: Pick<KernelState, 'links'>, desired: DesiredNode): boolean {
    const effects = linkEffects(this.dataplane.links, actual.links, this.dataplane.routes, desired.hostIface, this.dataplane.isWorkloadIface);
    if (effects.full) return false;
    // A device that appeared may be what held routes were waiting for.
    if (effects.changed) this.dataplane.routes.markHeldDirty();
    return true;
  }

  private async apply(context: PlanContext) {
    const planned = this.dataplane.plan(context);
    const started = performance.now();
    if (countOps(planned.plan) === 0) return { planned, applied: undefined, kernelMs: 0 };
    this.dataplane.applying(planned.plan);
    const applied = await this.kernel.apply(planned.plan);
    this.dataplane.applied(planned.plan, applied.failures);
    return { planned, applied, kernelMs: performance.now() - started };
  }

  private report(mode: PassMode, started: number, desired: DesiredNode, plan: LoopReport['plan'], applied: LoopReport['applied'], kernelMs: number) {
    const routes = this.dataplane.routes;
    return {
      mode,
      durationMs: performance.now() - started,
      kernelMs: mode === 'full' ? undefined : kernelMs,
      plan,
      applied,
      failures: applied?.failures ?? [],
      desiredByClass: desired.routeEngine.countsByClass(),
      held: routes.heldRoutes(),
      conflicts: routes.conflictingRoutes(),
      mtus: desired.mtus,
      hostIface: desired.hostIface,
      nat: this.dataplane.nat.status(),
      bgp: this.dataplane.bgp.wanted(),
    };
  }
}
