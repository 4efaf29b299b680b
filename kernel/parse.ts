// Parsers for iproute2's JSON output (`ip -N -j …`, `bridge -j …`) into kernel state.
// Pure functions of the text, so they are unit-tested on captured output.
//
// `-N` makes ip print protocol, scope and type as numbers: wren compares numbers, and a site's
// /etc/iproute2/rt_protos naming a protocol must not change what wren reads.
import type { FdbEntry, Link, Neighbor, Route, RouteType, VxlanInfo } from './state.js';
import { IPV6_DEFAULT_METRIC } from './state.js';
import type { Cidr, Family } from './values.js';
import { hostCidr, parseCidr, parseIfaceName, parseIp, parseMac } from './values.js';

const RTN_UNICAST = 1;
const RTN_BLACKHOLE = 6;
const RT_SCOPE_LINK = 253;
const RTPROT_BOOT = 3;

type Json = Record<string, unknown>;

function parseArray(text: string): Json[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  const value: unknown = JSON.parse(trimmed);
  return Array.isArray(value) ? (value as Json[]) : [];
}

function routeType(value: unknown): RouteType {
  if (value === undefined || Number(value) === RTN_UNICAST || value === 'unicast') return 'unicast';
  if (Number(value) === RTN_BLACKHOLE || value === 'blackhole') return 'blackhole';
  return 'other';
}

function routeDst(value: unknown, family: Family): Cidr | undefined {
  if (value === 'default') return (family === 4 ? '0.0.0.0/0' : '::/0') as Cidr;
  if (typeof value !== 'string') return undefined;
  // The kernel only ever holds masked prefixes: the syntax check is enough (and is most of the
  // cost of reading 100,000 routes).
  if (value.includes('/')) return parseCidr(value, false);
  const ip = parseIp(value);
  return ip === undefined ? undefined : hostCidr(ip);
}

/** Parses `ip -N -j -4|-6 route show table T`. Routes wren cannot represent are skipped. */
export function parseRoutes(text: string, family: Family, table: number): Route[] {
  const routes: Route[] = [];
  for (const r of parseArray(text)) {
    const dst = routeDst(r.dst, family);
    if (dst === undefined) continue;
    const flags = Array.isArray(r.flags) ? (r.flags as unknown[]) : [];
    const metric = r.metric === undefined ? (family === 6 ? IPV6_DEFAULT_METRIC : 0) : Number(r.metric);
    routes.push({
      dst,
      table: r.table === undefined ? table : Number(r.table),
      metric,
      type: routeType(r.type),
      dev: parseIfaceName(r.dev),
      via: parseIp(r.gateway),
      onlink: flags.includes('onlink'),
      scope: Number(r.scope ?? 0) === RT_SCOPE_LINK || r.scope === 'link' ? 'link' : 'global',
      // ip omits the protocol when it is boot (3), the default for routes added by hand.
      proto: Number(r.protocol ?? RTPROT_BOOT),
    });
  }
  return routes;
}

/** Parses `ip -N -d -j addr show`: links with their kind, VXLAN details and addresses. */
export function parseLinks(text: string): Link[] {
  const links: Link[] = [];
  for (const l of parseArray(text)) {
    const name = parseIfaceName(l.ifname);
    if (name === undefined) continue;
    const info = (l.linkinfo ?? {}) as Json;
    const kind = typeof info.info_kind === 'string' ? info.info_kind : undefined;
    const flags = Array.isArray(l.flags) ? (l.flags as unknown[]) : [];
    const addresses: Cidr[] = [];
    for (const a of Array.isArray(l.addr_info) ? (l.addr_info as Json[]) : []) {
      const cidr = parseCidr(`${String(a.local)}/${String(a.prefixlen)}`, false);
      if (cidr !== undefined) addresses.push(cidr);
    }
    links.push({
      name,
      index: Number(l.ifindex),
      kind,
      mtu: Number(l.mtu),
      up: flags.includes('UP'),
      mac: parseMac(l.address),
      vxlan: kind === 'vxlan' ? vxlanInfo((info.info_data ?? {}) as Json) : undefined,
      addresses,
    });
  }
  return links;
}

function vxlanInfo(data: Json): VxlanInfo {
  return {
    vni: Number(data.id),
    port: Number(data.port),
    local: parseIp(data.local ?? data.local6),
    parent: parseIfaceName(data.link),
    learning: data.learning === true,
  };
}

/**
 * Parses `ip -j neigh show dev DEV`: permanent entries only. Those are the ones wren writes;
 * the kernel's own transient entries are left to its garbage collector.
 */
export function parseNeighbors(text: string, dev: Link['name']): Neighbor[] {
  const out: Neighbor[] = [];
  for (const n of parseArray(text)) {
    if (!Array.isArray(n.state) || !n.state.includes('PERMANENT')) continue;
    const ip = parseIp(n.dst);
    const mac = parseMac(n.lladdr);
    if (ip !== undefined && mac !== undefined) out.push({ dev, ip, mac });
  }
  return out;
}

/** Parses `bridge -j fdb show dev DEV`: permanent entries with a remote destination. */
export function parseFdb(text: string, dev: Link['name']): FdbEntry[] {
  const out: FdbEntry[] = [];
  for (const f of parseArray(text)) {
    if (f.state !== 'permanent') continue;
    const mac = parseMac(f.mac);
    const dst = parseIp(f.dst);
    if (mac !== undefined && dst !== undefined) out.push({ dev, mac, dst });
  }
  return out;
}
