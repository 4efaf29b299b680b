// The agent's status as JSON (`/status`, `wren status`): who and where, sync state, what the
// last pass did, and what the next pass would change right now (a dry run against the kernel).
import type { Kernel } from '../kernel/kernel.js';
import { renderOp } from '../kernel/plan.js';
import type { ClusterSource } from './cluster-source.js';
import type { AgentConfig } from './config.js';
import type { ReconcileLoop } from './loop.js';
import type { DataplaneConfig } from './node-plan.js';
import { reconcileOnce } from './reconciler.js';

export async function statusReport(config: AgentConfig, loop: ReconcileLoop, kernel: Kernel, source: ClusterSource, dataplane: DataplaneConfig) {
  const s = loop.status();
  const last = s.lastReport;
  const pending = source.inSync() ? await reconcileOnce(kernel, source.snapshot(), dataplane, { allowDeletes: true, dryRun: true }) : undefined;
  return {
    node: config.nodeName,
    datastore: config.datastore,
    inSync: s.inSync,
    passes: s.passes,
    lastPassAt: s.lastPassAt === undefined ? null : new Date(s.lastPassAt).toISOString(),
    lastSuccessAt: s.lastSuccessAt === undefined ? null : new Date(s.lastSuccessAt).toISOString(),
    lastError: s.lastError ?? null,
    mtu: last?.mtus ?? null,
    hostIface: last?.hostIface ?? null,
    routes: last === undefined ? null : {
      desired: last.desiredByClass,
      held: last.held.map((h) => ({ dst: h.route.dst, reason: h.reason })),
      conflicts: last.conflicts.map((c) => ({ dst: c.desired.dst, foreignProto: c.foreign.proto })),
    },
    problems: (pending ?? last)?.problems ?? [],
    pendingDiff: pending === undefined ? null : pending.planned.plan.flatMap((phase) => phase.ops.map(renderOp)),
  };
}
