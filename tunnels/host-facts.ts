// What a node's own interfaces say about its underlay: which interface carries the node address
// (direct routes and the VXLAN device hang off it) and what MTU the underlay has.
//
// The MTU comes from that very interface by default — not from "the first NIC", which is how
// agents end up reading a bond member or a VPN device (calico#8674, cilium#14339). A pattern, as
// Felix's mtuIfacePattern, widens it to the smallest MTU among up interfaces that match.
import type { Link, Route } from '../kernel/state.js';
import type { Cidr, Family, IpAddr } from '../kernel/values.js';
import { addressOf, familyOf } from '../kernel/values.js';

export function interfaceCarrying(links: readonly Link[], ip: IpAddr): Link | undefined {
  return links.find((l) => l.addresses.some((a) => addressOf(a) === ip));
}

export function detectHostMtu(links: readonly Link[], ip: IpAddr | undefined, pattern?: RegExp): number | undefined {
  if (pattern !== undefined) {
    const matching = links.filter((l) => l.up && pattern.test(l.name)).map((l) => l.mtu);
    if (matching.length > 0) return matching.reduce((a, b) => Math.min(a, b));
  }
  return ip === undefined ? undefined : interfaceCarrying(links, ip)?.mtu;
}

/**
 * The node's own address when none is configured: the address (with its prefix) of the interface
 * that carries the default route — the way out of the node is the underlay — or else the first
 * global address on an up interface that is not one of the devices wren or pods own.
 */
export function detectNodeAddress(links: readonly Link[], routes: readonly Route[], family: Family): Cidr | undefined {
  const defaultDst = family === 4 ? '0.0.0.0/0' : '::/0';
  const exit = routes.find((r) => r.dst === defaultDst && r.dev !== undefined)?.dev;
  const candidates = exit === undefined ? links.filter((l) => l.up && !OWNED.test(l.name)) : links.filter((l) => l.name === exit);
  for (const link of candidates) {
    const address = link.addresses.find((a) => familyOf(a) === family && !LOCAL.test(a));
    if (address !== undefined) return address;
  }
  return undefined;
}

const OWNED = /^(lo|cali.*|vxlan\.calico|vxlan-v6\.calico|tunl0)$/;
const LOCAL = /^(127\.|169\.254\.|fe80:|::1\/)/;
