// How the kernel double (kernel-double.ts) takes one batch line: the plain-data state changed as
// the kernel changes it, or the error text iproute2 prints when the kernel (or ip itself) refuses
// the line. The texts were read from a real kernel (6.18, iproute2 6.1) for the same lines:
//   - a device that does not exist: `Cannot find device "X"` (ip resolves the name first);
//   - a route through a device that is down: "Error: Device for nexthop is not up." (or "Nexthop
//     device is not up." with a gateway); a gateway off every subnet of the device, without
//     onlink: "Error: Nexthop has invalid gateway.";
//   - a route delete that matches nothing (key, proto, blackhole): "RTNETLINK answers: No such process";
//   - an FDB entry for a multicast or all-zero MAC: "RTNETLINK answers: Operation not supported";
//   - a neighbour delete the kernel refuses: ip exit(2)s (ipneigh.c), even under -force: the
//     batch process dies there, and the lines after it never run (`dies`).
// Deleting a device takes its routes, neighbours and FDB entries with it, without a route event
// each (IPv4 flushes them silently), as does taking it down; deleting a veth deletes its peer.
import type { Op } from '../../kernel/plan.js';
import type { FdbEntry, Link, Neighbor, Route } from '../../kernel/state.js';
import { formatRoute } from '../../kernel/format.js';
import { fdbKey, neighborKey, routeKey } from '../../kernel/state.js';
import { cidrContains, familyOf, type IfaceName } from '../../kernel/values.js';

/** The double's kernel: plain data, keyed as the kernel keys it. */
export interface DoubleState {
  readonly routes: Map<string, Route>;
  readonly links: Map<string, Link>;
  readonly neighbors: Map<string, Neighbor>;
  readonly fdb: Map<string, FdbEntry>;
  /** Each veth end's other end: deleting one deletes both. */
  readonly peers: Map<string, string>;
  nextIndex: number;
  /** Whether `ip link add … type ipip` works (the machine this is developed on has no ipip module). */
  readonly ipip: boolean;
}

export type LineOutcome =
  | { readonly ok: true; readonly events: readonly string[] }
  | { readonly ok: false; readonly error: string; readonly dies?: boolean };

const NO_DEVICE = (name: string) => `Cannot find device "${name}"`;

/** One `ip`/`bridge` batch line; NAT operations are kernel-double-nat.ts's. */
export function applyLine(state: DoubleState, op: Op): LineOutcome {
  switch (op.op) {
    case 'nat-replace':
    case 'nat-set':
    case 'nat-delete':
      return refused('Error: a NAT operation in an ip batch');
    case 'route-replace':
      return replaceRoute(state, op.route);
    case 'route-delete':
      return deleteRoute(state, op.route);
    case 'neigh-replace':
      if (!state.links.has(op.neighbor.dev)) return refused(NO_DEVICE(op.neighbor.dev));
      state.neighbors.set(neighborKey(op.neighbor), { dev: op.neighbor.dev, ip: op.neighbor.ip, mac: op.neighbor.mac });
      return done(`[NEIGH]${op.neighbor.ip} dev ${op.neighbor.dev} lladdr ${op.neighbor.mac} PERMANENT `);
    case 'neigh-delete':
      if (!state.links.has(op.neighbor.dev)) return refused(NO_DEVICE(op.neighbor.dev));
      // wren deletes with `neigh flush … nud all` (kernel/plan.ts): nothing there is no error.
      if (!state.neighbors.delete(neighborKey(op.neighbor))) return done();
      return done(`[NEIGH]${op.neighbor.ip} dev ${op.neighbor.dev} FAILED `, `[NEIGH]Deleted ${op.neighbor.ip} dev ${op.neighbor.dev} FAILED `);
    case 'fdb-replace':
      if (!state.links.has(op.fdb.dev)) return refused(NO_DEVICE(op.fdb.dev));
      if (multicastOrZero(op.fdb.mac)) return refused('RTNETLINK answers: Operation not supported');
      state.fdb.set(fdbKey(op.fdb), { dev: op.fdb.dev, mac: op.fdb.mac, dst: op.fdb.dst });
      return done(`[NEIGH]${op.fdb.dst} dev ${op.fdb.dev} lladdr ${op.fdb.mac} NOARP PERMANENT `);
    case 'fdb-delete': {
      if (!state.links.has(op.fdb.dev)) return refused(NO_DEVICE(op.fdb.dev));
      const have = state.fdb.get(fdbKey(op.fdb));
      if (have?.dst !== op.fdb.dst) return refused('RTNETLINK answers: No such file or directory');
      state.fdb.delete(fdbKey(op.fdb));
      return done(`[NEIGH]Deleted ${op.fdb.dst} dev ${op.fdb.dev} lladdr ${op.fdb.mac} NOARP PERMANENT `);
    }
    case 'vxlan-add': {
      const s = op.spec;
      if (state.links.has(s.name)) return refused('RTNETLINK answers: File exists');
      if (!state.links.has(s.parent)) return refused(NO_DEVICE(s.parent));
      const vxlan = { vni: s.vni, port: s.port, local: s.local, parent: s.parent, learning: false };
      return addLink(state, { name: s.name, index: state.nextIndex++, kind: 'vxlan', mtu: s.mtu, up: false, mac: s.mac, vxlan, addresses: [] });
    }
    case 'ipip-add':
      if (state.links.has(op.name)) return refused('RTNETLINK answers: File exists');
      if (!state.ipip) return refused('Error: Unknown device type.');
      return addLink(state, { name: op.name, index: state.nextIndex++, kind: 'ipip', mtu: 1480, up: false, addresses: [] });
    case 'link-delete':
      if (!state.links.has(op.name)) return refused(NO_DEVICE(op.name));
      removeLink(state, op.name);
      return done(`[LINK]Deleted ${op.name}`);
    case 'link-mtu':
      return changeLink(state, op.name, (l) => ({ ...l, mtu: op.mtu }));
    case 'link-up':
      return changeLink(state, op.name, (l) => ({ ...l, up: true }));
    case 'addr-add':
      return changeLink(state, op.dev, (l) => (l.addresses.includes(op.cidr) ? l : { ...l, addresses: [...l.addresses, op.cidr] }), `[ADDR]${op.dev} ${op.cidr}`);
    case 'addr-delete': {
      const link = state.links.get(op.dev);
      if (link === undefined) return refused(NO_DEVICE(op.dev));
      if (!link.addresses.includes(op.cidr)) return refused(`Error: ipv${familyOf(op.cidr)}: Address not found.`);
      return changeLink(state, op.dev, (l) => ({ ...l, addresses: l.addresses.filter((a) => a !== op.cidr) }), `[ADDR]Deleted ${op.dev} ${op.cidr}`);
    }
  }
}

function replaceRoute(state: DoubleState, wanted: Route): LineOutcome {
  // Only the route's own fields: a desired route also carries its class and source.
  const route: Route = { dst: wanted.dst, table: wanted.table, metric: wanted.metric, type: wanted.type, dev: wanted.type === 'blackhole' ? undefined : wanted.dev, via: wanted.via, onlink: wanted.onlink, scope: wanted.scope, proto: wanted.proto };
  if (route.type !== 'blackhole' && route.dev !== undefined) {
    const link = state.links.get(route.dev);
    if (link === undefined) return refused(NO_DEVICE(route.dev));
    if (!link.up) return refused(route.via === undefined ? 'Error: Device for nexthop is not up.' : 'Error: Nexthop device is not up.');
    if (route.via !== undefined && !route.onlink && !link.addresses.some((a) => cidrContains(a, route.via as NonNullable<Route['via']>))) {
      return refused('Error: Nexthop has invalid gateway.');
    }
  }
  state.routes.set(routeKey(route), route);
  return done(`[ROUTE]${routeLine(route)}`);
}

function deleteRoute(state: DoubleState, selector: Route): LineOutcome {
  // `route del … proto P` (and `blackhole` when the route is one) matches on the key and those.
  const key = routeKey(selector);
  const have = state.routes.get(key);
  if (have === undefined || have.proto !== selector.proto || (selector.type === 'blackhole' && have.type !== 'blackhole')) {
    return refused('RTNETLINK answers: No such process');
  }
  state.routes.delete(key);
  return done(`[ROUTE]Deleted ${routeLine(have)}`);
}

function addLink(state: DoubleState, link: Link): LineOutcome {
  state.links.set(link.name, link);
  return done(`[LINK]${link.index}: ${link.name}`);
}

function changeLink(state: DoubleState, name: IfaceName, change: (link: Link) => Link, event = `[LINK]${name}`): LineOutcome {
  const link = state.links.get(name);
  if (link === undefined) return refused(NO_DEVICE(name));
  state.links.set(name, change(link));
  return done(event);
}

/** A device goes away: the kernel drops what was on it, without an event per route. */
export function removeLink(state: DoubleState, name: string): void {
  const peer = state.peers.get(name);
  state.peers.delete(name);
  if (peer !== undefined && state.links.has(peer)) removeLink(state, peer);
  state.links.delete(name);
  dropRoutesOf(state, name);
  for (const [key, n] of state.neighbors) if (n.dev === name) state.neighbors.delete(key);
  for (const [key, f] of state.fdb) if (f.dev === name) state.fdb.delete(key);
}

/** IPv4 routes through a device that goes down or away are flushed (blackholes have no device). */
export function dropRoutesOf(state: DoubleState, name: string): void {
  for (const [key, r] of state.routes) if (r.dev === name && r.type !== 'blackhole') state.routes.delete(key);
}

/**
 * A route as `ip -o -N monitor` echoes it and `ip -N route show` lists it: numeric type and
 * scope (-N), host routes without their length, the table only when not main, a trailing space.
 */
export function routeLine(route: Route): string {
  return `${formatRoute(route).replace(/^blackhole /, '6 ').replace(' scope link', ' scope 253')} `;
}

/** A group bit set (multicast, broadcast) or all zeros: not a unicast VTEP. */
function multicastOrZero(mac: string): boolean {
  return (parseInt(mac.slice(0, 2), 16) & 1) === 1 || /^(00:){5}00$/.test(mac);
}

function done(...events: string[]): LineOutcome {
  return { ok: true, events };
}

function refused(error: string): LineOutcome {
  return { ok: false, error };
}
