// The meaning checks of nodes: what a Node may claim about its underlay and its tunnels.
//
//   underlay address   not reserved space, and for another node not an address of this host nor
//                      inside a pool older than the node (admission.ts refuses the younger);
//   tunnel address     inside an admitted pool and allocated by IPAM to that node's tunnel handle
//                      (`vxlan-tunnel-addr-<node>`, …): a node cannot make another host's address,
//                      or another node's VTEP, its own. Two nodes claiming one address: the one
//                      IPAM backs keeps it, as only one handle can hold an address;
//   VTEP MAC           unicast and not zero (the kernel refuses anything else on every pass), and
//                      unique: of two nodes with one MAC, the older Node (creationTimestamp, then
//                      name) keeps it, so the winner never flaps.
// A refused field is dropped from the node and reported; for a VTEP, the node's whole VTEP of
// that family goes, since a tunnel address with the wrong MAC (or the reverse) black-holes.
import type { Family, IpAddr, Mac } from '../kernel/values.js';
import { hostCidr } from '../kernel/values.js';
import { derivedVtepMac } from '../tunnels/vtep-mac.js';
import { poolOf } from './block-index.js';
import { olderFirst, type ClusterNode, type IpPool, type ObjectProblem, type ProblemReason } from './cluster.js';
import { overlapOf, RESERVED_SPACE, type HostSpace } from './forbidden-space.js';

type Writable<T> = { -readonly [K in keyof T]: T[K] };

interface TunnelField {
  readonly field: 'ipipTunnelAddr' | 'vxlanTunnelAddr' | 'vxlanTunnelAddrV6';
  readonly path: string;
  readonly handle: (node: string) => string;
}

const TUNNEL_FIELDS: readonly TunnelField[] = [
  { field: 'ipipTunnelAddr', path: 'spec.bgp.ipv4IPIPTunnelAddr', handle: (n) => `ipip-tunnel-addr-${n}` },
  { field: 'vxlanTunnelAddr', path: 'spec.ipv4VXLANTunnelAddr', handle: (n) => `vxlan-tunnel-addr-${n}` },
  { field: 'vxlanTunnelAddrV6', path: 'spec.ipv6VXLANTunnelAddr', handle: (n) => `vxlan-v6-tunnel-addr-${n}` },
];

export interface NodeAdmission {
  readonly nodes: ClusterNode[];
  readonly problems: ObjectProblem[];
}

/**
 * `pools`: the admitted pools, most specific first. `tunnelHandles`: which handle IPAM allocated
 * each tunnel address to.
 */
export function admitNodes(nodes: readonly ClusterNode[], local: string, pools: readonly IpPool[], tunnelHandles: ReadonlyMap<IpAddr, string>, host: HostSpace): NodeAdmission {
  const problems: ObjectProblem[] = [];
  const hostIps = new Set(host.addresses.map((a) => a.cidr.slice(0, a.cidr.indexOf('/'))));
  const admitted = nodes.map((original) => {
    const node: Writable<ClusterNode> = { ...original };
    const refuse = (path: string, reason: ProblemReason, message: string) => problems.push({ kind: 'Node', name: node.name, field: path, message, reason });
    for (const [key, path] of [['ipv4', 'spec.bgp.ipv4Address'], ['ipv6', 'spec.bgp.ipv6Address']] as const) {
      const address = node[key];
      if (address === undefined) continue;
      const why = underlayProblem(address.ip, node.name === local, hostIps, pools);
      if (why === undefined) continue;
      refuse(path, 'forbidden-space', `${address.cidr} ${why}: the node is kept without it`);
      delete node[key];
    }
    for (const { field, path, handle } of TUNNEL_FIELDS) {
      const ip = node[field];
      if (ip === undefined) continue;
      const pool = poolOf(hostCidr(ip), pools);
      const holder = tunnelHandles.get(ip);
      if (pool === undefined) refuse(path, 'outside-pool', `${ip} lies in no usable IPPool: not used as a tunnel address`);
      else if (holder !== handle(node.name)) refuse(path, 'not-allocated', `${ip} is ${holder === undefined ? 'not allocated by IPAM' : `allocated to ${holder}`}, not to ${handle(node.name)}: not used as a tunnel address`);
      else continue;
      delete node[field];
    }
    for (const [key, path, family] of [['vxlanMac', 'spec.vxlanTunnelMACAddr', 4], ['vxlanMacV6', 'spec.vxlanTunnelMACAddrV6', 6]] as const) {
      const mac = node[key];
      if (mac === undefined || isUnicastMac(mac)) continue;
      refuse(path, 'vtep', `${mac} is ${mac === ZERO_MAC ? 'all zeros' : 'a multicast address'}: the node's IPv${family} VTEP is not used`);
      dropVtep(node, family);
    }
    return node;
  });
  refuseSharedMacs(admitted, 4, problems);
  refuseSharedMacs(admitted, 6, problems);
  return { nodes: admitted, problems };
}

function underlayProblem(ip: IpAddr, isLocal: boolean, hostIps: ReadonlySet<string>, pools: readonly IpPool[]): string | undefined {
  const reserved = overlapOf(hostCidr(ip), RESERVED_SPACE);
  if (reserved !== undefined) return `is ${reserved.what}`;
  if (isLocal) return undefined; // the host's own facts: pools were checked against them
  if (hostIps.has(ip)) return 'is an address of this host';
  // A pool that was there before the node (admission.ts weighed them): its space is pod space.
  const pool = poolOf(hostCidr(ip), pools);
  if (pool !== undefined) return `lies in IPPool ${pool.name} (${pool.cidr}), which is older: pod space`;
  return undefined;
}

const ZERO_MAC = '00:00:00:00:00:00';

export function isUnicastMac(mac: Mac): boolean {
  return mac !== ZERO_MAC && (parseInt(mac.slice(0, 2), 16) & 1) === 0;
}

function dropVtep(node: Writable<ClusterNode>, family: Family): void {
  if (family === 4) {
    delete node.vxlanTunnelAddr;
    delete node.vxlanMac;
  } else {
    delete node.vxlanTunnelAddrV6;
    delete node.vxlanMacV6;
  }
}

/** Of the nodes with a VTEP sharing one MAC (recorded or derived), the oldest keeps it. */
function refuseSharedMacs(nodes: Writable<ClusterNode>[], family: Family, problems: ObjectProblem[]): void {
  const byMac = new Map<string, Writable<ClusterNode>[]>();
  for (const node of nodes) {
    const tunnel = family === 4 ? node.vxlanTunnelAddr : node.vxlanTunnelAddrV6;
    if (tunnel === undefined) continue;
    const mac = (family === 4 ? node.vxlanMac : node.vxlanMacV6) ?? derivedVtepMac(node.name, family);
    const list = byMac.get(mac);
    if (list === undefined) byMac.set(mac, [node]);
    else list.push(node);
  }
  for (const [mac, claimants] of byMac) {
    if (claimants.length < 2) continue;
    const [winner, ...losers] = claimants.sort(olderFirst);
    for (const node of losers) {
      problems.push({
        kind: 'Node',
        name: node.name,
        field: family === 4 ? 'spec.vxlanTunnelMACAddr' : 'spec.vxlanTunnelMACAddrV6',
        message: `VTEP MAC ${mac} is also node ${winner?.name}'s, which is older: the node's IPv${family} VTEP is not used`,
        reason: 'vtep',
      });
      dropVtep(node, family);
    }
  }
}
