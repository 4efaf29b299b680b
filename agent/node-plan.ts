// One node's whole dataplane, desired and planned: routes (routing/), tunnel devices, neighbours,
// FDB and MTUs (tunnels/). Pure: the kernel state comes in as data, a plan goes out.
//
// Plan order (kernel/plan.ts): devices first, so routes through a new vxlan.calico are accepted;
// FDB and neighbours before the routes that need them; stale routes before devices go away.
import type { Op, Plan } from '../kernel/plan.js';
import type { KernelState, Link, Route } from '../kernel/state.js';
import type { Cidr, IfaceName } from '../kernel/values.js';
import { Admission } from '../routing/admission.js';
import { ClusterRefusedError } from './cluster-wholeness.js';
import { hostSpaceOf } from '../routing/forbidden-space.js';
import { isDefaultWorkloadIface, type WorkloadIfaceTest } from '../routing/workload-iface.js';
import type { ClusterSnapshot, ObjectProblem } from '../routing/cluster.js';
import { desiredRoutes, type RoutingOptions } from '../routing/desired-routes.js';
import type { RouteEngine } from '../routing/route-engine.js';
import type { DesiredRoute } from '../routing/route-classes.js';
import { diffRoutes, type RouteDiff } from '../routing/route-diff.js';
import { planIpip, planVxlan } from '../tunnels/device-plan.js';
import { detectHostMtu, interfaceCarrying } from '../tunnels/host-facts.js';
import { desiredIpip, ipipEnabled, type DesiredIpip } from '../tunnels/ipip.js';
import { computeMtus, type Encapsulation, type Mtus } from '../tunnels/mtu.js';
import { addEntryOps, diffEntries, emptyEntryOps } from '../tunnels/neighbor-diff.js';
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
  /** Host-side interfaces of local workloads, which get the pod MTU. */
  readonly workloadIfaces: ReadonlySet<IfaceName>;
  readonly problems: ObjectProblem[];
  /** The engine behind `routes`, which the agent keeps to route later changes one by one. */
  readonly routeEngine: RouteEngine;
  /** The meaning checks the engine's input passed, which the agent keeps to check later changes. */
  readonly admission: Admission;
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
  // Admitted workloads only, so their interfaces passed the workload interface test: the host
  // interface, a bridge or a tunnel never gets the pod MTU.
  const workloadIfaces = new Set(snapshot.workloads.filter((w) => w.node === config.nodeName).map((w) => w.iface));
  for (const p of [admission.problems(), routes.problems, ...vxlan.map((v) => v.problems), ipip.problems].flat()) problems.push(p);
  return { hostIface, mtus, routes: routes.routes, vxlan, ipip, workloadIfaces, problems, routeEngine: routes.engine, admission };
}

export interface PlanOptions {
  readonly proto: number;
  readonly allowDeletes: boolean;
  readonly graceIfaces?: ReadonlySet<IfaceName>;
  readonly isWorkloadIface?: WorkloadIfaceTest;
}

export interface NodePlan {
  readonly plan: Plan;
  readonly routes: RouteDiff;
}

export function planNode(desired: DesiredNode, actual: KernelState, options: PlanOptions): NodePlan {
  const links = new Map(actual.links.map((l) => [l.name, l]));
  const setup: Op[] = [];
  const teardown: Op[] = [];
  const entries = emptyEntryOps();
  const ready = new Map<IfaceName, { up: boolean }>(actual.links.map((l) => [l.name, { up: l.up }]));

  for (const v of desired.vxlan) {
    if (v.hold) continue;
    const have = links.get(v.device);
    const ops = planVxlan(v.spec, v.device, have);
    for (const op of ops.setup) setup.push(op);
    for (const op of ops.teardown) teardown.push(op);
    for (const name of ops.ready) ready.set(name, { up: true });
    if (v.spec === undefined) continue;
    // A device being (re)created starts empty: everything on it must be written again.
    const fresh = ops.setup.some((op) => op.op === 'vxlan-add');
    const onDevice = fresh
      ? { neighbors: [], fdb: [] }
      : { neighbors: actual.neighbors.filter((n) => n.dev === v.device), fdb: actual.fdb.filter((f) => f.dev === v.device) };
    addEntryOps(entries, diffEntries(v, onDevice, options.allowDeletes));
  }
  const ipip = planIpip(desired.ipip, links.get(desired.ipip.name));
  for (const op of ipip.setup) setup.push(op);
  for (const name of ipip.ready) ready.set(name, { up: true });

  // Only workload interfaces get the pod MTU (admission already refused any other; this is the
  // last line before the kernel, and the host interface is never one).
  const isWorkloadIface = options.isWorkloadIface ?? isDefaultWorkloadIface;
  for (const name of desired.workloadIfaces) {
    const have = links.get(name);
    if (!isWorkloadIface(name) || name === desired.hostIface) continue;
    if (have !== undefined && have.mtu !== desired.mtus.pod) setup.push({ op: 'link-mtu', name, mtu: desired.mtus.pod });
  }

  // Deleting a device takes its routes with it: against a device being re-created, the kernel's
  // current routes are already gone and must be written again.
  const recreated = new Set(setup.flatMap((op) => (op.op === 'link-delete' ? [op.name] : [])));
  const surviving = recreated.size === 0 ? actual.routes : actual.routes.filter((r) => r.dev === undefined || !recreated.has(r.dev));
  const routes = diffRoutes(desired.routes, surviving, { ...options, links: ready });
  const routeOps: Op[] = [
    ...routes.replace.map((route): Op => ({ op: 'route-replace', route })),
    ...routes.remove.map((route): Op => ({ op: 'route-delete', route })),
  ];
  return {
    // Neighbours in phases of their own (kernel/kernel.ts): a refused one cannot cost the routes.
    plan: [
      { name: 'setup', tool: 'ip', ops: setup },
      { name: 'fdb', tool: 'bridge', ops: entries.fdb },
      { name: 'neighbors', tool: 'ip', ops: entries.neighReplace },
      { name: 'routes', tool: 'ip', ops: routeOps },
      { name: 'stale-neighbors', tool: 'ip', ops: entries.neighDelete },
      { name: 'teardown', tool: 'ip', ops: teardown },
    ],
    routes,
  };
}
