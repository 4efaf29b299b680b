// Cluster snapshot → the routes one node must have. Pure: no I/O, same input, same output.
//
// Producers (see route-classes.ts for who wins a shared key):
//   blackhole  every live block affine to this node, so traffic to a free address in it is
//              dropped here instead of leaking to the default gateway;
//   workload   a /32 (/128) per local pod via its host-side veth, scope link;
//   remote     every block affine to another node, via VXLAN, IPIP or directly (encapsulation.ts);
//   borrowed   an address allocated to node B out of a block affine to node A (or to no node) is
//              a /32 towards B on every node but B, or A's blackhole and everyone's block route
//              would swallow it.
// A bad object costs only its own routes: it is reported as a problem and skipped.
import type { Route } from '../kernel/state.js';
import { IPV6_DEFAULT_METRIC, MAIN_TABLE } from '../kernel/state.js';
import type { Cidr, Family, IfaceName, IpAddr } from '../kernel/values.js';
import { compareCidrs, familyOf, hostCidr } from '../kernel/values.js';
import { indexBlocks, pendingBlocks } from './block-index.js';
import type { ClusterNode, ClusterSnapshot, IpPool, ObjectProblem } from './cluster.js';
import { IPIP_DEVICE, VXLAN_DEVICE, VXLAN_DEVICE_V6 } from './devices.js';
import { pathTo, type Path } from './encapsulation.js';
import type { DesiredRoute, RouteClass } from './route-classes.js';
import { resolveCollisions } from './route-classes.js';

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
}

export const DEFAULT_ROUTE_PROTOCOL = 199;

export interface DesiredRoutes {
  readonly routes: DesiredRoute[];
  readonly problems: ObjectProblem[];
}

export function desiredRoutes(snapshot: ClusterSnapshot, local: LocalNode, options: RoutingOptions = { proto: DEFAULT_ROUTE_PROTOCOL, table: MAIN_TABLE }): DesiredRoutes {
  const problems: ObjectProblem[] = [];
  const nodes = new Map(snapshot.nodes.map((n) => [n.name, n]));
  const me = nodes.get(local.name) ?? { name: local.name };
  if (!nodes.has(local.name)) {
    problems.push({ kind: 'Node', name: local.name, field: 'metadata.name', message: 'this node is not in the cluster: remote routes assume no shared subnet' });
  }
  const make = routeMaker(options);
  const routes: DesiredRoute[] = [];
  // One decision per (pool, node, family), not per block: at 100,000 blocks the subnet checks
  // would otherwise dominate the pass.
  const paths = new Map<IpPool, Map<ClusterNode, Path>>();
  const pathFor = (pool: IpPool, node: ClusterNode, family: Family): Path => {
    let byNode = paths.get(pool);
    if (byNode === undefined) paths.set(pool, (byNode = new Map()));
    let path = byNode.get(node);
    if (path === undefined) {
      path = pathTo(pool, me, node, family);
      byNode.set(node, path);
    }
    return path;
  };

  const remote = (dst: Cidr, owner: string, pool: IpPool, source: string): void => {
    const node = nodes.get(owner);
    if (node === undefined) {
      const [kind, ...name] = source.split('/');
      problems.push({ kind: kind ?? 'IPAMBlock', name: name.join('/'), field: 'spec.affinity', message: `names unknown node ${owner}` });
      return;
    }
    const route = remoteRoute(dst, node, pathFor(pool, node, familyOf(dst)), local, make, source);
    if ('problem' in route) problems.push(route.problem);
    else routes.push(route);
  };

  const indexed = indexBlocks(snapshot.blocks, snapshot.pools);
  problems.push(...indexed.problems);
  const affinity = pendingBlocks(snapshot.affinities, indexed.blocks);
  problems.push(...affinity.problems);

  for (const { block, pool } of indexed.blocks) {
    const source = `IPAMBlock/${block.name}`;
    const home = block.affinityNode;
    if (home === local.name) {
      if (!affinity.pending.has(block.cidr)) routes.push(make.blackhole(block.cidr, source));
    } else if (home !== undefined) {
      remote(block.cidr, home, pool, source);
    }
    for (const [index, alloc] of block.allocations.entries()) {
      const owner = alloc.node ?? home;
      if (owner === undefined) {
        problems.push({ kind: 'IPAMBlock', name: block.name, field: `spec.allocations[${index}]`, message: `${alloc.ip} has no owner node and the block no affinity` });
      } else if (owner !== home && owner !== local.name) {
        remote(hostCidr(alloc.ip), owner, pool, source);
      }
    }
  }

  for (const w of snapshot.workloads) {
    if (w.node !== local.name) continue;
    for (const ip of w.ips) routes.push(make.workload(hostCidr(ip), w.iface, `Workload/${w.namespace}/${w.name}`));
  }

  const resolved = resolveCollisions(routes);
  return { routes: resolved.routes, problems: [...problems, ...resolved.problems] };
}

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
    problem: { kind: 'Node', name: node.name, field, message: `has no ${what}: no route to ${dst}` },
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

/** Routes in the order `ip route` lists them: by address, then prefix length. */
export function sortRoutes<T extends Route>(routes: readonly T[]): T[] {
  return [...routes].sort((a, b) => compareCidrs(a.dst, b.dst) || a.metric - b.metric);
}
