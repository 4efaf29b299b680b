// Address space no pool, block or pod may claim on this node: its own underlay, the way out of
// it, and the ranges that are never unicast pod space. A pool over any of these would turn the
// node's own traffic into the tunnel (or onto a pod's veth); it is refused, and with it every
// block and address inside it, while the rest of the cluster is routed as usual.
//
// Only pools are checked against the list: a block is admitted only inside an admitted pool, and
// an address only inside an admitted block's pool, so nothing narrower can reach forbidden space.
import type { Link, Route } from '../kernel/state.js';
import type { Cidr, IpAddr } from '../kernel/values.js';
import { cidrsOverlap, familyOf, hostCidr } from '../kernel/values.js';
import type { ClusterNode } from './cluster.js';
import { IPIP_DEVICE, VXLAN_DEVICE, VXLAN_DEVICE_V6 } from './devices.js';

export interface ForbiddenPrefix {
  readonly cidr: Cidr;
  /** What it is, for the refusal: "loopback", "the subnet of eth0", … */
  readonly what: string;
}

/** Never pod space, in either family (RFC 6890's special-purpose ranges that are not unicast). */
export const RESERVED_SPACE: readonly ForbiddenPrefix[] = [
  { cidr: '0.0.0.0/8' as Cidr, what: '"this network" (0.0.0.0/8)' },
  { cidr: '127.0.0.0/8' as Cidr, what: 'loopback' },
  { cidr: '169.254.0.0/16' as Cidr, what: 'link-local' },
  { cidr: '224.0.0.0/4' as Cidr, what: 'multicast' },
  { cidr: '240.0.0.0/4' as Cidr, what: 'reserved space and broadcast (240.0.0.0/4)' },
  { cidr: '::/128' as Cidr, what: 'the unspecified address' },
  { cidr: '::1/128' as Cidr, what: 'loopback' },
  { cidr: '::ffff:0:0/96' as Cidr, what: 'IPv4-mapped space' },
  { cidr: 'fe80::/10' as Cidr, what: 'link-local' },
  { cidr: 'ff00::/8' as Cidr, what: 'multicast' },
];

/** What the kernel says about the host's own space: its addresses (with their subnets) and gateways. */
export interface HostSpace {
  readonly addresses: readonly { readonly cidr: Cidr; readonly dev: string }[];
  readonly gateways: readonly IpAddr[];
}

export const NO_HOST_SPACE: HostSpace = { addresses: [], gateways: [] };

const OWN_DEVICES: ReadonlySet<string> = new Set([VXLAN_DEVICE, VXLAN_DEVICE_V6, IPIP_DEVICE]);

/**
 * The host's space from its links and routes: the addresses on every interface but wren's tunnels
 * (whose address is pod space by design), and the next hops of default routes (`routes` should be
 * the main table's). Link-local addresses are left out: every veth has one, and their range is
 * reserved space anyway.
 */
export function hostSpaceOf(links: readonly Link[], routes: readonly Route[]): HostSpace {
  const addresses: { cidr: Cidr; dev: string }[] = [];
  for (const link of links) {
    if (OWN_DEVICES.has(link.name)) continue;
    for (const cidr of link.addresses) if (!cidr.startsWith('fe80:') && !cidr.startsWith('169.254.')) addresses.push({ cidr, dev: link.name });
  }
  const gateways: IpAddr[] = [];
  for (const route of routes) if ((route.dst === '0.0.0.0/0' || route.dst === '::/0') && route.via !== undefined) gateways.push(route.via);
  return { addresses, gateways };
}

/**
 * Everything forbidden on this node whatever the datastore says: reserved space, the host's
 * addresses and subnets, its gateways, this node's own underlay address as its Node records it (so
 * `wren routes` on a dump knows it too; its subnet comes from the host's link, not from the
 * record, whose prefix length anyone writing the Node could set to /1) and the operator's own list
 * (`--forbidden-cidrs`, e.g. the service CIDR). Other nodes' addresses are only as good as their
 * Node objects: a pool and a node that claim the same space are weighed by age (admission.ts).
 */
export function forbiddenSpace(host: HostSpace, me: ClusterNode | undefined, extra: readonly Cidr[]): ForbiddenPrefix[] {
  const list: ForbiddenPrefix[] = [...RESERVED_SPACE];
  for (const ip of host.gateways) list.push({ cidr: hostCidr(ip), what: `the default gateway ${ip}` });
  for (const { cidr, dev } of host.addresses) list.push({ cidr, what: `the subnet of ${dev} (this node's ${cidr})` });
  for (const address of [me?.ipv4, me?.ipv6]) if (address !== undefined) list.push({ cidr: hostCidr(address.ip), what: `this node's underlay address ${address.ip}` });
  for (const cidr of extra) list.push({ cidr, what: 'a prefix of --forbidden-cidrs' });
  return list;
}

/** The first forbidden prefix `cidr` shares an address with. */
export function overlapOf(cidr: Cidr, forbidden: readonly ForbiddenPrefix[]): ForbiddenPrefix | undefined {
  const family = familyOf(cidr);
  return forbidden.find((f) => familyOf(f.cidr) === family && cidrsOverlap(f.cidr, cidr));
}
