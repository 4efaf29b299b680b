// `show protocols all` → typed state of BIRD's BGP sessions: the one reader of that text.
//
// Each protocol is a 1002 row (name, protocol, table, state, since, info) followed by 1006 lines
// of detail; of those, BGP's state, the neighbour's address and AS, the local AS, the last error
// and the channel's route counts are kept. `since` is read in the ISO form wren's configuration
// asks for (`timeformat protocol iso long`), or BIRD's default time of day before that applies.
//
// Some of this text comes from the peer (a shutdown communication, RFC 8203, is free text): what
// is kept is printable ASCII only, and short.
import type { IpAddr } from '../values.js';
import { parseIp } from '../values.js';
import type { ReplyLine } from './bird-socket.js';

export interface BirdRoutes {
  readonly imported: number;
  readonly exported: number;
  readonly preferred: number;
}

export interface BgpSessionState {
  /** BIRD's protocol name (wren's: `Global_172_16_30_1`). */
  readonly name: string;
  /** The protocol's state: up, down, start, stop. */
  readonly state: string;
  readonly since: string;
  /** `Established`, `Active`, `Connect`, … and BIRD's reason when down. */
  readonly info: string;
  readonly bgpState?: string;
  readonly neighborAddress?: IpAddr;
  readonly neighborAs?: number;
  readonly localAs?: number;
  readonly lastError?: string;
  /** Counts of the session's channel; absent while it has none up. */
  readonly routes?: BirdRoutes;
}

const ROW = /^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?|\d\d:\d\d:\d\d(?:\.\d+)?|\S+)\s*(.*)$/;
const MAX_TEXT = 160;

/** The BGP protocols of a `show protocols all` reply, in BIRD's order; other protocols are skipped. */
export function parseBgpProtocols(reply: readonly ReplyLine[]): BgpSessionState[] {
  const out: BgpSessionState[] = [];
  let current: { row: Omit<BgpSessionState, 'routes'>; details: string[] } | undefined;
  const flush = () => {
    if (current !== undefined) out.push(withDetails(current.row, current.details));
    current = undefined;
  };
  for (const line of reply) {
    if (line.code === 1002) {
      flush();
      const row = ROW.exec(line.text);
      if (row === null || row[2] !== 'BGP') continue;
      current = { row: { name: printable(row[1] ?? ''), state: printable(row[4] ?? ''), since: printable(row[5] ?? ''), info: printable((row[6] ?? '').trim()) }, details: [] };
    } else if (line.code === 1006 && current !== undefined) {
      current.details.push(line.text);
    }
  }
  flush();
  return out;
}

function withDetails(row: Omit<BgpSessionState, 'routes'>, details: readonly string[]): BgpSessionState {
  let state: BgpSessionState = row;
  for (const text of details) {
    const field = /^\s*([A-Za-z][A-Za-z -]*?):\s+(.*)$/.exec(text);
    if (field === null) continue;
    const [, key, value = ''] = field;
    switch (key) {
      case 'BGP state':
        state = { ...state, bgpState: printable(value.trim()) };
        break;
      case 'Neighbor address': {
        const ip = parseIp(value.trim());
        if (ip !== undefined) state = { ...state, neighborAddress: ip };
        break;
      }
      case 'Neighbor AS':
        state = { ...state, neighborAs: count(value) };
        break;
      case 'Local AS':
        state = { ...state, localAs: count(value) };
        break;
      case 'Last error':
        state = { ...state, lastError: printable(value.trim()) };
        break;
      case 'Routes': {
        const routes = /^(\d+) imported, (?:(\d+) filtered, )?(\d+) exported, (\d+) preferred/.exec(value.trim());
        if (routes !== null) state = { ...state, routes: { imported: Number(routes[1]), exported: Number(routes[3]), preferred: Number(routes[4]) } };
        break;
      }
    }
  }
  return state;
}

function count(text: string): number | undefined {
  const value = text.trim();
  return /^[0-9]{1,10}$/.test(value) ? Number(value) : undefined;
}

function printable(text: string): string {
  const kept = text.replace(/[^\x20-\x7e]/g, '?');
  return kept.length > MAX_TEXT ? `${kept.slice(0, MAX_TEXT)}...` : kept;
}

/**
 * One BGP peer as `/status` shows it (and `wren lab status` reads it back), like a row of
 * `calicoctl node status`: the peer's address, its AS, the session's type and BIRD's state.
 */
export interface BgpPeerRow {
  readonly peer: string;
  readonly asNumber: number;
  readonly type: string;
  /** BIRD's protocol state (`up` is established), or `unknown` while BIRD has not said. */
  readonly state: string;
  readonly since: string | null;
  readonly info: string;
  readonly routesExported: number | null;
}
