// The agent's reconcile loop: level-triggered, coalescing, gated on sync.
//
// Events (datastore changes, kernel changes, the resync timer) only mark the node dirty; there is
// no fixed debounce in front of the first event, and whatever arrives while a pass runs is
// coalesced into exactly one more pass. Passes come in two kinds:
//   full         read the kernel, recompute everything from the whole snapshot, diff, apply. At
//                start, on every resync, after a failure, a monitor overrun or restart, and for
//                changes only the whole picture can answer (nodes, pools, the host's links);
//   incremental  take the objects that changed (the source's ChangeFeed) and the route keys
//                `ip monitor` reported, recompute those units (routing/route-engine.ts), and
//                decide those keys against the kernel view kept since the last full read
//                (kernel-view.ts). A change to one block costs one block, not the table.
// Either way the kernel ends as a full pass would leave it (the engine's property test, and the
// periodic resync, hold it to that).
//
// Nothing is withdrawn before the source has listed everything once (an agent restart must not
// drop a packet), and routes on a workload interface that appeared moments ago are left alone
// for a grace period, because Calico's CNI plugin may still be setting it up.
import type { Logger } from 'pino';
import type { Kernel } from '../kernel/kernel.js';
import type { KernelState, Link } from '../kernel/state.js';
import type { RouteEvent } from '../kernel/monitor-route.js';
import { countOps, type Op, type Plan } from '../kernel/plan.js';
import { isDefaultWorkloadIface, type WorkloadIfaceTest } from '../routing/workload-iface.js';
import { addEntryOps, diffEntries, emptyEntryOps, type EntryOps } from '../tunnels/neighbor-diff.js';
import type { ClusterSource } from './cluster-source.js';
import { sourceRefusal, type ClusterRefusal } from './cluster-wholeness.js';
import { addressKey, entryKey, incrementalFrom, linkEffects, planKeys, sameItems, type Incremental } from './incremental-pass.js';
import { GracePeriod } from './grace-period.js';
import { fullReport, type LoopReport } from './loop-report.js';
import { Refusals } from './refusals.js';
import { MtuFileKeeper, type MtuFileStatus } from './mtu-file-keeper.js';
import type { DataplaneConfig } from './node-plan.js';
import { readKernel, reconcileDesired, reconcileOnce } from './reconciler.js';

export interface LoopOptions {
  readonly resyncIntervalMs: number;
  readonly graceMs: number;
  readonly retryInitialMs: number;
  readonly retryMaxMs: number;
  readonly mtuFile?: string;
}

export const DEFAULT_LOOP_OPTIONS: LoopOptions = { resyncIntervalMs: 90_000, graceMs: 10_000, retryInitialMs: 100, retryMaxMs: 10_000 };

export interface PassObserver {
  /** Called after every pass, successful or not. */
  onPass(report: LoopReport | undefined, error: unknown, trigger: PassTrigger): void;
}

/** Reasons an incremental pass can answer; any other one asks for a full pass. */
const INCREMENTAL_REASONS: ReadonlySet<string> = new Set(['datastore', 'kernel-route', 'kernel-link', 'kernel-neigh', 'grace']);

/** One `ip monitor` neighbour line on a VXLAN device: a neighbour entry, or an FDB one (`fdb`). */
export interface NeighborEvent {
  readonly dev: string;
  readonly ip: string;
  /** Absent when the kernel reports an entry without an address (FAILED, INCOMPLETE). */
  readonly mac?: string;
  readonly fdb: boolean;
  readonly deleted: boolean;
  readonly permanent: boolean;
}

/** What a resync reads: the route table's listing, and the rest of the kernel's state. */
interface ResyncRead {
  readonly listing: Buffer;
  readonly actual: KernelState;
}

export interface PassTrigger {
  readonly reasons: ReadonlySet<string>;
  /** When the oldest event this pass answers was seen (performance.now()). */
  readonly since: number;
}

export interface LoopStatus {
  readonly inSync: boolean;
  readonly passes: number;
  readonly running: boolean;
  readonly lastPassAt?: number;
  readonly lastSuccessAt?: number;
  readonly lastError?: string;
  readonly lastReport?: LoopReport;
  /** Why the cluster as it is now is refused (no pass runs, nothing is withdrawn). */
  readonly clusterRefused?: string;
  readonly mtuFile?: MtuFileStatus;
}

export class ReconcileLoop {
  private dirtyReasons = new Set<string>();
  private dirtySince = 0;
  private running: Promise<void> | undefined;
  private stopped = false;
  private retryDelay: number;
  private retryTimer: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private ipipSupported: boolean | undefined;
  private readonly grace: GracePeriod;
  private clusterRefusal: ClusterRefusal | undefined;
  private readonly kernelRefusals = new Refusals();
  private readonly isWorkloadIface: WorkloadIfaceTest;
  /** A failure to write the MTU file is reported there, never a failed pass. */
  private readonly mtuFile: MtuFileKeeper | undefined;
  private state: { passes: number; lastPassAt?: number; lastSuccessAt?: number; lastError?: string; lastReport?: LoopReport } = { passes: 0 };
  private incremental: Incremental | undefined;
  /** Route keys `ip monitor` reported since the last pass. */
  private readonly dirtyKeys = new Set<string>();
  private linksDirty = false;
  /** Counts link events: a resync read from before one has stale links. */
  private linkGeneration = 0;
  /** The resync's read of the kernel, started by the timer outside any pass. */
  private prefetched: { inc: Incremental; linkGeneration: number; read: Promise<ResyncRead> } | undefined;
  /**
   * The devices, neighbours and FDB the last resync found right, for the state it checked them
   * against: the kernel adapter hands back the very same objects while its output is unchanged,
   * so an idle node's resync recognises them without diffing them again.
   */
  private devicesChecked: { inc: Incremental; state: KernelState } | undefined;
  /** A neighbour or FDB entry on a VXLAN device drifted: re-read and re-diff those entries. */
  private entriesDirty = false;
  /** Route events seen while a full pass runs: replayed onto the view it builds. */
  private eventsDuringFull: RouteEvent[] | undefined;
  private neighborsDuringFull: NeighborEvent[] = [];

  constructor(
    private readonly kernel: Kernel,
    private readonly source: ClusterSource,
    private readonly config: DataplaneConfig,
    private readonly log: Logger,
    private readonly options: LoopOptions = DEFAULT_LOOP_OPTIONS,
    private readonly observer?: PassObserver,
  ) {
    this.retryDelay = options.retryInitialMs;
    this.isWorkloadIface = config.isWorkloadIface ?? isDefaultWorkloadIface;
    this.grace = new GracePeriod(options.graceMs, () => this.markDirty('grace'), this.isWorkloadIface);
    this.mtuFile = options.mtuFile === undefined ? undefined : new MtuFileKeeper(options.mtuFile, log);
  }

  start(): void {
    this.unsubscribe = this.source.onChange(() => this.markDirty('datastore'));
    this.resyncTimer = setInterval(() => this.resyncTick(), this.options.resyncIntervalMs);
    this.resyncTimer.unref();
    this.markDirty('start');
  }

  /** Something changed: run a pass now, or right after the one that is running. */
  markDirty(reason: string): void {
    if (this.stopped) return;
    if (this.dirtyReasons.size === 0) this.dirtySince = performance.now();
    this.dirtyReasons.add(reason);
    if (this.running === undefined) this.running = this.drain();
  }

  /** A route event from `ip monitor` (the agent's own writes echo back too). */
  routeEvent(event: RouteEvent): void {
    if (this.eventsDuringFull !== undefined) {
      this.eventsDuringFull.push(event); // judged against the view the full pass builds
      return;
    }
    if (this.incremental === undefined) {
      this.markDirty('kernel'); // no view to follow: a full pass reads the kernel
      return;
    }
    const key = this.incremental.view.observe(event);
    if (key === undefined) return;
    this.dirtyKeys.add(key);
    this.markDirty('kernel-route');
  }

  /**
   * A neighbour or FDB event on wren's VXLAN devices. The echo of an entry the last full pass
   * wanted is nothing to do, and so are the kernel's own passing entries (not permanent, on an
   * address wren has no entry for); anything else — a wanted entry deleted, changed or made
   * dynamic, a permanent entry wren did not write — has the next pass re-read the devices'
   * entries and put them right. Deleting a permanent neighbour shows as FAILED, without its MAC.
   * Events during a full pass are judged after it.
   */
  neighborEvent(entry: NeighborEvent): void {
    if (this.eventsDuringFull !== undefined) {
      this.neighborsDuringFull.push(entry);
      return;
    }
    const inc = this.incremental;
    if (inc === undefined) {
      if (entry.permanent) this.markDirty('kernel');
      return;
    }
    const echo = !entry.deleted && entry.permanent && inc.wantedEntries.has(entryKey(entry));
    if (echo) return;
    if (!entry.permanent && !inc.wantedAddresses.has(addressKey(entry))) return;
    this.entriesDirty = true;
    this.markDirty('kernel-neigh');
  }

  /** Links or addresses changed: re-read the links before the next pass decides anything. */
  linkEvent(): void {
    this.linkGeneration += 1;
    this.linksDirty = true;
    this.markDirty('kernel-link');
  }

  /** Stops after the pass in flight; never removes anything from the kernel. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    clearInterval(this.resyncTimer);
    clearTimeout(this.retryTimer);
    this.grace.stop();
    await this.running;
  }

  status(): LoopStatus {
    return { inSync: this.source.inSync(), running: this.running !== undefined, ...this.state, mtuFile: this.mtuFile?.status(), clusterRefused: this.clusterRefusal?.message };
  }

  private async drain(): Promise<void> {
    // Let events of the same tick (a relist delivering many objects) land in one pass.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.dirtyReasons.size > 0 && !this.stopped) {
      if (!this.source.inSync()) break; // the source calls onChange when it gets there
      if (this.clusterRefused()) break; // likewise when the input is whole again
      const trigger: PassTrigger = { reasons: this.dirtyReasons, since: this.dirtySince };
      this.dirtyReasons = new Set();
      await this.pass(trigger);
    }
    // Idle: the engine's indexes are built here, not in front of the first change after a start.
    if (!this.stopped) this.incremental?.engine.prepareForUpdates();
    this.running = undefined;
  }

  /**
   * Input that cannot be a whole cluster (cluster-wholeness.ts) would withdraw every route: no
   * pass runs on it, and the kernel keeps what the last good pass left.
   */
  private clusterRefused(): boolean {
    const refusal = sourceRefusal(this.source, this.config.nodeName);
    if (refusal?.message !== this.clusterRefusal?.message) {
      if (refusal === undefined) this.log.info({ was: this.clusterRefusal?.message }, 'cluster whole again; passes resume');
      else this.log.error({ reason: refusal.code, detail: refusal.message }, 'cluster refused; nothing withdrawn until it is whole');
    }
    this.clusterRefusal = refusal;
    return refusal !== undefined;
  }

  private async pass(trigger: PassTrigger): Promise<void> {
    this.state.passes += 1;
    this.state.lastPassAt = Date.now();
    let report: LoopReport | undefined;
    let failure: unknown;
    const started = performance.now();
    try {
      const reasons = [...trigger.reasons];
      const canStep = this.incremental !== undefined && reasons.every((r) => INCREMENTAL_REASONS.has(r));
      // The periodic resync guards the kernel, not the datastore (whose watch relists on its own):
      // with the engine current, it checks the kernel against the view, without recomputing routes.
      // Changes that came with it are answered by the same pass.
      const resync = this.incremental !== undefined && reasons.includes('resync') && reasons.every((r) => r === 'resync' || INCREMENTAL_REASONS.has(r));
      report = (canStep ? await this.incrementalPass(started) : resync ? await this.resyncPass(started) : undefined) ?? (await this.fullPass(started));
      await this.mtuFile?.keep(report.mtus.pod, report.mode !== 'incremental');
      // Lines the kernel refused are problems of their objects, not a failed pass (refusals.ts).
      report = this.kernelRefusals.note(report, () => this.source.snapshot());
      this.state.lastReport = report;
    } catch (error) {
      failure = error;
    }
    this.observer?.onPass(report, failure, trigger);
    if (failure === undefined) {
      this.state.lastSuccessAt = Date.now();
      this.state.lastError = undefined;
      if (this.kernelRefusals.size === 0) this.retryDelay = this.options.retryInitialMs;
      // Refused lines are tried again by a full pass, later each time (a device may appear);
      // passes in between do not put the retry off, and an identical refusal cannot spin. The
      // backoff goes on doubling up to the resync interval: a refusal that never clears costs a
      // full pass per resync, not one every 10 s (seconds of CPU each at 100,000 blocks).
      else if (this.retryTimer === undefined) this.retryLater(Math.max(this.options.retryMaxMs, this.options.resyncIntervalMs));
      return;
    }
    // The kernel view is stale now: the retry re-reads it and re-diffs, with capped backoff.
    this.incremental = undefined;
    this.state.lastError = failure instanceof Error ? failure.message : String(failure);
    this.log.warn({ err: failure, retryInMs: this.retryDelay }, 'pass failed');
    this.retryLater();
  }

  /** A full pass after the current backoff, which then doubles up to its cap. */
  private retryLater(capMs = this.options.retryMaxMs): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.markDirty('retry');
    }, this.retryDelay);
    this.retryTimer.unref();
    this.retryDelay = Math.min(this.retryDelay * 2, capMs);
  }

  private async fullPass(started: number): Promise<LoopReport> {
    this.incremental = undefined;
    this.dirtyKeys.clear();
    this.linksDirty = false;
    this.entriesDirty = false;
    this.eventsDuringFull = [];
    try {
      // The snapshot below covers every change the feed holds: drop them.
      this.source.feed?.takeChanges();
      const snapshot = this.source.snapshot();
      const actual = await readKernel(this.kernel, this.config.table);
      const graceIfaces = this.grace.look(actual.links.map((l) => l.name), true).inGrace;
      // Asked once, and only when an admitted pool uses IPIP (reconciler.ts).
      const ipipSupported = this.ipipSupported ?? (async () => (this.ipipSupported = await this.kernel.supportsIpip()));
      const options = { allowDeletes: true, graceIfaces, ipipSupported };
      const report = await reconcileOnce(this.kernel, snapshot, this.config, options, actual);
      // Refused lines are folded into the view as not written: the echoes of the rest are then known.
      if (this.source.feed !== undefined) {
        // Devices created, re-created or fixed: the view needs the links as they are now.
        const devicesChanged = report.planned.plan.some((p) => (p.name === 'setup' || p.name === 'teardown') && p.ops.length > 0);
        this.incremental = incrementalFrom(report, devicesChanged ? { ...actual, links: await this.kernel.readLinks() } : actual, this.config.table);
      }
      return fullReport(report, performance.now() - started, 'full');
    } finally {
      const events = this.eventsDuringFull;
      const neighbors = this.neighborsDuringFull;
      this.eventsDuringFull = undefined;
      this.neighborsDuringFull = [];
      for (const event of events) this.routeEvent(event);
      for (const entry of neighbors) this.neighborEvent(entry);
    }
  }

  /**
   * The periodic check: devices, neighbours and FDB as a full pass checks them (any difference
   * there means a full pass), and the route table line by line against the view (route-listing.ts);
   * drifted keys are then decided like any others. Undefined when a full pass must answer.
   */
  private async resyncPass(started: number): Promise<LoopReport | undefined> {
    const inc = this.incremental;
    if (inc === undefined || this.kernel.readRouteListing === undefined) return undefined;
    const prefetch = this.prefetched;
    this.prefetched = undefined;
    // Read before the last full pass, which has looked at everything since: nothing to check.
    if (prefetch !== undefined && prefetch.inc !== inc) return this.incrementalPass(started);
    let read = prefetch !== undefined && prefetch.linkGeneration === this.linkGeneration ? await prefetch.read.catch(() => undefined) : undefined;
    read ??= await this.readForResync(inc);
    if (this.incremental !== inc) return undefined;
    const { listing, actual } = read;
    // Devices, neighbours and FDB only: the routes are the listing's part.
    if (!this.sameDevicesChecked(inc, actual)) {
      const devices = await reconcileDesired(this.kernel, { ...inc.desired, routes: [] }, actual, this.config, { allowDeletes: true, dryRun: true, ipipSupported: this.ipipSupported });
      if (countOps(devices.planned.plan) > 0) return undefined;
      this.devicesChecked = { inc, state: actual };
    }
    const links = linkEffects(inc.view, actual.links, inc.desired.hostIface, this.isWorkloadIface);
    if (links.full) return undefined;
    for (const key of links.dropped) this.dirtyKeys.add(key);
    if (links.changed.length > 0) for (const key of inc.ledger.held.keys()) this.dirtyKeys.add(key);
    const checked = inc.listing.check(listing, inc.view);
    for (const key of checked.drifted) this.dirtyKeys.add(key);
    this.log.debug({ scanned: checked.scanned, parsedLines: checked.parsed, drifted: [...checked.drifted].slice(0, 10) }, 'route table checked');
    const report = await this.incrementalPass(started);
    return report === undefined ? undefined : { ...report, mode: 'resync' };
  }

  private sameDevicesChecked(inc: Incremental, actual: KernelState): boolean {
    const checked = this.devicesChecked;
    if (checked?.inc !== inc) return false;
    return sameItems(checked.state.links, actual.links) && sameItems(checked.state.neighbors, actual.neighbors) && sameItems(checked.state.fdb, actual.fdb);
  }

  /**
   * The resync timer: the 0.3 s read of a 100,000-route table runs outside any pass, so changes
   * meanwhile are routed at once rather than queued behind it; the check follows as a pass.
   */
  private resyncTick(): void {
    const inc = this.incremental;
    if (inc === undefined || this.kernel.readRouteListing === undefined || this.prefetched !== undefined) {
      this.markDirty('resync');
      return;
    }
    const read = this.readForResync(inc);
    this.prefetched = { inc, linkGeneration: this.linkGeneration, read };
    const ready = () => this.markDirty('resync');
    read.then(ready, ready);
  }

  /** Starts the resync's read; what the view changes from here on raced the listing (route-listing.ts). */
  private async readForResync(inc: Incremental): Promise<ResyncRead> {
    const listingOf = this.kernel.readRouteListing?.bind(this.kernel);
    if (listingOf === undefined) throw new Error('this kernel cannot list its routes');
    inc.view.takeChanged();
    const [listing, actual] = await Promise.all([listingOf(this.config.table), readKernel(this.kernel, this.config.table, { routes: false })]);
    return { listing, actual };
  }

  /** Undefined when the changes need a full pass after all. */
  private async incrementalPass(started: number): Promise<LoopReport | undefined> {
    const inc = this.incremental;
    const feed = this.source.feed;
    if (inc === undefined || feed === undefined) return undefined;
    const changes = feed.takeChanges();
    if (changes === 'all') return undefined;
    const keys = new Set(this.dirtyKeys);
    this.dirtyKeys.clear();
    let newLinks = false;
    if (this.linksDirty) {
      this.linksDirty = false;
      const effects = linkEffects(inc.view, await this.kernel.readLinks(), inc.desired.hostIface, this.isWorkloadIface);
      if (effects.full) {
        this.log.debug({ why: effects.why }, 'links changed: full pass');
        return undefined;
      }
      for (const key of effects.dropped) keys.add(key);
      newLinks = effects.changed.length > 0;
    }
    if (changes.length > 0) {
      // Through the meaning checks first: the engine sees only what a full pass would admit.
      const admitted = inc.desired.admission.changes(changes);
      const touched = admitted === undefined ? undefined : inc.engine.update(admitted, (cidr) => feed.affinitiesOf(cidr));
      if (touched === undefined) return undefined;
      for (const key of touched) keys.add(key);
    }
    // A device that appeared may be what held routes were waiting for.
    if (newLinks) for (const key of inc.ledger.held.keys()) keys.add(key);
    const links = inc.view.links;
    const grace = this.grace.look(links.map((l) => l.name), false);
    // Routes on veths whose grace is over: decided like any others now.
    if (grace.over.size > 0) for (const [key, route] of inc.view.routes) if (route.dev !== undefined && grace.over.has(route.dev)) keys.add(key);
    const ready = new Map(links.map((l) => [l.name, { up: l.up }]));
    const decided = planKeys(keys, inc.engine, inc.view, { proto: this.config.proto, links: ready, allowDeletes: true, graceIfaces: grace.inGrace, isWorkloadIface: this.isWorkloadIface }, inc.ledger);
    const mtuOps = this.workloadMtuOps(inc, links);
    const entries = await this.entryOps(inc);
    if (entries === undefined) return undefined;
    const plan: Plan = [
      { name: 'setup', tool: 'ip', ops: mtuOps },
      { name: 'fdb', tool: 'bridge', ops: entries.fdb },
      { name: 'neighbors', tool: 'ip', ops: entries.neighReplace },
      { name: 'routes', tool: 'ip', ops: decided.ops },
      { name: 'stale-neighbors', tool: 'ip', ops: entries.neighDelete },
    ];
    let applied;
    const applyStarted = performance.now();
    if (countOps(plan) > 0) {
      const viewOps = [...mtuOps, ...decided.ops];
      inc.view.applying(viewOps);
      applied = await this.kernel.apply(plan);
      inc.view.applied(viewOps, applied.failures);
    }
    const kernelMs = performance.now() - applyStarted;
    return {
      mode: 'incremental',
      durationMs: performance.now() - started,
      kernelMs,
      plan,
      applied,
      failures: applied?.failures ?? [],
      replaced: decided.replaced,
      removed: decided.removed,
      keys: keys.size,
      desiredByClass: inc.engine.countsByClass(),
      held: [...inc.ledger.held.values()],
      conflicts: [...inc.ledger.conflicts.values()],
      problems: [...inc.nodeProblems, ...inc.desired.admission.problems(), ...inc.engine.problems()],
      mtus: inc.desired.mtus,
      hostIface: inc.desired.hostIface,
    };
  }

  /** When entries drifted: what puts the VXLAN devices' neighbour and FDB entries right (undefined: a device is missing, a full pass's job). */
  private async entryOps(inc: Incremental): Promise<EntryOps | undefined> {
    const ops = emptyEntryOps();
    if (!this.entriesDirty) return ops;
    this.entriesDirty = false;
    for (const v of inc.desired.vxlan) {
      if (v.spec === undefined) continue;
      if (inc.view.link(v.device) === undefined) return undefined;
      const [neighbors, fdb] = await Promise.all([this.kernel.readNeighbors(v.device), this.kernel.readFdb(v.device)]);
      addEntryOps(ops, diffEntries(v, { neighbors, fdb }, true));
    }
    return ops;
  }

  /** Workload veths whose MTU is not the pod MTU (new ones, mostly), among those routes use. */
  private workloadMtuOps(inc: Incremental, links: readonly Link[]): Op[] {
    const ops: Op[] = [];
    for (const link of links) {
      if (!this.isWorkloadIface(link.name) || link.mtu === inc.desired.mtus.pod) continue;
      if (!inc.engine.usesDevice(link.name)) continue;
      ops.push({ op: 'link-mtu', name: link.name, mtu: inc.desired.mtus.pod });
    }
    return ops;
  }
}
