// Prometheus metrics (prom-client) for what an operator asks when routing misbehaves: is the loop
// turning, does the kernel match, how fast do changes land, what MTU is in use, what is invalid.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { PROBLEM_REASONS } from '../routing/cluster.js';
import type { RouteClass } from '../routing/route-classes.js';
import type { ProblemSummary } from './problem-summary.js';
import type { PassObserver, PassTrigger } from './loop-types.js';
import type { LoopReport } from './loop-report.js';
import type { MtuFileStatus } from './mtu-file-keeper.js';
import { NatMetrics } from './nat-metrics.js';

export class AgentMetrics implements PassObserver {
  readonly registry = new Registry();
  private readonly routesDesired = new Gauge({ name: 'wren_routes_desired', help: 'Routes the cluster implies for this node, by class', labelNames: ['class'], registers: [this.registry] });
  private readonly routesProgrammed = new Gauge({ name: 'wren_routes_programmed', help: 'Desired routes present in the kernel after the last pass, by class', labelNames: ['class'], registers: [this.registry] });
  private readonly routesHeld = new Gauge({ name: 'wren_routes_held', help: 'Desired routes waiting for their device', registers: [this.registry] });
  private readonly conflicts = new Gauge({ name: 'wren_route_conflicts', help: 'Desired routes whose key is held by a foreign route', registers: [this.registry] });
  private readonly passes = new Counter({ name: 'wren_passes_total', help: 'Reconcile passes, by outcome: success, partial (lines refused), failure', labelNames: ['outcome'], registers: [this.registry] });
  private readonly passSeconds = new Histogram({ name: 'wren_pass_duration_seconds', help: 'Duration of a reconcile pass', buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [this.registry] });
  private readonly eventToKernel = new Histogram({ name: 'wren_event_to_kernel_seconds', help: 'From the first event a pass answers to the end of its kernel writes', buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 5], registers: [this.registry] });
  private readonly repairs = new Counter({ name: 'wren_repairs_total', help: 'Kernel changes made in passes triggered by the kernel itself (drift repaired)', registers: [this.registry] });
  private readonly changes = new Counter({ name: 'wren_kernel_changes_total', help: 'Kernel operations applied, by phase', labelNames: ['phase'], registers: [this.registry] });
  private readonly failures = new Counter({ name: 'wren_kernel_failures_total', help: 'Kernel operations that failed', registers: [this.registry] });
  private readonly invalid = new Gauge({ name: 'wren_invalid_objects', help: 'Objects currently left out because they are invalid', registers: [this.registry] });
  private readonly problems = new Gauge({ name: 'wren_problems', help: 'Problems now, by reason: objects, or parts of them, refused or left without routes', labelNames: ['reason'], registers: [this.registry] });
  private readonly mtu = new Gauge({ name: 'wren_mtu_bytes', help: 'MTU in use, by device role', labelNames: ['device'], registers: [this.registry] });
  private readonly lastSuccess = new Gauge({ name: 'wren_last_successful_pass_timestamp_seconds', help: 'When the last pass succeeded (Unix time)', registers: [this.registry] });
  private readonly nat = new NatMetrics(this.registry);

  private readonly mtuFileOk = new Gauge({ name: 'wren_mtu_file_ok', help: 'Whether the MTU file holds the pod MTU (0: the last write failed, see /status)', registers: [this.registry] });
  private readonly mtuFileErrors = new Counter({ name: 'wren_mtu_file_write_errors_total', help: 'Failed writes of the MTU file', registers: [this.registry] });
  private mtuFileErrorsSeen = 0;

  setMtuFile(status: MtuFileStatus | undefined): void {
    if (status === undefined) return;
    this.mtuFileOk.set(status.error === null ? 1 : 0);
    this.mtuFileErrors.inc(status.failedWrites - this.mtuFileErrorsSeen);
    this.mtuFileErrorsSeen = status.failedWrites;
  }

  /** Every reason has a series, 0 when it does not occur, so a reason going away shows as 0. */
  setProblems(summary: ProblemSummary): void {
    for (const reason of PROBLEM_REASONS) this.problems.set({ reason }, summary.byReason[reason]?.count ?? 0);
  }

  setInvalidObjects(count: number): void {
    this.invalid.set(count);
  }

  onPass(report: LoopReport | undefined, error: unknown, trigger: PassTrigger): void {
    // partial: the kernel refused some lines (each a problem of its object), the rest landed.
    this.passes.inc({ outcome: error !== undefined ? 'failure' : (report?.failures.length ?? 0) > 0 ? 'partial' : 'success' });
    if (report === undefined) return;
    this.passSeconds.observe(report.durationMs / 1000);
    // Programmed = desired minus what could not be written, class by class: counted from the
    // (short) lists of exceptions, never from the whole table.
    const missing: Partial<Record<RouteClass, number>> = {};
    const count = (cls: RouteClass) => (missing[cls] = (missing[cls] ?? 0) + 1);
    for (const h of report.held) count(h.route.class);
    for (const c of report.conflicts) count(c.desired.class);
    for (const f of report.failures) if (f.op.op === 'route-replace' && 'class' in f.op.route) count((f.op.route as { class: RouteClass }).class);
    for (const [cls, n] of Object.entries(report.desiredByClass)) {
      this.routesDesired.set({ class: cls }, n);
      this.routesProgrammed.set({ class: cls }, Math.max(0, n - (missing[cls as RouteClass] ?? 0)));
    }
    this.routesHeld.set(report.held.length);
    this.conflicts.set(report.conflicts.length);
    this.failures.inc(report.failures.length);
    let applied = 0;
    for (const phase of report.plan) {
      const ok = phase.ops.length - report.failures.filter((f) => f.phase === phase.name).length;
      if (report.applied !== undefined && ok > 0) this.changes.inc({ phase: phase.name }, ok);
      applied += report.applied === undefined ? 0 : ok;
    }
    if (applied > 0) {
      this.eventToKernel.observe((performance.now() - trigger.since) / 1000);
      // The first pass writes what the node lacks: kernel events noted before it are not drift.
      if (!trigger.reasons.has('start') && (trigger.reasons.has('kernel-route') || trigger.reasons.has('kernel'))) this.repairs.inc(applied);
    }
    this.mtu.set({ device: 'host' }, report.mtus.host);
    this.mtu.set({ device: 'pod' }, report.mtus.pod);
    for (const [encap, value] of Object.entries(report.mtus.tunnels)) this.mtu.set({ device: encap }, value);
    if (report.nat !== undefined) this.nat.set(report.nat);
    if (error === undefined) this.lastSuccess.set(Date.now() / 1000);
  }
}
