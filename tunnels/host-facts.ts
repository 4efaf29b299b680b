// What a node's own interfaces say about its underlay: which interface carries the node address
// (direct routes and the VXLAN device hang off it) and what MTU the underlay has.
//
// The MTU comes from that very interface by default — not from "the first NIC", which is how
// agents end up reading a bond member or a VPN device (calico#8674, cilium#14339). A pattern, as
// Felix's mtuIfacePattern, widens it to the smallest MTU among up interfaces that match.
import type { Link } from '../kernel/state.js';
import type { IpAddr } from '../kernel/values.js';
import { addressOf } from '../kernel/values.js';

export function interfaceCarrying(links: readonly Link[], ip: IpAddr): Link | undefined {
  return links.find((l) => l.addresses.some((a) => addressOf(a) === ip));
}

export function detectHostMtu(links: readonly Link[], ip: IpAddr | undefined, pattern?: RegExp): number | undefined {
  if (pattern !== undefined) {
    const matching = links.filter((l) => l.up && pattern.test(l.name)).map((l) => l.mtu);
    if (matching.length > 0) return Math.min(...matching);
  }
  return ip === undefined ? undefined : interfaceCarrying(links, ip)?.mtu;
}
