// The agent's reconcile loop: it only schedules. Events (datastore changes, kernel changes, the
// resync timer) mark the node dirty; whatever arrives while a pass runs is coalesced into exactly
// one more pass, with no fixed debounce in front of the first. Each pass (node-pass.ts) runs the
// one path — datastore changes → route engine → dataplane managers → one apply → answers back
// to the managers — in the mode its reasons ask for.
//
// Nothing is withdrawn before the source has listed everything once (an agent restart must not
// drop a packet), and nothing at all while the input cannot be a whole cluster. A pass that fails
// is retried, full, with capped backoff; lines the kernel refused are problems of their objects
// (refusals.ts), tried again by a full pass ever more rarely, up to the resync interval.
import type { Logger } from 'pino';
import type { Kernel } from '../kernel/kernel.js';
import type { NeighborEvent } from '../kernel/monitor-events.js';
import type { RouteEvent } from '../kernel/monitor-route.js';
import { isDefaultWorkloadIface } from '../routing/workload-iface.js';
import { Backoff } from '../util/backoff.js';
import type { ClusterSource } from './cluster-source.js';
import { logRefusal, sourceRefusal, type ClusterRefusal } from './cluster-wholeness.js';
import { GracePeriod } from './grace-period.js';
import type { LoopReport } from './loop-report.js';
import { DEFAULT_LOOP_OPTIONS, type LoopOptions, type LoopStatus, type PassObserver, type PassTrigger } from './loop-types.js';
import { MtuFileKeeper } from './mtu-file-keeper.js';
import { NodePass, type PassMode, type ResyncRead } from './node-pass.js';
import type { DataplaneConfig } from './node-plan.js';
import { Refusals } from './refusals.js';

/** Reasons the dataplane can follow key by key; any other asks for a full pass. */
const FOLLOWED: ReadonlySet<string> = new Set(['datastore', 'kernel-route', 'kernel-link', 'kernel-neigh', 'kernel-nat', 'grace']);

export class ReconcileLoop {
  private dirtyReasons = new Set<string>();
  private dirtySince = 0;
  private running: Promise<void> | undefined;
  /** Events before start() are noted, not acted on: routing starts once the node is registered. */
  private phase: 'new' | 'started' | 'stopped' = 'new';
  private readonly retries: Backoff;
  private retryTimer: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly grace: GracePeriod;
  private readonly node: NodePass;
  private clusterRefusal: ClusterRefusal | undefined;
  private readonly kernelRefusals = new Refusals();
  /** A failure to write the MTU file is reported there, never a failed pass. */
  private readonly mtuFile: MtuFileKeeper | undefined;
  private state: { passes: number; lastPassAt?: number; lastSuccessAt?: number; lastError?: string; lastReport?: LoopReport } = { passes: 0 };
  /** The resync's read, started by the timer outside any pass (0.3 s at 100,000 routes): changes meanwhile are routed at once. */
  private readonly canList: boolean;
  private prefetched: { generation: number; read: Promise<ResyncRead> } | undefined;

  constructor(
    kernel: Kernel,
    private readonly source: ClusterSource,
    private readonly config: DataplaneConfig,
    private readonly log: Logger,
    private readonly options: LoopOptions = DEFAULT_LOOP_OPTIONS,
    private readonly observer?: PassObserver,
  ) {
    this.retries = new Backoff({ initialMs: options.retryInitialMs, maxMs: options.retryMaxMs });
    this.grace = new GracePeriod(options.graceMs, () => this.markDirty('grace'), config.isWorkloadIface ?? isDefaultWorkloadIface);
    this.node = new NodePass(kernel, source, config, this.grace, log);
    this.mtuFile = options.mtuFile === undefined ? undefined : new MtuFileKeeper(options.mtuFile, log);
    this.canList = kernel.readRouteListing !== undefined;
  }

  start(): void {
    if (this.phase !== 'new') return; // once; and a stopped loop stays stopped
    this.unsubscribe = this.source.onChange(() => this.markDirty('datastore'));
    this.resyncTimer = setInterval(() => this.resyncTick(), this.options.resyncIntervalMs).unref();
    this.phase = 'started';
    this.markDirty('start');
  }

  /** Something changed: run a pass now, or right after the one that is running. */
  markDirty(reason: string): void {
    if (this.phase === 'stopped') return;
    if (this.dirtyReasons.size === 0 || reason === 'start') this.dirtySince = performance.now(); // the first pass is timed from start()
    this.dirtyReasons.add(reason);
    if (this.running === undefined && this.phase === 'started') this.running = this.drain();
  }

  /** A route event from `ip monitor` (the agent's own writes echo back too, and cause no pass). */
  routeEvent(event: RouteEvent): void {
    if (!this.node.following) this.markDirty('kernel');
    else if (this.node.routeEvent(event)) this.markDirty('kernel-route');
  }

  /** A neighbour or FDB event on wren's VXLAN devices: drift has the next pass put the entries right. */
  neighborEvent(entry: NeighborEvent): void {
    if (!this.node.following) {
      if (entry.permanent) this.markDirty('kernel');
    } else if (this.node.neighborEvent(entry)) this.markDirty('kernel-neigh');
  }

  /** Links or addresses changed: re-read the links before the next pass decides anything. */
  linkEvent(): void {
    this.node.linkEvent();
    this.prefetched = undefined; // read before the change: its links are stale
    this.markDirty('kernel-link');
  }

  /** Stops after the pass in flight; never removes anything from the kernel. */
  async stop(): Promise<void> {
    this.phase = 'stopped';
    this.unsubscribe?.();
    clearInterval(this.resyncTimer);
    clearTimeout(this.retryTimer);
    this.grace.stop();
    await this.running;
  }

  status(): LoopStatus {
    return { inSync: this.source.inSync(), started: this.phase !== 'new', running: this.running !== undefined, ...this.state, mtuFile: this.mtuFile?.status(), clusterRefused: this.clusterRefusal?.message };
  }

  private async drain(): Promise<void> {
    // Let events of the same tick (a relist delivering many objects) land in one pass.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.dirtyReasons.size > 0 && this.phase === 'started') {
      if (!this.source.inSync()) break; // the source calls onChange when it gets there
      if (this.clusterRefused()) break; // likewise when the input is whole again
      const trigger: PassTrigger = { reasons: this.dirtyReasons, since: this.dirtySince };
      this.dirtyReasons = new Set();
      await this.pass(trigger);
      if (this.node.takeHeldBack()) this.markDirty('kernel-neigh');
    }
    // Idle: the engine's indexes are built here, not in front of the first change after a start.
    if (this.phase === 'started') this.node.prepareForUpdates();
    this.running = undefined;
  }

  /** Input that cannot be a whole cluster (cluster-wholeness.ts) would withdraw every route: no pass runs on it. */
  private clusterRefused(): boolean {
    const refusal = sourceRefusal(this.source, this.config.nodeName);
    if (refusal?.message !== this.clusterRefusal?.message) logRefusal(this.log, refusal, this.clusterRefusal);
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
      const followed = reasons.every((r) => FOLLOWED.has(r) || r === 'resync');
      // The periodic resync guards the kernel, not the datastore (whose watch relists on its own).
      const prefetched = this.prefetched;
      this.prefetched = undefined;
      // A read from before the last full pass, which has looked at everything since: nothing to check.
      const stale = prefetched !== undefined && prefetched.generation !== this.node.generation;
      const mode: PassMode = !followed ? 'full' : reasons.includes('resync') && this.canList && !stale ? 'resync' : 'incremental';
      const read = () => prefetched?.read.catch(() => this.node.readForResync()) ?? this.node.readForResync();
      report = (await this.node.step(mode, started, read, trigger.reasons)) ?? (await this.node.fullPass(started));
      await this.mtuFile?.keep(report.mtus.pod, report.mode !== 'incremental');
      // Lines the kernel refused are problems of their objects, not a failed pass.
      report = this.kernelRefusals.note(report, () => this.source.snapshot());
      this.state.lastReport = report;
    } catch (error) {
      failure = error;
    }
    this.observer?.onPass(report, failure, trigger);
    if (failure === undefined) {
      this.state.lastSuccessAt = Date.now();
      this.state.lastError = undefined;
      if (this.kernelRefusals.size === 0) this.retries.reset();
      // Passes in between do not put the retry off, and an identical refusal cannot spin; it
      // slows down to one full pass per resync (seconds of CPU each at 100,000 blocks).
      else if (this.retryTimer === undefined) this.retryLater(Math.max(this.options.retryMaxMs, this.options.resyncIntervalMs));
      return;
    }
    // The dataplane's picture of the kernel is stale now: the retry reads it whole.
    this.node.lost();
    this.state.lastError = failure instanceof Error ? failure.message : String(failure);
    this.log.warn({ err: failure, retryInMs: this.retries.current }, 'pass failed');
    this.retryLater();
  }

  /** A full pass after the current backoff, which then grows up to `capMs`. */
  private retryLater(capMs?: number): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.markDirty('retry');
    }, this.retries.next(capMs)).unref();
  }

  /** The resync timer: the table's read runs outside any pass; the check follows as a pass. */
  private resyncTick(): void {
    if (!this.node.settled || !this.canList || this.prefetched !== undefined) {
      this.markDirty('resync');
      return;
    }
    const read = this.node.readForResync();
    this.prefetched = { generation: this.node.generation, read };
    void read.catch(() => undefined).then(() => this.markDirty('resync'));
  }
}
