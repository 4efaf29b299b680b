// The agent's reconcile loop: level-triggered, coalescing, gated on sync.
//
// Events (datastore changes, kernel changes, the resync timer) only mark the node dirty. A pass
// recomputes everything from the whole snapshot and the kernel as it is now, so an event that
// was missed or arrived out of order cannot leave the kernel wrong. There is no fixed debounce
// in front of the first event — a change reaches the kernel as fast as one pass — and whatever
// arrives while a pass runs is coalesced into exactly one more pass.
//
// Nothing is withdrawn before the source has listed everything once (an agent restart must not
// drop a packet), and routes on a workload interface that appeared moments ago are left alone
// for a grace period, because Calico's CNI plugin may still be setting it up.
import type { Logger } from 'pino';
import type { Kernel } from '../kernel/kernel.js';
import type { IfaceName } from '../kernel/values.js';
import { ipipEnabled } from '../tunnels/ipip.js';
import { WORKLOAD_PREFIX } from '../routing/devices.js';
import type { ClusterSource } from './cluster-source.js';
import { writeMtuFile } from './mtu-file.js';
import type { DataplaneConfig } from './node-plan.js';
import { readKernel, reconcileOnce, type PassReport } from './reconciler.js';

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
  onPass(report: PassReport | undefined, error: unknown, trigger: PassTrigger): void;
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
  readonly lastReport?: PassReport;
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
  private readonly firstSeen = new Map<IfaceName, number>();
  private state: { passes: number; lastPassAt?: number; lastSuccessAt?: number; lastError?: string; lastReport?: PassReport } = { passes: 0 };

  constructor(
    private readonly kernel: Kernel,
    private readonly source: ClusterSource,
    private readonly config: DataplaneConfig,
    private readonly log: Logger,
    private readonly options: LoopOptions = DEFAULT_LOOP_OPTIONS,
    private readonly observer?: PassObserver,
  ) {
    this.retryDelay = options.retryInitialMs;
  }

  start(): void {
    this.unsubscribe = this.source.onChange(() => this.markDirty('datastore'));
    this.resyncTimer = setInterval(() => this.markDirty('resync'), this.options.resyncIntervalMs);
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

  /** Stops after the pass in flight; never removes anything from the kernel. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    clearInterval(this.resyncTimer);
    clearTimeout(this.retryTimer);
    await this.running;
  }

  status(): LoopStatus {
    return { inSync: this.source.inSync(), running: this.running !== undefined, ...this.state };
  }

  private async drain(): Promise<void> {
    // Let events of the same tick (a relist delivering many objects) land in one pass.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.dirtyReasons.size > 0 && !this.stopped) {
      if (!this.source.inSync()) break; // the source calls onChange when it gets there
      const trigger: PassTrigger = { reasons: this.dirtyReasons, since: this.dirtySince };
      this.dirtyReasons = new Set();
      await this.pass(trigger);
    }
    this.running = undefined;
  }

  private async pass(trigger: PassTrigger): Promise<void> {
    this.state.passes += 1;
    this.state.lastPassAt = Date.now();
    let report: PassReport | undefined;
    let failure: unknown;
    const started = performance.now();
    try {
      const snapshot = this.source.snapshot();
      if (this.ipipSupported === undefined && ipipEnabled(snapshot)) this.ipipSupported = await this.kernel.supportsIpip();
      const actual = await readKernel(this.kernel, this.config.table);
      const graceIfaces = this.graceIfaces(actual.links.map((l) => l.name));
      // What the grace period spares now must be looked at again once it is over.
      if (graceIfaces.size > 0) setTimeout(() => this.markDirty('grace'), this.options.graceMs).unref();
      report = await reconcileOnce(this.kernel, snapshot, this.config, {
        allowDeletes: true,
        graceIfaces,
        ipipSupported: this.ipipSupported,
      }, actual);
      // The pass is everything since the trigger was taken up, kernel read included (the
      // reconciler alone times only what follows the read).
      report = { ...report, durationMs: performance.now() - started };
      if (this.options.mtuFile !== undefined) await writeMtuFile(this.options.mtuFile, report.desired.mtus.pod);
      this.state.lastReport = report;
      if (report.failures.length > 0) failure = new Error(`${report.failures.length} change(s) failed: ${report.failures[0]?.line}: ${report.failures[0]?.error}`);
    } catch (error) {
      failure = error;
    }
    this.observer?.onPass(report, failure, trigger);
    if (failure === undefined) {
      this.state.lastSuccessAt = Date.now();
      this.state.lastError = undefined;
      this.retryDelay = this.options.retryInitialMs;
      return;
    }
    // The kernel view is stale now: the retry re-reads it and re-diffs, with capped backoff.
    this.state.lastError = failure instanceof Error ? failure.message : String(failure);
    this.log.warn({ err: failure, retryInMs: this.retryDelay }, 'pass failed');
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.markDirty('retry'), this.retryDelay);
    this.retryTimer.unref();
    this.retryDelay = Math.min(this.retryDelay * 2, this.options.retryMaxMs);
  }

  private graceIfaces(names: readonly IfaceName[]): Set<IfaceName> {
    const now = performance.now();
    const grace = new Set<IfaceName>();
    const present = new Set(names);
    for (const name of present) {
      if (!name.startsWith(WORKLOAD_PREFIX)) continue;
      // Interfaces present at the first pass are old: only ones that appear later get grace.
      const seen = this.firstSeen.get(name) ?? (this.state.passes <= 1 ? now - this.options.graceMs : now);
      this.firstSeen.set(name, seen);
      if (now - seen < this.options.graceMs) grace.add(name);
    }
    for (const name of this.firstSeen.keys()) if (!present.has(name)) this.firstSeen.delete(name);
    return grace;
  }
}
