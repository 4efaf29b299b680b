// The node's dataplane as wren owns it: one manager per kind of kernel state — the VXLAN devices
// with their neighbours and FDB, tunl0, the workload MTUs, the routes (the route table,
// kernel/route-table/), wren's NAT tables, BIRD's exports — over one table of links. Each has the
// one interface of manager.ts: it takes its part of the wanted node and of the kernel as read,
// and yields the operations for what differs; `plan()` asks them in order and puts their
// operations into one plan in the kernel's order (kernel/plan.ts), and `applied()` hands the
// kernel's answer back to each.
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
import { RouteManager } from './route-manager.js';
import { PHASES, phaseOps, type DataplaneManager, type PhaseName, type PlanPart } from './manager.js';

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
  readonly nat = new NatManager();
  /** What BIRD is told (no kernel operations: agent/bgp/ hands it over). */
  readonly bgp = new BgpManager();
  readonly isWorkloadIface: WorkloadIfaceTest;
  private readonly ipip = new IpipManager();
  private readonly routeManager: RouteManager;
  /** Every manager, in the order they plan, with its part of the wanted node. */
  private readonly managers: readonly { readonly manager: DataplaneManager<never>; readonly wanted: (desired: DesiredNode) => unknown }[];

  constructor(options: DataplaneOptions) {
    this.isWorkloadIface = options.isWorkloadIface ?? isDefaultWorkloadIface;
    this.routes = new RouteTable(options.table, { proto: options.proto, isWorkloadIface: this.isWorkloadIface });
    this.routeManager = new RouteManager(this.routes);
    const mtu = new WorkloadMtuManager(this.isWorkloadIface);
    this.managers = [
      managed(this.vxlan, (d) => d.vxlan),
      managed(this.ipip, (d) => d.ipip),
      managed(mtu, (d) => ({ mtu: d.mtus.pod, hostIface: d.hostIface, routed: (name: IfaceName) => d.routeEngine.usesDevice(name) })),
      managed(this.routeManager, (d) => d.routes),
      managed(this.nat, (d) => d.nat),
      managed(this.bgp, (d) => ({ node: d.bgp, routes: d.routes })),
    ];
  }

  /** A full read of the kernel begins: route events from now on are newer than it. */
  beginRead(): void {
    this.routes.beginRead();
  }

  /** The kernel as read (since `beginRead`): everything is decided afresh against it. */
  reset(state: KernelState): void {
    this.links.set(state.links);
    for (const { manager } of this.managers) manager.reset(state);
  }

  /** The whole wanted node (a full pass). */
  setDesired(desired: DesiredNode): void {
    for (const { manager, wanted } of this.managers) manager.setDesired(wanted(desired) as never);
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
    const byPhase = new Map<PhaseName, Op[]>(PHASES.map((p) => [p.name, []]));
    const before: PlanPart = Object.fromEntries(byPhase);
    for (const { manager } of this.managers) {
      const part = manager.pending({ ...context, links: this.links, before });
      for (const [name, ops] of Object.entries(part) as [PhaseName, readonly Op[]][]) {
        const into = byPhase.get(name) as Op[];
        for (const op of ops) into.push(op);
      }
    }
    return { plan: PHASES.map(({ name, tool }) => ({ name, tool, ops: byPhase.get(name) ?? [] })), routes: this.routeManager.last };
  }

  /** Call with a plan before it is applied: the echoes of its writes are then known. */
  applying(plan: Plan): void {
    this.routes.applying(phaseOps(plan, 'routes'));
  }

  /** The kernel's answer: each manager takes what it says of its operations. */
  applied(plan: Plan, failures: readonly OpFailure[]): void {
    this.links.applied(phaseOps(plan, 'setup'), failures);
    for (const { manager } of this.managers) manager.applied(plan, failures);
  }
}

function managed<W>(manager: DataplaneManager<W>, wanted: (desired: DesiredNode) => W) {
  return { manager: manager as DataplaneManager<never>, wanted };
}
