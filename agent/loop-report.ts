// What one pass of the agent's loop did, full or incremental, in the shape metrics, logs and
// `/status` read: no per-route arrays of the whole table, so reporting costs what the pass did.
import type { ApplyResult, OpFailure } from '../kernel/kernel.js';
import type { Plan } from '../kernel/plan.js';
import type { IfaceName } from '../kernel/values.js';
import type { ObjectProblem } from '../routing/cluster.js';
import type { RouteClass } from '../routing/route-classes.js';
import type { HeldRoute, RouteConflict } from '../kernel/route-table/route-policy.js';
import type { DesiredRoute } from '../routing/route-classes.js';
import type { Mtus } from '../tunnels/mtu.js';
import type { WantedBgp } from './dataplane/bgp-manager.js';
import type { NatStatus } from './dataplane/nat-manager.js';

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
  readonly held: readonly HeldRoute<DesiredRoute>[];
  readonly conflicts: readonly RouteConflict<DesiredRoute>[];
  readonly problems: readonly ObjectProblem[];
  readonly mtus: Mtus;
  readonly hostIface: IfaceName;
  /** wren's NAT tables after the pass (dataplane/nat-manager.ts). */
  readonly nat?: NatStatus;
  /** What this node's BIRD is to be told (dataplane/bgp-manager.ts); agent/bgp/ tells it. */
  readonly bgp?: WantedBgp;
}
