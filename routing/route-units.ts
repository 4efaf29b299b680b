// The routes one object implies for this node, object by object: a block (its blackhole or its
// remote route, and /32s for addresses borrowed out of it) or a local workload (its /32s). Both
// the full calculation and the incremental engine (route-engine.ts) are built from these, so a
// change routed incrementally yields exactly what a full pass over the same cluster would.
//
// Pure: no I/O. A bad object costs only its own routes: it is reported as a problem and skipped.
import { IPV6_DEFAULT_METRIC } from '../kernel/state.js';
import type { Cidr, Family, IfaceName, IpAddr } from '../kernel/values.js';
import { familyOf, hostCidr } from '../kernel/values.js';
import { affinityStatus } from './block-index.js';
import type { BlockAffinity, ClusterNode, IpamBlock, IpPool, ObjectProblem, Workload } from './cluster.js';
import { IPIP_DEVICE, VXLAN_DEVICE, VXLAN_DEVICE_V6 } from './devices.js';
import { pathTo, sameSubnet, type Path } from './encapsulation.js';
import type { DesiredRoute, RouteClass } from './route-classes.js';

export interface LocalNode {
  readonly name: string;
  /** The underlay interface that carries the node address: direct routes leave through it. */
  readonly hostIface: IfaceName;
  readonly hostIfaceV6?: IfaceName;
}

export interface RoutingOptions {
  /** The routing protocol number every wren route carries (its ownership mark). */
  readonly proto: number;
  readonly table: number;
  /** The agent runs BGP (`--bgp on`): with a peer for this node, off-subnet no-encap blocks are the fabric's. */
  readonly bgp?: boolean;
}

export interface UnitOutput {
  readonly routes: DesiredRoute[];
  readonly problems: ObjectProblem[];
}

/**
 * What every unit needs to know about the cluster besides its own object: the nodes, this node,
 * and a memo of paths. Valid as long as the nodes and pools are: the engine rebuilds it when
 * either changes.
 */
export class UnitContext {
  readonly me: ClusterNode;
  /** Problems of the context itself (this node missing from the cluster). */
  readonly problems: ObjectProblem[] = [];
  private readonly make: Maker;
  // One decision per (pool, node), not per block: at 100,000 blocks the subnet checks would
  // otherwise dominate the pass. Keyed by object identity, which is stable while the context is.
  private readonly paths = new Map<IpPool, Map<ClusterNode, UnitPath>>();

  /**
   * `fabric`: BGP peers carry this node's blocks to the network, and the other nodes' to it. A
   * `via <node> onlink` route cannot cross a router, so blocks of nodes off this node's subnet
   * without encapsulation get no route here: the default route takes them to the fabric.
   */
  constructor(
    private readonly nodes: ReadonlyMap<string, ClusterNode>,
    private readonly local: LocalNode,
    options: RoutingOptions,
    private readonly fabric = false,
  ) {
    const me = nodes.get(local.name);
    if (me === undefined) {
      this.problems.push({ kind: 'Node', name: local.name, field: 'metadata.name', message: 'this node is not in the cluster: remote routes assume no shared subnet', reason: 'unknown-node' });
    }
    this.me = me ?? { name: local.name };
    this.make = routeMaker(options);
  }

  get localName(): string {
    return this.local.name;
  }

  blockUnit(block: IpamBlock, pool: IpPool, affinities: readonly BlockAffinity[] | undefined): UnitOutput {
    const routes: DesiredRoute[] = [];
    const affinity = affinityStatus(block, affinities);
    const problems = affinity.problems;
    const source = `IPAMBlock/${block.name}`;
    const home = block.affinityNode;
    if (home === this.local.name) {
      if (!affinity.pending) routes.push(this.make.blackhole(block.cidr, source));
    } else if (home !== undefined) {
      this.remote(block.cidr, home, pool, source, routes, problems);
    }
    for (const [index, alloc] of block.allocations.entries()) {
      const owner = alloc.node ?? home;
      if (owner === undefined) {
        problems.push({ kind: 'IPAMBlock', name: block.name, field: `spec.allocations[${index}]`, message: `${alloc.ip} has no owner node and the block no affinity`, reason: 'unknown-node' });
      } else if (owner !== home && owner !== this.local.name) {
        this.remote(hostCidr(alloc.ip), owner, pool, source, routes, problems);
      }
    }
    return { routes, problems };
  }

  /** Workloads of other nodes imply nothing here (their blocks do). */
  workloadUnit(w: Workload): UnitOutput {
    if (w.node !== this.local.name) return { routes: [], problems: [] };
    const source = `Workload/${w.namespace}/${w.name}`;
    return { routes: w.ips.map((ip) => this.make.workload(hostCidr(ip), w.iface, source)), problems: [] };
  }

  private remote(dst: Cidr, owner: string, pool: IpPool, source: string, routes: DesiredRoute[], problems: ObjectProblem[]): void {
    const node = this.nodes.get(owner);
    if (node === undefined) {
      const [kind, ...name] = source.split('/');
      problems.push({ kind: kind ?? 'IPAMBlock', name: name.join('/'), field: 'spec.affinity', message: `names unknown node ${owner}`, reason: 'unknown-node' });
      return;
    }
    const path = this.pathFor(pool, node, familyOf(dst));
    if (path === 'fabric') return;
    const route = remoteRoute(dst, node, path, this.local, this.make, source);
    if ('problem' in route) problems.push(route.problem);
    else routes.push(route);
  }

  private pathFor(pool: IpPool, node: ClusterNode, family: Family): UnitPath {
    let byNode = this.paths.get(pool);
    if (byNode === undefined) this.paths.set(pool, (byNode = new Map()));
    let path = byNode.get(node);
    if (path === undefined) {
      const direct = pathTo(pool, this.me, node, family);
      path = direct === 'direct' && this.fabric && !sameSubnet(this.me, node, family) ? 'fabric' : direct;
      byNode.set(node, path);
    }
    return path;
  }
}

/** A path, or 'fabric': no route here, the network knows the way (BGP). */
type UnitPath = Path | 'fabric';

type Maker = ReturnType<typeof routeMaker>;

function routeMaker(options: RoutingOptions) {
  // Object literals of one fixed shape, not spreads: this runs once per route, 100,000 times a
  // pass on a big cluster, and spread-built objects cost V8 several times as much.
  const metricOf = (dst: Cidr) => (dst.includes(':') ? IPV6_DEFAULT_METRIC : 0);
  const unicast = (dst: Cidr, cls: RouteClass, source: string, dev: IfaceName, via?: IpAddr): DesiredRoute => ({
    dst,
    table: options.table,
    metric: metricOf(dst),
    type: 'unicast',
    dev,
    via,
    onlink: via !== undefined,
    // IPv6 routes have no scope in the kernel (it reports every one as global).
    scope: via === undefined && !dst.includes(':') ? 'link' : 'global',
    proto: options.proto,
    class: cls,
    source,
  });
  return {
    blackhole: (dst: Cidr, source: string): DesiredRoute => ({
      dst,
      table: options.table,
      metric: metricOf(dst),
      type: 'blackhole',
      dev: undefined,
      via: undefined,
      onlink: false,
      scope: 'global',
      proto: options.proto,
      class: 'blackhole',
      source,
    }),
    workload: (dst: Cidr, dev: IfaceName, source: string) => unicast(dst, 'workload', source, dev),
    unicast,
  };
}

function remoteRoute(
  dst: Cidr,
  node: ClusterNode,
  path: Path,
  local: LocalNode,
  make: Maker,
  source: string,
): DesiredRoute | { problem: ObjectProblem } {
  const family: Family = familyOf(dst);
  const missing = (field: string, what: string) => ({
    problem: { kind: 'Node', name: node.name, field, message: `has no ${what}: no route to ${dst}`, reason: 'missing-address' as const },
  });
  if (path === 'vxlan') {
    const vtep = family === 4 ? node.vxlanTunnelAddr : node.vxlanTunnelAddrV6;
    const dev = family === 4 ? VXLAN_DEVICE : VXLAN_DEVICE_V6;
    if (vtep === undefined) return missing(family === 4 ? 'spec.ipv4VXLANTunnelAddr' : 'spec.ipv6VXLANTunnelAddr', `IPv${family} VXLAN tunnel address`);
    // A VTEP address that is itself the destination (a borrowed tunnel address) is directly
    // connected on the device; the neighbour entry resolves it.
    if (dst === hostCidr(vtep)) return make.unicast(dst, 'vxlan', source, dev);
    return make.unicast(dst, 'vxlan', source, dev, vtep);
  }
  const address = family === 4 ? node.ipv4 : node.ipv6;
  if (address === undefined) return missing(family === 4 ? 'spec.bgp.ipv4Address' : 'spec.bgp.ipv6Address', `IPv${family} address`);
  if (path === 'ipip') return make.unicast(dst, 'ipip', source, IPIP_DEVICE, address.ip);
  const hostIface = family === 4 ? local.hostIface : (local.hostIfaceV6 ?? local.hostIface);
  return make.unicast(dst, 'direct', source, hostIface, address.ip);
}

/** The unit of a block: its routes, and its problems (also the meaning checks', admission.ts). */
export function blockUnitId(block: IpamBlock): string {
  return `IPAMBlock/${block.name}`;
}

export function workloadUnitId(w: Workload): string {
  return `Workload/${w.node}/${w.namespace}/${w.name}/${w.iface}`;
}
