// This node's BIRD 2 configuration, rendered from validated values only (BIRD's doc/bird.sgml;
// Calico's confd templates, calico.md §8, for what is kept of them):
//   - the node's blocks are static blackhole routes in BIRD's own configuration
//     (`wren_blocks4`, `wren_blocks6`), as Calico's bird_aggr template makes them, and the only
//     routes any session exports: the filter accepts routes of those two protocols and nothing
//     else, never a default route. BGP imports nothing, and the kernel protocols export nothing,
//     so BIRD's tables hold these static routes alone and the kernel is wren's;
//   - one `protocol bgp` per peer, named from its address; graceful restart on every session (BIRD
//     is started with -R, kernel/bird/), so a restarted node loses no route at its peers;
//   - timestamps in ISO form, so `birdc show protocols` reads back unambiguously.
// A block change is a new configuration and `birdc configure`: the static protocol's routes
// change in place, the sessions stay up.
//
// Every number is checked here again as a last guard: a value that is not what the types promise
// is a bug, and it must never reach the file.
import type { AsNumber, Cidr, IpAddr } from '../../kernel/values.js';
import { familyOf, parseCidr, parseIp } from '../../kernel/values.js';
import type { LogSeverity } from './bgp-objects.js';
import type { NodeBgp, NodePeer } from './node-peers.js';

export const STATIC_PROTOCOLS = { 4: 'wren_blocks4', 6: 'wren_blocks6' } as const;
export const EXPORT_FILTER = 'wren_export';

/** Everything the file says: the node's sessions and the blocks it exports. */
export interface BirdConfigInput {
  readonly bgp: NodeBgp;
  /** This node's blocks, both families. */
  readonly exports: readonly Cidr[];
}

const LOG_CLASSES: Record<LogSeverity, string> = {
  Debug: 'all',
  Info: '{ info, remote, warning, error, auth, fatal, bug }',
  Warning: '{ warning, error, auth, fatal, bug }',
  Error: '{ error, auth, fatal, bug }',
  Fatal: '{ fatal, bug }',
};

/** Undefined when the node cannot speak BGP (no router id): BIRD is then left unconfigured. */
export function renderBirdConfig(input: BirdConfigInput): string | undefined {
  const { bgp } = input;
  if (bgp.routerId === undefined) return undefined;
  const exports = [...input.exports].sort();
  const lines = [
    '# Written by wren from the cluster\'s BGPConfiguration, BGPPeers and this node\'s blocks.',
    '# Rewritten on every change: edits here are lost.',
    `log stderr ${LOG_CLASSES[bgp.logSeverity]};`,
    'timeformat protocol iso long;',
    `debug protocols ${bgp.logSeverity === 'Debug' ? 'all' : '{ states }'};`,
    `router id ${ipv4(bgp.routerId)};`,
    // A restarted BIRD (-R) holds its exports until its peers are back; a dead peer must not hold them for BIRD's 240 s.
    'graceful restart wait 10;',
    '',
    'protocol device {}',
    // Nothing from BIRD reaches the kernel: wren's datastore routes are the node's routes.
    'protocol kernel kernel4 { learn off; ipv4 { import none; export none; }; }',
    'protocol kernel kernel6 { learn off; ipv6 { import none; export none; }; }',
    '',
    ...staticProtocol(4, exports),
    ...staticProtocol(6, exports),
    '',
    `filter ${EXPORT_FILTER} {`,
    '  if net.len = 0 then reject;',
    `  if proto = "${STATIC_PROTOCOLS[4]}" || proto = "${STATIC_PROTOCOLS[6]}" then accept;`,
    '  reject;',
    '}',
    ...[...bgp.peers].sort((a, b) => (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0)).flatMap((peer) => ['', ...bgpProtocol(peer, bgp.asNumber, bgp.listenPort)]),
    '',
  ];
  return lines.join('\n');
}

function staticProtocol(family: 4 | 6, exports: readonly Cidr[]): string[] {
  const routes = exports.filter((cidr) => familyOf(cidr) === family).map((cidr) => `  route ${prefix(cidr)} blackhole;`);
  return [`protocol static ${STATIC_PROTOCOLS[family]} {`, `  ipv${family};`, ...routes, '}'];
}

function bgpProtocol(peer: NodePeer, localAs: AsNumber, listenPort: number): string[] {
  const family = familyOf(peer.ip);
  return [
    `protocol bgp ${name(peer.protocol)} {`,
    `  local ${address(peer.localIp)} port ${port(listenPort)} as ${asn(localAs)};`,
    `  neighbor ${address(peer.ip)} port ${port(peer.port)} as ${asn(peer.asNumber)};`,
    peer.multihop ? '  multihop;' : '  direct;',
    '  graceful restart on;',
    // A fabric recovers in seconds, not BIRD's default minutes: a peer back up is found again within 5 s.
    '  connect delay time 1;',
    '  connect retry time 5;',
    '  error wait time 5, 60;',
    `  ipv${family} { import none; export filter ${EXPORT_FILTER}; next hop self; };`,
    '}',
  ];
}

function ipv4(ip: IpAddr): string {
  if (parseIp(ip) !== ip || familyOf(ip) !== 4) throw new RangeError(`router id ${JSON.stringify(ip)} is not an IPv4 address`);
  return ip;
}

function address(ip: IpAddr): string {
  if (parseIp(ip) !== ip) throw new RangeError(`${JSON.stringify(ip)} is not an address in canonical form`);
  return ip;
}

function prefix(cidr: Cidr): string {
  if (parseCidr(cidr) !== cidr) throw new RangeError(`${JSON.stringify(cidr)} is not a network prefix`);
  return cidr;
}

function asn(value: AsNumber): string {
  return decimal(value, 1, 4294967294, 'AS number');
}

function port(value: number): string {
  return decimal(value, 1, 65535, 'port');
}

function decimal(value: number, min: number, max: number, what: string): string {
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${what} ${String(value)} is outside ${min}–${max}`);
  return String(value);
}

function name(protocol: string): string {
  if (!/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(protocol)) throw new RangeError(`protocol name ${JSON.stringify(protocol)} is not a BIRD symbol`);
  return protocol;
}
