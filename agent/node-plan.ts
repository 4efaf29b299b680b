// One node's whole dataplane, desired and planned: routes (routing/), tunnel devices, neighbours,
// FDB and MTUs (tunnels/). Pure: the kernel state comes in as data, a plan goes out.
// The plan comes from the dataplane's managers (dataplane/dataplane.ts), the same ones the
// running agent keeps between passes.
import type { Plan } from '../kernel/plan.js';
import { MAIN_TABLE, type KernelState, type Link, type Route } from '../kernel/state.js';
import type { HeldRoute, RouteConflict } from '../kernel/route-table/route-policy.js';
import type { Cidr, IfaceName } from '../kernel/values.js';
import { Admission } from '../routing/admission.js';
import { ClusterRefusedError } from './cluster-wholeness.js';
import { hostSpaceOf } from '../routing/forbidden-space.js';
import { isDefaultWorkloadIface, type WorkloadIfaceTest } from '../routing/workload-iface.js';
import type { ClusterSnapshot, ObjectProblem } from '../routing/cluster.js';
import { desiredRoutes, type RoutingOptions } from '../routing/desired-routes.js';
import { desiredNat, type DesiredNat } from '../routing/nat.js';
import { nodeBgp, type NodeBgp } from '../routing/bgp/node-peers.js';
import type { RouteEngine } from '../routing/route-engine.js';
import type { DesiredRoute } from '../routing/route-classes.js';
import { detectHostMtu, interfaceCarrying } from '../tunnels/host-facts.js';
import { desiredIpip, ipipEnabled, type DesiredIpip } from '../tunnels/ipip.js';
import { computeMtus, type Encapsulation, type Mtus } from '../tunnels/mtu.js';
import { Dataplane, type PlannedDataplane } from './dataplane/dataplane.js';
import { desiredVxlan, vxlanEnabled, type DesiredVxlan, type VxlanSettings } from '../tunnels/vxlan.js';

export interface DataplaneConfig extends RoutingOptions {
  readonly nodeName: string;
  readonly vxlan: VxlanSettings;
  /** The underlay interface; detected from the node address when absent. */
  readonly hostIface?: IfaceName;
  /** Underlay MTU; detected from the host interface (or `mtuIfacePattern`) when absent. */
  readonly hostMtu?: number;
  readonly mtuIfacePattern?: RegExp;
  readonly mtuOverrides?: Partial<Record<Encapsulation, number>>;
  /** `--forbidden-cidrs`: space no pool may overlap, besides the host's own and reserved space. */
  readonly forbiddenCidrs?: readonly Cidr[];
  /** Which interfaces are workloads' (`--interface-prefix`); Calico's `cali` when absent. */
  readonly isWorkloadIface?: WorkloadIfaceTest;
}

/** Used when nothing can be detected (an offline `wren routes`), as Calico's samples do. */
export const FALLBACK_HOST_IFACE = 'eth0' as IfaceName;
export const FALLBACK_HOST_MTU = 1500;

export interface DesiredNode {
  readonly hostIface: IfaceName;
  readonly mtus: Mtus;
  readonly routes: DesiredRoute[];
  readonly vxlan: readonly DesiredVxlan[];
  readonly ipip: DesiredIpip;
  readonly problems: ObjectProblem[];
  /** The engine behind `routes`, which the agent keeps to route later changes one by one. */
  readonly routeEngine: RouteEngine;
  /** The meaning checks the engine's input passed, which the agent keeps to check later changes. */
  readonly admission: Admission;
  /** wren's NAT tables: the admitted pools' natOutgoing (a refused pool gets no rule). */
  readonly nat: DesiredNat;
  /** This node's BGP sessions, from the cluster's BGP objects (routing/bgp/node-peers.ts). */
  readonly bgp: NodeBgp;
}

/**
 * `gatewayRoutes`: the main table's routes (only their default routes are read), so no pool can
 * claim the node's way out; `links`: every link, whose addresses no pool may claim either.
 */
export function desiredNode(cluster: ClusterSnapshot, links: readonly Link[], config: DataplaneConfig, gatewayRoutes: readonly Route[] = []): DesiredNode {
  const problems: ObjectProblem[] = [];
  const isWorkloadIface = config.isWorkloadIface ?? isDefaultWorkloadIface;
  const host = hostSpaceOf(links, gatewayRoutes);
  const { admission, snapshot } = Admission.admit(cluster, config.nodeName, host, { forbiddenCidrs: config.forbiddenCidrs ?? [], isWorkloadIface });
  // Pools, but none usable: routing from this picture would withdraw everything. Refused as a
  // picture that cannot be a cluster is, and nothing changes.
  if (admission.everyPoolRefused) {
    throw new ClusterRefusedError({ code: 'no-ippool', message: `every IPPool is refused (${admission.problems().filter((p) => p.kind === 'IPPool').map((p) => `${p.name}: ${p.message}`).join('; ')})` });
  }
  const me = snapshot.nodes.find((n) => n.name === config.nodeName);
  const nodeIp = me?.ipv4?.ip ?? me?.ipv6?.ip;
  const carrying = nodeIp === undefined ? undefined : interfaceCarrying(links, nodeIp);
  if (nodeIp !== undefined && carrying === undefined && config.hostIface === undefined && links.length > 0) {
    problems.push({ kind: 'Node', name: config.nodeName, field: 'spec.bgp.ipv4Address', message: `${nodeIp} is on no interface of this host`, reason: 'missing-address' });
  }
  const hostIface = config.hostIface ?? carrying?.name ?? FALLBACK_HOST_IFACE;
  const v6Link = me?.ipv6 === undefined ? undefined : interfaceCarrying(links, me.ipv6.ip);
  const hostMtu = config.hostMtu ?? detectHostMtu(links, nodeIp, config.mtuIfacePattern) ?? FALLBACK_HOST_MTU;
  const hostMtuV6 = config.hostMtu ?? (v6Link?.mtu ?? hostMtu);

  // Devices and MTUs follow the admitted pools only: a refused pool creates, changes and takes
  // away nothing (a device it alone would want is left exactly as it is, below).
  const enabled: Encapsulation[] = [];
  if (ipipEnabled(snapshot)) enabled.push('ipip');
  if (vxlanEnabled(snapshot, 4)) enabled.push('vxlan4');
  if (vxlanEnabled(snapshot, 6)) enabled.push('vxlan6');
  const mtus = computeMtus({ hostMtu, hostMtuV6, enabled, overrides: config.mtuOverrides });

  const routes = desiredRoutes(snapshot, { name: config.nodeName, hostIface, hostIfaceV6: v6Link?.name }, config);
  const local = { name: config.nodeName, hostIface };
  const heldForRefused = (v: DesiredVxlan): DesiredVxlan => (v.spec === undefined && vxlanEnabled(cluster, v.family) ? { ...v, hold: true } : v);
  const vxlan = [
    heldForRefused(desiredVxlan(snapshot, local, 4, config.vxlan, mtus.tunnels.vxlan4 ?? hostMtu)),
    heldForRefused(desiredVxlan(snapshot, { ...local, hostIface: v6Link?.name ?? hostIface }, 6, config.vxlan, mtus.tunnels.vxlan6 ?? hostMtuV6)),
  ];
  const ipip = desiredIpip(snapshot, config.nodeName, mtus.tunnels.ipip ?? hostMtu);
  for (const p of [admission.problems(), routes.problems, ...vxlan.map((v) => v.problems), ipip.problems].flat()) problems.push(p);
  const bgp = nodeBgp(snapshot, config.nodeName);
  // A peer that cannot apply here is this node's problem only where it runs BGP.
  if (config.bgp === true) for (const p of bgp.problems) problems.push(p);
  return { hostIface, mtus, routes: routes.routes, vxlan, ipip, problems, routeEngine: routes.engine, admission, nat: desiredNat(snapshot.pools), bgp };
}

export interface PlanOptions {
  readonly proto: number;
  readonly allowDeletes: boolean;
  readonly graceIfaces?: ReadonlySet<IfaceName>;
  readonly isWorkloadIface?: WorkloadIfaceTest;
  /** The table the routes are in (only a running agent's view of it cares). */
  readonly table?: number;
}

/** What a plan does to the routes, in the shape `wren apply`, `/status` and the reports show. */
export interface RoutePlanSummary {
  readonly replace: readonly DesiredRoute[];
  readonly remove: readonly Route[];
  readonly held: readonly HeldRoute<DesiredRoute>[];
  readonly conflicts: readonly RouteConflict<DesiredRoute>[];
  readonly unchanged: number;
}

export interface NodePlan {
  readonly plan: Plan;
  readonly routes: RoutePlanSummary;
}

/** One node's plan against a kernel state read once: the agent's dataplane managers, used once. */
export function planNode(desired: DesiredNode, actual: KernelState, options: PlanOptions): NodePlan {
  const dataplane = new Dataplane({ table: options.table ?? MAIN_TABLE, proto: options.proto, isWorkloadIface: options.isWorkloadIface });
  dataplane.setDesired(desired);
  dataplane.reset(actual);
  return summarise(dataplane.plan(options), dataplane);
}

/** A dataplane's plan with what it does to the routes spelled out. */
export function summarise(planned: PlannedDataplane, dataplane: Dataplane): NodePlan {
  const replace: DesiredRoute[] = [];
  const remove: Route[] = [];
  for (const op of planned.routes.ops) {
    if (op.op === 'route-replace') replace.push(op.route as DesiredRoute);
    else if (op.op === 'route-delete') remove.push(op.route);
  }
  const routes = { replace, remove, held: dataplane.routes.heldRoutes(), conflicts: dataplane.routes.conflictingRoutes(), unchanged: planned.routes.unchanged };
  return { plan: planned.plan, routes };
}
