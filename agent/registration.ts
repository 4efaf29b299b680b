// Node registration, the way calico-node does it at start-up: the node's address, a tunnel
// address for each encapsulation a pool uses (allocated through Calico's IPAM under the handles
// `vxlan-tunnel-addr-<node>` and `ipip-tunnel-addr-<node>`), and the VTEP MAC, written where
// Calico keeps them (Node annotations in Kubernetes, the Node resource in etcd).
//
// Idempotent: the handle is looked up first, so a restart finds the address it already holds
// instead of allocating a second one; a tunnel address no pool calls for any more is released.
import type { Cidr } from '../kernel/values.js';
import { cidrContains, familyOf } from '../kernel/values.js';
import type { IpPool } from '../routing/cluster.js';
import { derivedVtepMac } from '../tunnels/vtep-mac.js';
import type { IpamAllocator } from '../calico/ipam/allocator.js';
import type { NodeRegistration, NodeWriter } from '../calico/node-writer.js';

export interface RegistrationInput {
  readonly node: string;
  /** The node's underlay address with its prefix length (detected or configured). */
  readonly ipv4?: Cidr;
  readonly ipv6?: Cidr;
  readonly pools: readonly IpPool[];
}

type Tunnel = { readonly handle: string; readonly type: string; readonly field: 'ipv4VXLANTunnelAddr' | 'ipv6VXLANTunnelAddr' | 'ipv4IPIPTunnelAddr'; readonly family: 4 | 6; readonly wants: (p: IpPool) => boolean };

export function tunnelsFor(node: string): Tunnel[] {
  return [
    { handle: `vxlan-tunnel-addr-${node}`, type: 'vxlanTunnelAddress', field: 'ipv4VXLANTunnelAddr', family: 4, wants: (p) => p.vxlanMode !== 'Never' },
    { handle: `vxlan-v6-tunnel-addr-${node}`, type: 'vxlanV6TunnelAddress', field: 'ipv6VXLANTunnelAddr', family: 6, wants: (p) => p.vxlanMode !== 'Never' },
    { handle: `ipip-tunnel-addr-${node}`, type: 'ipipTunnelAddress', field: 'ipv4IPIPTunnelAddr', family: 4, wants: (p) => p.ipipMode !== 'Never' },
  ];
}

export async function registerNode(input: RegistrationInput, ipam: IpamAllocator, writer: NodeWriter): Promise<NodeRegistration> {
  const fields: { -readonly [K in keyof NodeRegistration]: NodeRegistration[K] } = {};
  const existing = await writer.read(input.node);
  if (input.ipv4 !== undefined) fields.ipv4Address = input.ipv4;
  if (input.ipv6 !== undefined) fields.ipv6Address = input.ipv6;
  for (const tunnel of tunnelsFor(input.node)) {
    const pools = input.pools.filter((p) => !p.disabled && familyOf(p.cidr) === tunnel.family && tunnel.wants(p));
    const hasUnderlay = (tunnel.family === 4 ? input.ipv4 : input.ipv6) !== undefined;
    const held = await ipam.addressesOf(tunnel.handle);
    const keep = held.filter((ip) => pools.some((p) => cidrContains(p.cidr, ip)));
    if (pools.length === 0 || !hasUnderlay) {
      if (held.length > 0) await ipam.releaseHandle(tunnel.handle);
      fields[tunnel.field] = null;
      continue;
    }
    // One address per handle: anything else it holds (outside the pools now, or a duplicate from
    // an interrupted registration) goes back.
    const extra = held.filter((ip) => ip !== keep[0]);
    if (extra.length > 0) await ipam.releaseIps(extra);
    const address = keep[0] ?? (await ipam.assign({ node: input.node, count: 1, handle: tunnel.handle, attributes: { node: input.node, type: tunnel.type }, pools }))[0];
    fields[tunnel.field] = address;
  }
  // A MAC already on record stays (every peer's FDB points at it); otherwise Calico's derivation.
  if (fields.ipv4VXLANTunnelAddr) fields.vxlanTunnelMACAddr = existing?.vxlanMac ?? derivedVtepMac(input.node, 4);
  if (fields.ipv6VXLANTunnelAddr) fields.vxlanTunnelMACAddrV6 = existing?.vxlanMacV6 ?? derivedVtepMac(input.node, 6);
  await writer.write(input.node, fields);
  return fields;
}
