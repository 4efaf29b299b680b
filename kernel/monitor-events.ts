// One `ip -o -N monitor` line → the typed event it reports: the one reader of the monitor's text.
// Route lines are read in full (monitor-route.ts); link and address lines only say "the links
// changed"; neighbour lines on wren's VXLAN devices (family bridge for FDB entries: printed with
// the remote node's IP and NOARP) become entries. A line that cannot be read is 'unreadable'
// when it may matter (a route, or a neighbour line claiming to be permanent) — the caller then
// re-reads the kernel rather than guess — and 'ignored' otherwise.
import { parseRouteEvent, type RouteEvent } from './monitor-route.js';

/** One `ip monitor` neighbour line on a VXLAN device: a neighbour entry, or an FDB one (`fdb`). */
export interface NeighborEvent {
  readonly dev: string;
  readonly ip: string;
  /** Absent when the kernel reports an entry without an address (FAILED, INCOMPLETE). */
  readonly mac?: string;
  readonly fdb: boolean;
  readonly deleted: boolean;
  readonly permanent: boolean;
}

export type KernelEvent =
  | { readonly kind: 'route'; readonly event: RouteEvent }
  /** A link or address changed: the links are to be read again. */
  | { readonly kind: 'link' }
  | { readonly kind: 'neighbor'; readonly entry: NeighborEvent }
  | { readonly kind: 'unreadable'; readonly line: string }
  | { readonly kind: 'ignored' };

const NEIGHBOR_LINE = /^\[NEIGH\](Deleted )?(\S+) dev (\S+)(?: lladdr (\S+))?(.*)$/;

export function parseMonitorLine(line: string): KernelEvent {
  if (line.startsWith('[ROUTE]')) {
    const event = parseRouteEvent(line);
    return event === undefined ? { kind: 'unreadable', line } : { kind: 'route', event };
  }
  if (line.startsWith('[LINK]') || line.startsWith('[ADDR]')) return { kind: 'link' };
  const m = NEIGHBOR_LINE.exec(line.trim());
  // Not an entry at all: it matters only if it claims to be a permanent one (wren's kind).
  if (m === null) return /\bPERMANENT\b/.test(line) ? { kind: 'unreadable', line } : { kind: 'ignored' };
  const flags = ` ${m[5] ?? ''} `;
  return {
    kind: 'neighbor',
    entry: { ip: m[2] as string, dev: m[3] as string, mac: m[4], fdb: flags.includes(' NOARP '), deleted: m[1] !== undefined, permanent: flags.includes(' PERMANENT ') },
  };
}
