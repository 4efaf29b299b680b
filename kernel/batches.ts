// How a phase's operations become `ip -batch` processes: in which order, and how many at once.
//
// Order. The kernel's cost to insert a route depends on the order: with many gateways on one
// device (every VXLAN route is via some VTEP on vxlan.calico), the next-hop lookup walks a hash
// chain keyed by device, and a gateway unlike the previous route's costs a longer walk. The
// cluster's own order interleaves gateways (block i → node i mod N); grouped by gateway, the
// bench's 100,000 routes over 5,000 gateways go in about 2.4 s instead of 10 s, 10,000 over 500
// in 0.20 s instead of 0.26 s (one `ip -batch`, kernel 6.18). So route replaces are grouped by
// device, then gateway; nothing else about a phase's order changes.
//
// Parallelism. The lines of one run of the same operation (route replaces, neighbour replaces…)
// do not depend on each other, so a long run is split over several processes at once, and the
// kernel does part of the work in parallel: 10,000 routes in 0.13 s in two processes instead of
// 0.20 s in one, on two cores. Runs keep their order — neighbours, then route replaces, then
// deletes, then stale neighbours: a run starts only when the one before it is done.
import { availableParallelism } from 'node:os';
import type { Op } from './plan.js';

/**
 * The line that closes every batch: an object iproute2 does not know, so it fails at once,
 * without a syscall, and its "Command failed -:N" says the process got to the end. Without it a
 * process that died mid-batch (ip's neighbour commands exit(2) on a kernel refusal, even under
 * -force) would look as if every line it never ran had been applied.
 */
export const BATCH_END_LINE = 'wren-batch-end';

/** Rounds run one after another; the batches of a round, each one process, run at the same time. */
export type Layout = readonly (readonly (readonly Op[])[])[];

export interface LayoutOptions {
  /** Most processes at once (1: never split). */
  readonly ways: number;
  /** A run is split only into batches at least this long: below it, a process costs more than it saves. */
  readonly minLinesPerProcess: number;
}

// Two processes against one, on 2 cores: even at 1,750 routes, 5 % faster at 2,750, 10 % at 4,250,
// 30 % at 10,000. The gain is partial (much of route insertion is serialized in the kernel), so
// more than 4 processes is not expected to pay; only 2 cores were measured.
export const DEFAULT_LAYOUT: LayoutOptions = { ways: Math.min(4, availableParallelism()), minLinesPerProcess: 1500 };

/** Route replaces grouped by device, then gateway, each in order of first appearance; all else in place. */
export function kernelOrder(ops: readonly Op[]): Op[] {
  const out: Op[] = [];
  for (const run of runsOf(ops)) {
    if (run[0]?.op !== 'route-replace') {
      for (const op of run) out.push(op);
      continue;
    }
    // By device, then gateway: nested maps, because a key string built for each of 100,000
    // routes costs more than the grouping itself.
    const groups = new Map<string | undefined, Map<string | undefined, Op[]>>();
    for (const op of run) {
      const route = op.op === 'route-replace' ? op.route : undefined;
      let byVia = groups.get(route?.dev);
      if (byVia === undefined) groups.set(route?.dev, (byVia = new Map()));
      const group = byVia.get(route?.via);
      if (group === undefined) byVia.set(route?.via, [op]);
      else group.push(op);
    }
    for (const byVia of groups.values()) for (const group of byVia.values()) for (const op of group) out.push(op);
  }
  return out;
}

/** A phase's operations in kernel order, as rounds of parallel batches. */
export function layoutPhase(ops: readonly Op[], options: LayoutOptions = DEFAULT_LAYOUT): Layout {
  const rounds: Op[][][] = [];
  let pending: Op[] = [];
  for (const run of runsOf(kernelOrder(ops))) {
    const ways = Math.min(options.ways, Math.floor(run.length / options.minLinesPerProcess));
    if (ways < 2) {
      for (const op of run) pending.push(op);
      continue;
    }
    if (pending.length > 0) rounds.push([pending]);
    pending = [];
    // Contiguous slices of the grouped run: each process gets whole gateway groups but at its edges.
    const size = Math.ceil(run.length / ways);
    rounds.push(Array.from({ length: ways }, (_, i) => run.slice(i * size, (i + 1) * size)));
  }
  if (pending.length > 0) rounds.push([pending]);
  return rounds;
}

/** Maximal runs of consecutive operations of the same kind. */
function runsOf(ops: readonly Op[]): Op[][] {
  const runs: Op[][] = [];
  for (const op of ops) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last[0]?.op === op.op) last.push(op);
    else runs.push([op]);
  }
  return runs;
}
