// Kernel state as plain data, keyed the way the kernel keys it.
//
// The same shapes describe what wren wants (desired) and what a namespace has (actual), so that
// reconciling is a comparison of two maps. A route's identity in the kernel is (table, destination,
// TOS, metric); wren never sets TOS, so the key is table + destination + metric. Anything else
// (type, device, gateway, flags, protocol) is the route's value, which `route replace` swaps
// atomically without a gap in forwarding.
import type { Cidr, IfaceName, IpAddr, Mac } from './values.js';
import type { NatRead } from './nat/nat-state.js';

export const MAIN_TABLE = 254;
/** The kernel's metric for IPv6 routes added without one; IPv4 uses 0. */
export const IPV6_DEFAULT_METRIC = 1024;

/** 'other' stands for the types wren never writes (local, unreachable, …): only ever foreign. */
export type RouteType = 'unicast' | 'blackhole' | 'other';
export type RouteScope = 'global' | 'link';

export interface Route {
  readonly dst: Cidr;
  readonly table: number;
  readonly metric: number;
  readonly type: RouteType;
  readonly dev?: IfaceName;
  readonly via?: IpAddr;
  readonly onlink: boolean;
  readonly scope: RouteScope;
  readonly proto: number;
}

/**
 * The kernel's key of a route. In the common case (main table, the family's default metric) it
 * is the destination string itself: no string is built, and its hash is computed once, which
 * matters when a pass compares 100,000 routes. A destination has no space, so the two forms
 * never collide.
 */
export function routeKey(route: Pick<Route, 'table' | 'dst' | 'metric'>): string {
  const defaultMetric = route.dst.includes(':') ? IPV6_DEFAULT_METRIC : 0;
  return route.table === MAIN_TABLE && route.metric === defaultMetric ? route.dst : `${route.table} ${route.dst} ${route.metric}`;
}

/** Same value under the same key: nothing to write. Device is ignored for blackholes (IPv6 reports `lo`). */
export function sameRoute(a: Route, b: Route): boolean {
  return (
    a.dst === b.dst &&
    a.table === b.table &&
    a.metric === b.metric &&
    a.type === b.type &&
    (a.type === 'blackhole' || a.dev === b.dev) &&
    a.via === b.via &&
    a.onlink === b.onlink &&
    a.scope === b.scope &&
    a.proto === b.proto
  );
}

/** A permanent neighbour (ARP/NDP) entry: tunnel IP of a remote VTEP → its MAC. */
export interface Neighbor {
  readonly dev: IfaceName;
  readonly ip: IpAddr;
  readonly mac: Mac;
}

export function neighborKey(n: Pick<Neighbor, 'dev' | 'ip'>): string {
  return `${n.dev} ${n.ip}`;
}

/** A permanent bridge FDB entry on a VXLAN device: remote VTEP MAC → the remote node's IP. */
export interface FdbEntry {
  readonly dev: IfaceName;
  readonly mac: Mac;
  readonly dst: IpAddr;
}

export function fdbKey(f: Pick<FdbEntry, 'dev' | 'mac'>): string {
  return `${f.dev} ${f.mac}`;
}

export interface VxlanInfo {
  readonly vni: number;
  readonly port: number;
  readonly local?: IpAddr;
  /** The underlay device, by name (the adapter resolves the kernel's index). */
  readonly parent?: IfaceName;
  readonly learning: boolean;
}

/** A link as read from the kernel, with the addresses configured on it. */
export interface Link {
  readonly name: IfaceName;
  readonly index: number;
  /** `ip -d link` kind: 'vxlan', 'ipip', 'veth', 'bridge', … or undefined for plain devices. */
  readonly kind?: string;
  readonly mtu: number;
  readonly up: boolean;
  readonly mac?: Mac;
  readonly vxlan?: VxlanInfo;
  readonly addresses: readonly Cidr[];
}

/** Everything wren reads from a namespace in one pass. */
export interface KernelState {
  readonly routes: readonly Route[];
  readonly links: readonly Link[];
  readonly neighbors: readonly Neighbor[];
  readonly fdb: readonly FdbEntry[];
  /** wren's NAT tables (kernel/nat/); absent when not read (a kernel without NAT plans none). */
  readonly nat?: NatRead;
}
