// How a packet reaches a remote node: through VXLAN, through IPIP, or directly on the underlay.
//
// The pool a block belongs to decides. CrossSubnet means "direct when the peer is on my subnet,
// tunnel otherwise"; wren makes that decision symmetric (each node's address lies in the other's
// subnet), so both ends of a flow agree on the path even when their prefix lengths differ.
import type { Family } from '../kernel/values.js';
import { cidrContains } from '../kernel/values.js';
import type { ClusterNode, EncapMode, IpPool } from './cluster.js';

export type Path = 'vxlan' | 'ipip' | 'direct';

export function sameSubnet(a: ClusterNode, b: ClusterNode, family: Family): boolean {
  const x = family === 4 ? a.ipv4 : a.ipv6;
  const y = family === 4 ? b.ipv4 : b.ipv6;
  if (x === undefined || y === undefined) return false;
  return cidrContains(x.cidr, y.ip) && cidrContains(y.cidr, x.ip);
}

function tunnels(mode: EncapMode, peerOnMySubnet: boolean): boolean {
  return mode === 'Always' || (mode === 'CrossSubnet' && !peerOnMySubnet);
}

/** The path from `local` to `remote` for addresses of `pool`. IPIP carries IPv4 only. */
export function pathTo(pool: IpPool, local: ClusterNode, remote: ClusterNode, family: Family): Path {
  const near = sameSubnet(local, remote, family);
  if (tunnels(pool.vxlanMode, near)) return 'vxlan';
  if (family === 4 && tunnels(pool.ipipMode, near)) return 'ipip';
  return 'direct';
}
