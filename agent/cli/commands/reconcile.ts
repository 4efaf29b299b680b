// `wren diff` and `wren apply`: the next pass against a namespace's kernel, shown or carried out.
import { IpKernel } from '../../../kernel/kernel.js';
import { renderOp, type Op } from '../../../kernel/plan.js';
import { formatRoute } from '../../../kernel/format.js';
import { writeMtuFile } from '../../mtu-file.js';
import { readKernel, reconcileOnce, type PassReport } from '../../reconciler.js';
import { parseFlags, requireFlag } from '../args.js';
import { clusterFlags, loadCluster } from '../cluster-flags.js';
import { DATAPLANE_FLAGS, dataplaneConfig } from '../dataplane-flags.js';
import type { Output } from '../output.js';
import { refuseUnlessWhole, reportProblems } from '../output.js';

const FLAGS = { ...DATAPLANE_FLAGS, ...clusterFlags, netns: { type: 'string' }, 'mtu-file': { type: 'string' }, json: { type: 'boolean' } } as const;

export async function reconcileCommand(argv: readonly string[], io: Output, mode: 'diff' | 'apply'): Promise<number> {
  const { values } = parseFlags(argv, FLAGS);
  const config = dataplaneConfig(values, requireFlag(values.node, 'node', 'the node this kernel belongs to'));
  const kernel = new IpKernel(values.netns);
  // The kernel is read while the cluster loads: `ip` runs on another core while this one parses.
  const [cluster, read] = await Promise.all([loadCluster(values), readKernel(kernel, config.table)]);
  refuseUnlessWhole(io, cluster, config.nodeName);
  // A snapshot is a complete picture, so stale routes may go; the agent waits for sync instead.
  // IPIP support is asked only if an admitted pool uses it (asking loads the ipip module).
  const ipipSupported = () => kernel.supportsIpip();
  const report = await reconcileOnce(kernel, cluster.snapshot, config, { allowDeletes: true, dryRun: mode === 'diff', ipipSupported }, read);
  reportProblems(io, [...cluster.problems, ...report.problems]);
  // The kernel is done by now: a refused MTU file is said after the pass's own report, not instead of it.
  const mtuFile = mode === 'apply' && values['mtu-file'] !== undefined ? await writeMtuFile(values['mtu-file'], report.desired.mtus.pod).then(() => undefined, (error: unknown) => error as Error) : undefined;
  if (values.json) {
    io.out(JSON.stringify(summary(report, mode), null, 2));
  } else {
    printReport(report, mode, io);
  }
  if (mtuFile !== undefined) io.err(`wren apply: ${mtuFile.message}`);
  return report.failures.length > 0 || mtuFile !== undefined ? 1 : 0;
}

function printReport(report: PassReport, mode: 'diff' | 'apply', io: Output): void {
  const failed = new Set<Op>(report.failures.map((f) => f.op));
  for (const phase of report.planned.plan) {
    // A NAT operation is several nft commands (kernel/nat/nat-render.ts): a line each.
    for (const op of phase.ops) for (const line of renderOp(op).split('\n')) io.out(`${op.op.endsWith('-delete') ? '-' : '+'} ${line}${failed.has(op) ? '   # FAILED' : ''}`);
  }
  for (const c of report.planned.routes.conflicts) {
    io.out(`! ${formatRoute(c.desired)}   # held by a foreign route: ${formatRoute(c.foreign)}`);
  }
  for (const h of report.planned.routes.held) io.out(`~ ${formatRoute(h.route)}   # waiting: ${h.reason}`);
  for (const f of report.failures) io.err(`error: ${f.line}: ${f.error}`);
  const s = summary(report, mode);
  io.out(
    `${mode === 'apply' ? 'applied' : 'would apply'} ${s.changes} change(s): ${s.routesReplaced} route(s) added or replaced, ${s.routesRemoved} removed, ` +
      `${s.unchanged} unchanged, ${s.held} held, ${s.conflicts} conflict(s), ${s.failed} failed (${s.ms} ms)`,
  );
}

function summary(report: PassReport, mode: 'diff' | 'apply') {
  const routes = report.planned.routes;
  return {
    mode,
    changes: report.planned.plan.reduce((n, p) => n + p.ops.length, 0),
    routesReplaced: routes.replace.length,
    routesRemoved: routes.remove.length,
    unchanged: routes.unchanged,
    held: routes.held.length,
    conflicts: routes.conflicts.length,
    failed: report.failures.length,
    desiredByClass: report.desiredByClass,
    mtu: report.desired.mtus,
    ms: Math.round(report.durationMs),
  };
}
