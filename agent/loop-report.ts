// What one pass of the agent's loop did, full or incremental, in the shape metrics, logs and
// `/status` read: no per-route arrays of the whole table, so reporting costs what the pass did.
import type { ApplyResult, OpFailure } from '../kernel/kernel.js';
import type { Plan } from '../kernel/plan.js';
import type { IfaceName } from '../kernel/values.js';
import type { ObjectProblem } from '../routing/cluster.js';
import type { RouteClass } from '../routing/route-classes.js';
import type { HeldRoute, RouteConflict } from '../routing/route-diff.js';
import type { Mtus } from '../tunnels/mtu.js';
import type { PassReport } from './reconciler.js';

export interface LoopReport {
  /**
   * full: everything read and recomputed; resync: the kernel read and compared with the routes
   * the engine holds; incremental: only the keys that changed.
   */
  readonly mode: 'full' | 'resync' | 'incremental';
  readonly durationMs: number;
  /** Of which waiting for the kernel's batches (incremental passes). */
  readonly kernelMs?: number;
  readonly plan: Plan;
  readonly applied?: ApplyResult;
  readonly failures: readonly OpFailure[];
  readonly replaced: number;
  readonly removed: number;
  /** Keys looked at (incremental), or every desired route (full). */
  readonly keys: number;
  /** The state after the pass: the whole node's, whatever the mode. */
  readonly desiredByClass: Record<RouteClass, number>;
  readonly held: readonly HeldRoute[];
  readonly conflicts: readonly RouteConflict[];
  readonly problems: readonly ObjectProblem[];
  readonly mtus: Mtus;
  readonly hostIface: IfaceName;
}

/** A full pass's report in the loop's shape. */
export function fullReport(report: PassReport, durationMs: number, mode: LoopReport['mode']): LoopReport {
  const routes = report.planned.routes;
  return {
    mode,
    durationMs,
    plan: report.planned.plan,
    applied: report.applied,
    failures: report.failures,
    replaced: routes.replace.length,
    removed: routes.remove.length,
    keys: report.desired.routes.length,
    desiredByClass: report.desiredByClass,
    held: routes.held,
    conflicts: routes.conflicts,
    problems: report.problems,
    mtus: report.desired.mtus,
    hostIface: report.desired.hostIface,
  };
}
