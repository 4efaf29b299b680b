// The node's dataplane as wren owns it: one manager per kind of kernel state — the route table
// (kernel/route-table/), the VXLAN devices with their neighbours and FDB, tunl0, the workload
// MTUs, wren's NAT tables — over one table of links. Each takes the wanted state and the kernel's, and yields the
// operations for what differs; `plan()` puts them into one plan in the kernel's order
// (kernel/plan.ts), and `applied()` hands the kernel's answer back to each.
//
// Plan order: devices first, so routes through a new vxlan.calico are accepted; FDB and
// neighbours before the routes that need them; stale routes before devices go away. Neighbours
// have phases of their own (kernel/kernel.ts): a refused one cannot cost the routes. NAT is
// last, one nft transaction that depends on no device. BGP (bgp-manager.ts) is the one manager
// with no kernel operations: it says what BIRD is told, and agent/bgp/ tells it after the pass.
import type { OpFailure } from '../../kernel/kernel.js';
import type { NeighborEvent } from '../../kernel/monitor-events.js';
import type { RouteEvent } from '../../kernel/monitor-route.js';
import type { Op, Plan } from '../../kernel/plan.js';
import { RouteTable, type RouteOps } from '../../kernel/route-table/route-table.js';
import type { KernelState, Link } from '../../kernel/state.js';
import type { IfaceName } from '../../kernel/values.js';
import type { DesiredRoute } from '../../routing/route-classes.js';
import { isDefaultWorkloadIface, type WorkloadIfaceTest } from '../../routing/workload-iface.js';
import type { DesiredNode } from '../node-plan.js';
import { BgpManager } from './bgp-manager.js';
import { IpipManager } from './ipip-manager.js';
import { LinkTable } from './link-table.js';
import { NatManager } from './nat-manager.js';
import { VxlanManager } from './vxlan-manager.js';
import { WorkloadMtuManager } from './workload-mtu.js';

export interface DataplaneOptions {
  readonly table: number;
  readonly proto: number;
  readonly isWorkloadIface?: WorkloadIfaceTest;
}

export interface PlanContext {
  readonly allowDeletes: boolean;
  readonly graceIfaces?: ReadonlySet<IfaceName>;
}

export interface PlannedDataplane {
  readonly plan: Plan;
  readonly routes: RouteOps;
}

export class Dataplane {
  readonly routes: RouteTable<DesiredRoute>;
  readonly links = new LinkTable();
  readonly vxlan = new VxlanManager();
  private readonly ipip = new IpipManager();
  private readonly mtu: WorkloadMtuManager;
  readonly nat = new NatManager();
  /** What BIRD is told (no kernel operations: agent/bgp/ hands it over). */
  readonly bgp = new BgpManager();
  readonly isWorkloadIface: WorkloadIfaceTest;

  constructor(options: DataplaneOptions) {
    this.isWorkloadIface = options.isWorkloadIface ?? isDefaultWorkloadIface;
    this.routes = new RouteTable(options.table, { proto: options.proto, isWorkloadIface: this.isWorkloadIface });
    this.mtu = new WorkloadMtuManager(this.isWorkloadIface);
  }

  /** A full read of the kernel begins: route events from now on are newer than it. */
  beginRead(): void {
    this.routes.beginRead();
  }

  /** The kernel as read (since `beginRead`): everything is decided afresh against it. */
  reset(state: KernelState): void {
    this.routes.reset(state.routes);
    this.setLinks(state.links);
    this.vxlan.reset(state);
    this.nat.reset(state.nat);
  }

  /** The whole wanted node (a full pass). */
  setDesired(desired: DesiredNode): void {
    this.routes.setAllDesired(desired.routes);
    this.vxlan.setDesired(desired.vxlan);
    this.ipip.setDesired(desired.ipip);
    this.mtu.setDesired({ mtu: desired.mtus.pod, hostIface: desired.hostIface, routed: (name) => desired.routeEngine.usesDevice(name) });
    this.nat.setDesired(desired.nat);
    this.bgp.setDesired(desired.bgp, desired.routes);
  }

  /** The links as read now; device managers decide their devices against them again. */
  setLinks(links: readonly Link[]): void {
    this.links.set(links);
    this.vxlan.linksRead();
    this.ipip.linksRead();
  }

  observeRoute(event: RouteEvent): boolean {
    return this.routes.observe(event);
  }

  observeNeighbor(entry: NeighborEvent): boolean {
    return this.vxlan.observe(entry);
  }

  /** Everything pending, as one plan; the managers consider it written until `applied` says otherwise. */
  plan(context: PlanContext): PlannedDataplane {
    const vxlan = this.vxlan.deviceOps(this.links);
    const ipip = this.ipip.deviceOps(this.links);
    const setup: Op[] = [...vxlan.setup, ...ipip.setup, ...this.mtu.ops(this.links)];
    const entries = this.vxlan.entryOps(context.allowDeletes);
    // Deleting a device takes its routes with it: against a device being re-created, the kernel's
    // routes on it are already gone and must be written again.
    for (const op of setup) if (op.op === 'link-delete') this.routes.dropRoutesOf(op.name);
    const routes = this.routes.pending({ ...context, links: this.links.ready([...vxlan.ready, ...ipip.ready]) });
    return {
      plan: [
        { name: 'setup', tool: 'ip', ops: setup },
        { name: 'fdb', tool: 'bridge', ops: entries.fdb },
        { name: 'neighbors', tool: 'ip', ops: entries.neighReplace },
        { name: 'routes', tool: 'ip', ops: routes.ops },
        { name: 'stale-neighbors', tool: 'ip', ops: entries.neighDelete },
        { name: 'teardown', tool: 'ip', ops: vxlan.teardown },
        { name: 'nat', tool: 'nft', ops: this.nat.ops() },
      ],
      routes,
    };
  }

  /** Call with a plan before it is applied: the echoes of its writes are then known. */
  applying(plan: Plan): void {
    this.routes.applying(plan.flatMap((p) => p.ops));
  }

  /** The kernel's answer: accepted writes are the kernel's now; refused ones are looked at again. */
  applied(plan: Plan, failures: readonly OpFailure[]): void {
    const ops = plan.flatMap((p) => p.ops);
    this.routes.applied(ops, failures);
    this.links.applied(ops, failures);
    this.vxlan.applied(failures.some((f) => f.phase === 'fdb' || f.phase === 'neighbors' || f.phase === 'stale-neighbors'));
    this.nat.applied(plan.some((p) => p.name === 'nat' && p.ops.length > 0), failures.some((f) => f.phase === 'nat'));
  }
}
