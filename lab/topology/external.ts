// The world outside the cluster: one host at a documentation address (TEST-NET, RFC 5737; for
// IPv6 2001:db8::/32, RFC 3849), never a real public one, so no lab route or ping can ever name
// an address someone owns. It is wired the way an upstream link is: a transit segment to the
// lab's router when the lab has one (the BGP work peers there), otherwise to the underlay
// namespace, which holds the subnet's gateway and then forwards. Nodes reach it through their
// default route. It routes everything back to its upstream, and the upstream knows the node
// subnets (connected) but no pod address: a pod's packet that was not masqueraded arrives with
// the pod's source, and the reply dies at the upstream, as it would on the Internet.
import type { Cidr, IfaceName } from '../../kernel/values.js';
import { cidrContains, cidrsOverlap, familyOf, nthAddress, parseIp, prefixLength } from '../../kernel/values.js';
import { TopologySpecError } from './errors.js';
import type { NetnsName } from './names.js';
import { ifaceNames } from './names.js';
import type { LabRunner, Sysctl } from './runner.js';
import type { Subnet, UplinkAddresses } from './types.js';

export interface ExternalSpec {
  /** What `wren lab ping POD NAME` and `wren lab exec NAME` call it; default `outside`. */
  readonly name?: string;
  /** An address in a TEST-NET /24 other than its .1 (the upstream's); default 203.0.113.10. */
  readonly ip?: string;
}

/**
 * `cidr`: `203.0.113.10/24`; `gateway`: the upstream's address on the segment (its .1). IPv6
 * (an address in 2001:db8::/64) only when the topology has an IPv6 underlay.
 */
export interface ExternalHost extends UplinkAddresses {
  readonly name: string;
  readonly netns: NetnsName;
  /** The namespace its link hangs off: the router's, else the underlay's. */
  readonly upstreamNetns: NetnsName;
  /** The upstream end of its link; the host end is its eth0. */
  readonly upstreamPort: IfaceName;
  readonly mtu: number;
}

export const EXTERNAL_DEFAULTS = { name: 'outside', ip: '203.0.113.10' } as const;
const DOC_NETS_V4 = ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24'] as Cidr[];
const DOC_NET_V6 = '2001:db8::/64' as Cidr;
/** The external host's ordinal in its IPv6 segment; the upstream is ::1. */
const V6_HOST = 10;
const NAME = /^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$/;

export interface ExternalContext {
  readonly netns: NetnsName;
  readonly upstreamNetns: NetnsName;
  readonly subnets: readonly Subnet[];
  readonly nodes: readonly { readonly name: string }[];
  readonly mtu: number;
}

/** Validates the spec before anything is built; a public or clashing address is refused. */
export function resolveExternal(spec: ExternalSpec, ctx: ExternalContext, field = 'external'): ExternalHost {
  const name = spec.name ?? EXTERNAL_DEFAULTS.name;
  if (typeof name !== 'string' || !NAME.test(name)) throw new TopologySpecError(`${field}.name`, `${JSON.stringify(name)} is not a lower-case DNS label`);
  if (ctx.nodes.some((n) => n.name === name)) throw new TopologySpecError(`${field}.name`, `${name} is already a node's name`);
  const text = spec.ip ?? EXTERNAL_DEFAULTS.ip;
  const ip = parseIp(text);
  if (ip === undefined || familyOf(ip) !== 4) throw new TopologySpecError(`${field}.ip`, `${JSON.stringify(text)} is not an IPv4 address`);
  const net = DOC_NETS_V4.find((n) => cidrContains(n, ip));
  if (net === undefined) throw new TopologySpecError(`${field}.ip`, `${ip} is not a documentation address (${DOC_NETS_V4.join(', ')}): the lab never uses a real one`);
  const gateway = nthAddress(net, 1);
  if (ip === nthAddress(net, 0) || ip === nthAddress(net, 255) || ip === gateway) throw new TopologySpecError(`${field}.ip`, `${ip} is the network, broadcast or upstream (${gateway}) address of ${net}`);
  const clash = ctx.subnets.find((s) => cidrsOverlap(s.cidr, net) || (s.ipv6 !== undefined && cidrsOverlap(s.ipv6.cidr, DOC_NET_V6)));
  if (clash !== undefined) throw new TopologySpecError(`${field}.ip`, `the outside segment ${net} (${DOC_NET_V6}) overlaps the node subnet ${clash.cidr}`);
  const v6 = ctx.subnets.some((s) => s.ipv6 !== undefined);
  const ipv6 = nthAddress(DOC_NET_V6, V6_HOST);
  const gateway6 = nthAddress(DOC_NET_V6, 1);
  return {
    name,
    netns: ctx.netns,
    ip,
    cidr: `${ip}/${prefixLength(net)}` as Cidr,
    gateway,
    ...(v6 ? { ipv6, cidr6: `${ipv6}/${prefixLength(DOC_NET_V6)}` as Cidr, gateway6 } : {}),
    upstreamNetns: ctx.upstreamNetns,
    upstreamPort: ifaceNames.externalPort,
    mtu: ctx.mtu,
  };
}

/** In the upstream's namespace: the transit link, its host end born in the host's namespace. */
export function externalUpstreamLines(host: ExternalHost): string[] {
  const port = host.upstreamPort;
  return [
    `link add ${port} mtu ${host.mtu} type veth peer name ${ifaceNames.eth0} mtu ${host.mtu} netns ${host.netns}`,
    `link set ${port} up`,
    `addr add ${host.gateway}/${prefixLength(host.cidr)} dev ${port}`,
    ...(host.gateway6 && host.cidr6 ? [`addr add ${host.gateway6}/${prefixLength(host.cidr6)} dev ${port} nodad`] : []),
  ];
}

/** In the host's namespace: its address and a default route to the upstream. */
export function externalHostLines(host: ExternalHost): string[] {
  const { eth0, lo } = ifaceNames;
  return [
    `link set ${lo} up`,
    `link set ${eth0} up`,
    `addr add ${host.cidr} dev ${eth0}`,
    `route add default via ${host.gateway} dev ${eth0}`,
    ...(host.cidr6 && host.gateway6 ? [`addr add ${host.cidr6} dev ${eth0} nodad`, `route add default via ${host.gateway6} dev ${eth0}`] : []),
  ];
}

/** The underlay forwards only once the outside hangs off it (a router already forwards). */
export function upstreamSysctls(): Sysctl[] {
  return [
    { key: 'net/ipv4/ip_forward', value: 1 },
    { key: 'net/ipv6/conf/all/forwarding', value: 1 },
    { key: 'net/ipv6/conf/default/accept_dad', value: 0 },
  ];
}

/**
 * Builds the host on a built underlay: its namespace (through `create`, which records it for
 * destroy() first), forwarding on the underlay when that is the upstream, the link, the host.
 */
export async function buildExternal(host: ExternalHost, underlay: NetnsName, runner: LabRunner, create: (names: readonly NetnsName[]) => Promise<void>): Promise<void> {
  await create([host.netns]);
  if (host.upstreamNetns === underlay) await runner.sysctl(underlay, upstreamSysctls());
  await runner.batch(host.upstreamNetns, externalUpstreamLines(host));
  await runner.batch(host.netns, externalHostLines(host));
}
