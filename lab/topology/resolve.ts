// Turns caller specs into validated topology values, before any namespace exists: a bad spec
// must fail with the field named, not halfway through a build. Pure.
import type { Cidr, IpAddr } from '../../kernel/values.js';
import {
  cidrContains, cidrSize, cidrsOverlap, familyOf, hostCidr, ipToBigInt, nthAddress, parseCidr, parseIfaceName, parseIp, prefixLength,
} from '../../kernel/values.js';
import { TopologySpecError } from './errors.js';
import type { NetnsName } from './names.js';
import { ifaceNames } from './names.js';
import type { NodeSpec, Pod, PodSpec, Subnet, SubnetSpec, TopologyNode } from './types.js';

export const DEFAULT_MTU = 1500;
/** The kernel turns IPv6 off on a link whose MTU is below 1280 (RFC 8200 minimum). */
const MIN_MTU = { 4: 68, 6: 1280 } as const;

export function checkMtu(mtu: unknown, field: string, ipv6: boolean): number {
  const min = ipv6 ? MIN_MTU[6] : MIN_MTU[4];
  if (typeof mtu !== 'number' || !Number.isInteger(mtu) || mtu < min || mtu > 65535) {
    throw new TopologySpecError(field, `MTU ${String(mtu)} is not an integer in ${min}..65535`);
  }
  return mtu;
}

function ipField(text: unknown, field: string, family?: 4 | 6): IpAddr {
  const ip = parseIp(text);
  if (ip === undefined) throw new TopologySpecError(field, `${JSON.stringify(text)} is not an IP address`);
  if (family !== undefined && familyOf(ip) !== family) throw new TopologySpecError(field, `${ip} is not IPv${family}`);
  return ip;
}

function subnetField(text: unknown, field: string, family: 4 | 6): Cidr {
  const cidr = parseCidr(text);
  if (cidr === undefined) throw new TopologySpecError(field, `${JSON.stringify(text)} is not a prefix with host bits zero`);
  if (familyOf(cidr) !== family) throw new TopologySpecError(field, `${cidr} is not IPv${family}`);
  if (cidrSize(cidr) < 4n) throw new TopologySpecError(field, `${cidr} has no room for a gateway and nodes`);
  return cidr;
}

/** A usable host address of `cidr`: inside it, not its network address (nor IPv4 broadcast). */
function hostIn(cidr: Cidr, ip: IpAddr, field: string): IpAddr {
  const last = nthAddress(cidr, cidrSize(cidr) - 1n);
  if (!cidrContains(cidr, ip)) throw new TopologySpecError(field, `${ip} is not in ${cidr}`);
  if (ip === nthAddress(cidr, 0) || (familyOf(ip) === 4 && ip === last)) throw new TopologySpecError(field, `${ip} is not a host address of ${cidr}`);
  return ip;
}

export function resolveSubnets(specs: readonly (string | SubnetSpec)[]): Subnet[] {
  if (!Array.isArray(specs) || specs.length === 0) throw new TopologySpecError('subnets', 'at least one subnet is needed');
  const subnets = specs.map((raw, index): Subnet => {
    const spec: SubnetSpec = typeof raw === 'string' ? { cidr: raw } : raw;
    const field = `subnets[${index}]`;
    const cidr = subnetField(spec.cidr, `${field}.cidr`, 4);
    const gateway = hostIn(cidr, spec.gateway === undefined ? nthAddress(cidr, 1) : ipField(spec.gateway, `${field}.gateway`, 4), `${field}.gateway`);
    const v6 = spec.ipv6 === undefined ? undefined : subnetField(spec.ipv6, `${field}.ipv6`, 6);
    return { index, cidr, gateway, ipv6: v6 && { cidr: v6, gateway: nthAddress(v6, 1) }, bridge: ifaceNames.bridge(index) };
  });
  const all = subnets.flatMap((s, i) => [[s.cidr, `subnets[${i}].cidr`], ...(s.ipv6 ? [[s.ipv6.cidr, `subnets[${i}].ipv6`]] : [])] as [Cidr, string][]);
  all.forEach(([a], i) => all.slice(i + 1).forEach(([b, field]) => {
    if (familyOf(a) === familyOf(b) && cidrsOverlap(a, b)) throw new TopologySpecError(field, `${b} overlaps ${a}`);
  }));
  return subnets;
}

export interface NodeContext {
  readonly subnets: readonly Subnet[];
  readonly existing: readonly TopologyNode[];
  readonly mtu: number;
  readonly netns: NetnsName;
  readonly id: number;
}

export function resolveNode(spec: NodeSpec, field: string, ctx: NodeContext): TopologyNode {
  if (typeof spec.name !== 'string' || spec.name === '') throw new TopologySpecError(`${field}.name`, 'a node needs a name');
  if (ctx.existing.some((n) => n.name === spec.name)) throw new TopologySpecError(`${field}.name`, `node ${spec.name} already exists`);
  const subnet = spec.subnet === undefined ? ctx.subnets[0] : ctx.subnets.find((s) => s.cidr === parseCidr(spec.subnet));
  if (subnet === undefined) throw new TopologySpecError(`${field}.subnet`, `${JSON.stringify(spec.subnet)} is not one of the topology's subnets`);
  const taken = new Set<string>([subnet.gateway, ...(subnet.ipv6 ? [subnet.ipv6.gateway] : []), ...ctx.existing.flatMap((n) => [n.ip, ...(n.ipv6 ? [n.ipv6] : [])])]);
  const ip = spec.ip === undefined ? freeHost(subnet.cidr, taken, field) : hostIn(subnet.cidr, ipField(spec.ip, `${field}.ip`, 4), `${field}.ip`);
  if (spec.ip !== undefined && taken.has(ip)) throw new TopologySpecError(`${field}.ip`, `${ip} is already in use`);
  let ipv6: IpAddr | undefined;
  if (spec.ipv6 !== undefined || subnet.ipv6 !== undefined) {
    if (subnet.ipv6 === undefined) throw new TopologySpecError(`${field}.ipv6`, `subnet ${subnet.cidr} has no IPv6 prefix`);
    const ordinal = ipToBigInt(ip) - ipToBigInt(nthAddress(subnet.cidr, 0));
    ipv6 = hostIn(subnet.ipv6.cidr, spec.ipv6 === undefined ? nthAddress(subnet.ipv6.cidr, ordinal) : ipField(spec.ipv6, `${field}.ipv6`, 6), `${field}.ipv6`);
    if (taken.has(ipv6)) throw new TopologySpecError(`${field}.ipv6`, `${ipv6} is already in use`);
  }
  return {
    name: spec.name,
    netns: ctx.netns,
    iface: ifaceNames.eth0,
    ip,
    cidr: `${ip}/${prefixLength(subnet.cidr)}` as Cidr,
    gateway: subnet.gateway,
    ...(ipv6 && subnet.ipv6 ? { ipv6, cidr6: `${ipv6}/${prefixLength(subnet.ipv6.cidr)}` as Cidr, gateway6: subnet.ipv6.gateway } : {}),
    subnet: subnet.cidr,
    mtu: checkMtu(spec.mtu ?? ctx.mtu, `${field}.mtu`, ipv6 !== undefined),
    underlayPort: ifaceNames.nodePort(ctx.id),
  };
}

function freeHost(cidr: Cidr, taken: ReadonlySet<string>, field: string): IpAddr {
  for (let n = 2n; n < cidrSize(cidr) - 1n; n++) {
    const ip = nthAddress(cidr, n);
    if (!taken.has(ip)) return ip;
  }
  throw new TopologySpecError(`${field}.ip`, `${cidr} has no free address`);
}

export interface PodContext {
  readonly node: TopologyNode;
  readonly existing: readonly Pod[];
  readonly netns: NetnsName;
}

export function resolvePod(spec: PodSpec, field: string, ctx: PodContext): Pod {
  const iface = parseIfaceName(spec.iface);
  if (iface === undefined || iface === ifaceNames.eth0 || iface === ifaceNames.lo) {
    throw new TopologySpecError(`${field}.iface`, `${JSON.stringify(spec.iface)} is not a usable interface name (1–15 of [A-Za-z0-9_.-])`);
  }
  if (ctx.existing.some((p) => p.node === ctx.node.name && p.iface === iface)) throw new TopologySpecError(`${field}.iface`, `node ${ctx.node.name} already has ${iface}`);
  for (const key of ['namespace', 'name'] as const) {
    if (typeof spec[key] !== 'string' || spec[key] === '') throw new TopologySpecError(`${field}.${key}`, 'must be a non-empty string');
  }
  const texts = typeof spec.ip === 'string' ? [spec.ip] : [...spec.ip];
  const ips = texts.map((t, i) => ipField(t, `${field}.ip[${i}]`)).sort((a, b) => familyOf(a) - familyOf(b));
  if (ips.length === 0 || ips.length > 2 || (ips.length === 2 && familyOf(ips[0] as IpAddr) === familyOf(ips[1] as IpAddr))) {
    throw new TopologySpecError(`${field}.ip`, 'a pod has one address, or one per family');
  }
  const used = new Set(ctx.existing.flatMap((p) => p.ips));
  for (const ip of ips) if (used.has(ip)) throw new TopologySpecError(`${field}.ip`, `${hostCidr(ip)} is already a pod's address`);
  return {
    node: ctx.node.name,
    namespace: spec.namespace,
    name: spec.name,
    netns: ctx.netns,
    ip: ips[0] as IpAddr,
    ips,
    iface,
    mtu: checkMtu(spec.mtu ?? ctx.node.mtu, `${field}.mtu`, ips.some((ip) => familyOf(ip) === 6)),
  };
}

/** Validates a node's new address (same family, same subnet, free) for setNodeAddress. */
export function resolveNewAddress(node: TopologyNode, subnet: Subnet, text: string, others: readonly TopologyNode[]): IpAddr {
  const ip = ipField(text, `node ${node.name} address`);
  const cidr = familyOf(ip) === 4 ? subnet.cidr : subnet.ipv6?.cidr;
  if (cidr === undefined) throw new TopologySpecError(`node ${node.name} address`, `subnet ${subnet.cidr} has no IPv6 prefix`);
  hostIn(cidr, ip, `node ${node.name} address`);
  const taken = [subnet.gateway, subnet.ipv6?.gateway, ...others.filter((n) => n.name !== node.name).flatMap((n) => [n.ip, n.ipv6])];
  if (taken.includes(ip)) throw new TopologySpecError(`node ${node.name} address`, `${ip} is already in use`);
  return ip;
}
