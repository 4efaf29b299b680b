// The agent's status as JSON (`/status`, `wren status`): who and where, sync state, what the
// last pass did, and what the next pass would change right now (a dry run against the kernel).
// Lists that grow with the cluster are capped (the first STATUS_LIST_CAP and the total), so the
// answer is the same size at any cluster size.
import type { Kernel } from '../kernel/kernel.js';
import { FAMILIES, NAT_TABLE, nftFamily } from '../kernel/nat/nat-state.js';
import type { NatStatus } from './dataplane/nat-manager.js';
import { renderOp, type Plan } from '../kernel/plan.js';
import type { ObjectProblem } from '../routing/cluster.js';
import { capped } from './capped.js';
import type { ClusterSource } from './cluster-source.js';
import type { ContactState } from '../calico/datastore-contact.js';
import type { AgentConfig } from './config.js';
import type { ReconcileLoop } from './loop.js';
import type { DataplaneConfig } from './node-plan.js';
import { summariseProblems } from './problem-summary.js';
import { reconcileOnce } from './reconciler.js';
import { ClusterRefusedError } from './cluster-wholeness.js';

export const STATUS_LIST_CAP = 100;

/** `objectProblems`: the datastore's invalid objects, counted with the pass's problems per reason. */
export async function statusReport(config: AgentConfig, loop: ReconcileLoop, kernel: Kernel, source: ClusterSource, dataplane: DataplaneConfig, objectProblems: () => readonly ObjectProblem[] = () => []) {
  const s = loop.status();
  const last = s.lastReport;
  // A refused cluster's diff would be the withdrawal the loop is holding back: none is shown.
  // Every pool refused throws the same refusal: the loop says it as its last error.
  const pending = source.inSync() && s.clusterRefused === undefined
    ? await reconcileOnce(kernel, source.snapshot(), dataplane, { allowDeletes: true, dryRun: true }).catch((error: unknown) => {
      if (error instanceof ClusterRefusedError) return undefined;
      throw error;
    })
    : undefined;
  return {
    node: config.nodeName,
    datastore: config.datastore,
    inSync: s.inSync,
    clusterRefused: s.clusterRefused ?? null,
    datastoreContact: contactReport(source.contact?.()),
    passes: s.passes,
    lastPassAt: s.lastPassAt === undefined ? null : new Date(s.lastPassAt).toISOString(),
    lastSuccessAt: s.lastSuccessAt === undefined ? null : new Date(s.lastSuccessAt).toISOString(),
    lastError: s.lastError ?? null,
    mtu: last?.mtus ?? null,
    mtuFile: s.mtuFile ?? null,
    hostIface: last?.hostIface ?? null,
    routes: last === undefined ? null : {
      desired: last.desiredByClass,
      held: firstOf(last.held, (h) => ({ dst: h.route.dst, reason: h.reason })),
      conflicts: firstOf(last.conflicts, (c) => ({ dst: c.desired.dst, foreignProto: c.foreign.proto })),
    },
    nat: last?.nat === undefined ? null : natReport(last.nat),
    // A dry run is refused nothing: lines the kernel refused are the last pass's problems.
    problems: summariseProblems([...objectProblems(), ...((pending ?? last)?.problems ?? []), ...(pending === undefined ? [] : (last?.problems ?? []).filter((p) => p.reason === 'kernel-refused'))]),
    pendingDiff: pending === undefined ? null : firstOf(opsOf(pending.planned.plan), renderOp),
  };
}

/** NAT as `/status` shows it: whether the node can have it, and per family what is wanted and in the kernel. */
export function natReport(nat: NatStatus) {
  return {
    supported: nat.supported,
    unsupported: nat.unsupported ?? null,
    enabled: nat.wanted.length > 0,
    tables: FAMILIES.map((family) => {
      const wanted = nat.wanted.find((t) => t.family === family);
      return { table: `${nftFamily(family)} ${NAT_TABLE}`, wanted: wanted !== undefined, present: nat.present.includes(family), masquerade: wanted?.masquerade ?? [], pools: wanted?.pools ?? [] };
    }),
    repairs: nat.repairs,
    held: nat.held ?? null,
  };
}

/** When the datastore last answered and since when it has been failing (null: a file, nothing to contact). */
function contactReport(contact: ContactState | undefined) {
  if (contact === undefined) return null;
  const time = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
  return { lastContactAt: time(contact.lastContactAt), failingSince: time(contact.failingSince), failure: contact.failure ?? null };
}

/** The first STATUS_LIST_CAP items, each turned into what /status shows, and the total. */
function firstOf<T, U>(items: Iterable<T>, show: (item: T) => U): { total: number; first: U[] } {
  const { total, first } = capped(items, STATUS_LIST_CAP);
  return { total, first: first.map((item) => show(item)) };
}

function* opsOf(plan: Plan) {
  for (const phase of plan) yield* phase.ops;
}
