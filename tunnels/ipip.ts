// tunl0, Linux's IPIP fallback device. Loading the ipip module creates it in every namespace,
// so wren adopts an existing tunl0 and creates one only when it is missing. It must be up,
// carry exactly the node's IPIP tunnel address as a /32 (the source address of encapsulated
// packets from the node itself) and have the IPIP MTU.
import type { Cidr } from '../kernel/values.js';
import { familyOf, hostCidr } from '../kernel/values.js';
import type { ClusterSnapshot, ObjectProblem } from '../routing/cluster.js';
import { IPIP_DEVICE } from '../routing/devices.js';

export interface DesiredIpip {
  readonly name: typeof IPIP_DEVICE;
  /** Undefined when no pool uses IPIP: wren then leaves tunl0 alone (it may be someone else's). */
  readonly spec?: { readonly mtu: number; readonly address: Cidr };
  readonly problems: ObjectProblem[];
}

export function ipipEnabled(snapshot: ClusterSnapshot): boolean {
  return snapshot.pools.some((p) => p.ipipMode !== 'Never' && familyOf(p.cidr) === 4);
}

export function desiredIpip(snapshot: ClusterSnapshot, nodeName: string, mtu: number): DesiredIpip {
  if (!ipipEnabled(snapshot)) return { name: IPIP_DEVICE, problems: [] };
  const me = snapshot.nodes.find((n) => n.name === nodeName);
  if (me?.ipipTunnelAddr === undefined) {
    // Without its own address wren would strip tunl0 of whatever it holds: it is left as it is.
    const message = 'an IPv4 pool uses IPIP but this node has no usable IPIP tunnel address yet: tunl0 is left as it is';
    return { name: IPIP_DEVICE, problems: [{ kind: 'Node', name: nodeName, field: 'spec.bgp.ipv4IPIPTunnelAddr', message, reason: 'missing-address' }] };
  }
  return { name: IPIP_DEVICE, spec: { mtu, address: hostCidr(me.ipipTunnelAddr) }, problems: [] };
}
