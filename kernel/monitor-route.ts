// One `ip -o -N monitor route` line → the route event it reports.
//
// iproute2 6.1 has no JSON monitor, so the text is parsed: "[ROUTE]", "Deleted " for removals,
// a numeric type when not unicast (`-N`), the destination (host routes without their /32), then
// keyword/value pairs and flags in any order. A line this parser does not fully understand
// (multipath nexthops, a destination it cannot read) yields undefined: the caller re-reads the
// kernel rather than guess.
import type { Route, RouteType } from './state.js';
import { IPV6_DEFAULT_METRIC, MAIN_TABLE } from './state.js';
import { hostCidr, parseCidr, parseIfaceName, parseIp } from './values.js';

export interface RouteEvent {
  readonly deleted: boolean;
  readonly route: Route;
  /** The route as iproute2 printed it, without the label and "Deleted ": for the main table, the very line `ip route show` lists. */
  readonly text: string;
}

const TYPES: Record<string, RouteType> = { '1': 'unicast', unicast: 'unicast', '6': 'blackhole', blackhole: 'blackhole' };
const OTHER_TYPES = new Set(['2', '3', '4', '5', '7', '8', '9', '10', 'local', 'broadcast', 'anycast', 'multicast', 'unreachable', 'prohibit', 'throw', 'nat']);
const TABLE_NAMES: Record<string, number> = { main: MAIN_TABLE, local: 255, default: 253 };
/** Keywords followed by one value that wren does not keep. */
const SKIPPED_VALUES = new Set(['src', 'pref', 'expires', 'mtu', 'advmss', 'rtt', 'rttvar', 'window', 'cwnd', 'initcwnd', 'initrwnd', 'hoplimit', 'realms', 'error', 'nhid', 'congctl', 'features', 'quickack', 'fastopen_no_cookie', 'ttl-propagate', 'tos', 'dsfield', 'ssthresh', 'rto_min', 'reordering', 'lock', 'cache']);
const SKIPPED_FLAGS = new Set(['linkdown', 'dead', 'pervasive', 'offload', 'trap', 'offload_failed', 'notify', 'rt_offload', 'rt_trap', 'rt_offload_failed', 'unresolved']);

export function parseRouteEvent(line: string): RouteEvent | undefined {
  const text = line.startsWith('[ROUTE]') ? line.slice('[ROUTE]'.length) : line;
  const words = text.trim().split(/\s+/);
  let i = 0;
  const deleted = words[i] === 'Deleted';
  if (deleted) i += 1;
  const routeText = deleted ? text.slice(text.indexOf('Deleted ') + 'Deleted '.length) : text;
  let type: RouteType = 'unicast';
  const first = words[i] ?? '';
  if (first in TYPES) {
    type = TYPES[first] as RouteType;
    i += 1;
  } else if (OTHER_TYPES.has(first)) {
    type = 'other';
    i += 1;
  }
  const rawDst = words[i++];
  if (rawDst === undefined || rawDst === 'default') return undefined;
  const dst = rawDst.includes('/') ? parseCidr(rawDst, false) : (() => { const ip = parseIp(rawDst); return ip === undefined ? undefined : hostCidr(ip); })();
  if (dst === undefined) return undefined;
  const v6 = dst.includes(':');
  const route = { dst, table: MAIN_TABLE, metric: v6 ? IPV6_DEFAULT_METRIC : 0, type, dev: undefined as Route['dev'], via: undefined as Route['via'], onlink: false, scope: 'global' as Route['scope'], proto: 3 };
  while (i < words.length) {
    const word = words[i++] as string;
    const value = words[i];
    switch (word) {
      case 'via': {
        const gateway = value === 'inet' || value === 'inet6' ? words[++i] : value;
        route.via = parseIp(gateway);
        if (route.via === undefined) return undefined;
        i += 1;
        break;
      }
      case 'dev':
        route.dev = parseIfaceName(value);
        if (route.dev === undefined) return undefined;
        i += 1;
        break;
      case 'table':
        route.table = TABLE_NAMES[value ?? ''] ?? Number(value);
        i += 1;
        break;
      case 'proto':
        route.proto = Number(value);
        i += 1;
        break;
      case 'metric':
        route.metric = Number(value);
        i += 1;
        break;
      case 'scope':
        route.scope = value === 'link' || value === '253' ? 'link' : 'global';
        i += 1;
        break;
      case 'onlink':
        route.onlink = true;
        break;
      default:
        if (SKIPPED_VALUES.has(word)) i += 1;
        else if (!SKIPPED_FLAGS.has(word)) return undefined; // nexthop groups, unknown words
    }
  }
  if (!Number.isInteger(route.table) || !Number.isInteger(route.proto) || !Number.isInteger(route.metric)) return undefined;
  return { deleted, route, text: routeText };
}
