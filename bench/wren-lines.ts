// The exact batch lines wren would write to a namespace, phase by phase, computed in-process
// with wren's own planner against that namespace's kernel, in the order wren's kernel adapter
// writes them (route replaces grouped by device and gateway). The floor and BIRD contenders are
// fed from these, so all contenders program the same routes.
import { dataplaneConfig, desiredNode, planNode, readKernel, type DataplaneConfig } from '../agent/index.js';
import { IpKernel, kernelOrder, renderOp, type Op, type Phase } from '../kernel/index.js';
import type { ClusterSnapshot, DesiredRoute } from '../routing/index.js';

export interface PlannedPhase {
  readonly name: Phase['name'];
  readonly tool: Phase['tool'];
  readonly ops: readonly Op[];
  /** In kernel order: what wren writes, and what the floor runs. */
  readonly lines: readonly string[];
  /** The same lines in the plan's own order, which follows the cluster's (gateways interleaved). */
  readonly clusterOrderLines: readonly string[];
}

export interface WrenPlan {
  readonly phases: readonly PlannedPhase[];
  readonly routes: readonly DesiredRoute[];
  readonly held: number;
}

export function benchDataplane(node: string): DataplaneConfig {
  // The CLI's defaults: proto 199, main table, VNI 4096, port 4789, host interface detected.
  return dataplaneConfig({}, node);
}

export async function planFor(netns: string, snapshot: ClusterSnapshot, node: string): Promise<WrenPlan> {
  const config = benchDataplane(node);
  const state = await readKernel(new IpKernel(netns), config.table);
  const desired = desiredNode(snapshot, state.links, config);
  const planned = planNode(desired, state, { proto: config.proto, allowDeletes: true });
  const phases = planned.plan.filter((p) => p.ops.length > 0).map((p) => {
    const ops = kernelOrder(p.ops);
    return { name: p.name, tool: p.tool, ops, lines: ops.map(renderOp), clusterOrderLines: p.ops.map(renderOp) };
  });
  return { phases, routes: desired.routes, held: planned.routes.held.length };
}
