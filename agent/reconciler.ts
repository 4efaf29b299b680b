// One reconcile pass against a real (or fake) kernel: read, compute, diff, apply, report.
//
// The read is what the pass needs and no more: routes of wren's table, all links with their
// addresses, neighbours/FDB only on wren's VXLAN devices, and wren's NAT tables. When a batch line fails, the
// pass reports it and marks the kernel view stale; the caller re-reads and re-diffs on the next
// pass instead of trusting what it thought it wrote.
import type { ApplyResult, Kernel, OpFailure } from '../kernel/kernel.js';
import { NO_IPIP_SUPPORT } from '../kernel/kernel.js';
import { countOps } from '../kernel/plan.js';
import { MAIN_TABLE, type KernelState } from '../kernel/state.js';
import type { ClusterSnapshot, ObjectProblem } from '../routing/cluster.js';
import { IPIP_DEVICE, VXLAN_DEVICE, VXLAN_DEVICE_V6 } from '../routing/devices.js';
import type { RouteClass } from '../routing/route-classes.js';
import { ROUTE_CLASSES } from '../routing/route-classes.js';
import { natProblems } from './dataplane/nat-manager.js';
import type { DataplaneConfig, DesiredNode, NodePlan } from './node-plan.js';
import { desiredNode, planNode } from './node-plan.js';
import type { IfaceName } from '../kernel/values.js';

export interface PassOptions {
  readonly allowDeletes: boolean;
  readonly dryRun?: boolean;
  readonly graceIfaces?: ReadonlySet<IfaceName>;
  /**
   * False when the kernel cannot make IPIP devices: tunl0 is then not attempted (routes held). A
   * function asks the kernel, and is called only when an admitted pool uses IPIP: asking loads the
   * ipip module (and so makes tunl0), which a refused pool must not cause.
   */
  readonly ipipSupported?: boolean | (() => Promise<boolean>);
}

export interface PassReport {
  readonly desired: DesiredNode;
  readonly planned: NodePlan;
  readonly applied?: ApplyResult;
  readonly problems: readonly ObjectProblem[];
  readonly desiredByClass: Record<RouteClass, number>;
  readonly failures: readonly OpFailure[];
  readonly durationMs: number;
}

export async function readKernel(kernel: Kernel, table: number, what: { routes: boolean } = { routes: true }): Promise<KernelState> {
  const [routes, links, nat] = await Promise.all([what.routes ? kernel.readRoutes(table) : [], kernel.readLinks(), kernel.readNat?.()]);
  const ours = links.filter((l) => l.name === VXLAN_DEVICE || l.name === VXLAN_DEVICE_V6).map((l) => l.name);
  const [neighbors, fdb] = await Promise.all([
    Promise.all(ours.map((d) => kernel.readNeighbors(d))),
    Promise.all(ours.map((d) => kernel.readFdb(d))),
  ]);
  return { routes, links, neighbors: neighbors.flat(), fdb: fdb.flat(), ...(nat === undefined ? {} : { nat }) };
}

export async function reconcileOnce(
  kernel: Kernel,
  snapshot: ClusterSnapshot,
  config: DataplaneConfig,
  options: PassOptions,
  actual?: KernelState,
): Promise<PassReport> {
  const started = performance.now();
  const read = actual ?? (await readKernel(kernel, config.table));
  const { desired, actual: state } = await computeDesired(kernel, snapshot, config, read, options.ipipSupported);
  return reconcileDesired(kernel, desired, state, config, options, started);
}

/**
 * The node wanted from a snapshot and the kernel as read, with the IPIP question answered: the
 * state comes back re-read where asking made tunl0.
 */
export async function computeDesired(
  kernel: Kernel,
  snapshot: ClusterSnapshot,
  config: DataplaneConfig,
  read: KernelState,
  ipipProbe: PassOptions['ipipSupported'],
): Promise<{ desired: DesiredNode; actual: KernelState }> {
  let state = read;
  // The node's way out must be known to keep pools off it: the main table's default routes.
  const gatewayRoutes = config.table === MAIN_TABLE ? state.routes : await kernel.readRoutes(MAIN_TABLE);
  const computed = desiredNode(snapshot, state.links, config, gatewayRoutes);
  const ipipSupported = typeof ipipProbe === 'function' ? (computed.ipip.spec === undefined ? undefined : await ipipProbe()) : ipipProbe;
  // Asking may have made tunl0: plan against the links as they are now.
  if (typeof ipipProbe === 'function' && ipipSupported === true && !state.links.some((l) => l.name === IPIP_DEVICE)) state = { ...state, links: await kernel.readLinks() };
  return { desired: ipipSupported === false ? withoutIpipDevice(computed) : computed, actual: state };
}

/** The second half of a pass: a desired node against a kernel state already read. */
export async function reconcileDesired(
  kernel: Kernel,
  desired: DesiredNode,
  state: KernelState,
  config: DataplaneConfig,
  options: PassOptions,
  started = performance.now(),
): Promise<PassReport> {
  const planned = planNode(desired, state, { proto: config.proto, table: config.table, allowDeletes: options.allowDeletes, graceIfaces: options.graceIfaces, isWorkloadIface: config.isWorkloadIface });
  const applied = options.dryRun || countOps(planned.plan) === 0 ? undefined : await kernel.apply(planned.plan);
  const desiredByClass = Object.fromEntries(ROUTE_CLASSES.map((c) => [c, 0])) as Record<RouteClass, number>;
  for (const r of desired.routes) desiredByClass[r.class] += 1;
  return {
    desired,
    planned,
    applied,
    problems: [...desired.problems, ...natProblems(desired.nat, state.nat, config.nodeName)],
    desiredByClass,
    failures: applied?.failures ?? [],
    durationMs: performance.now() - started,
  };
}

function withoutIpipDevice(desired: DesiredNode): DesiredNode {
  if (desired.ipip.spec === undefined) return desired;
  return {
    ...desired,
    ipip: { ...desired.ipip, spec: undefined },
    problems: [
      ...desired.problems,
      {
        kind: 'IPPool',
        name: '*',
        field: 'spec.ipipMode',
        message: `a pool uses IPIP but ${NO_IPIP_SUPPORT}: routes through tunl0 are held`,
      },
    ],
  };
}
