// `nft -j monitor`, followed for changes to wren's NAT tables: one JSON object a line, as
// `{"delete": {"table": {"family": "ip", "name": "wren-nat", …}}}` or
// `{"add": {"element": {"family": "ip", "table": "wren-nat", "name": "masq-pools", …}}}`. A change
// to wren's table in either family is an event; other tables' changes (kube-proxy's, a user's)
// are ignored. wren's own writes echo here too: the caller re-reads the table, finds it as
// wanted and does nothing more. A line that cannot be read may be anything, so it asks for a
// re-read as well.
import { createInterface } from 'node:readline';
import { spawn, untilStopped } from '../exec.js';
import type { Family } from '../values.js';
import { nftArgv } from './nft.js';
import { NAT_TABLE } from './nat-state.js';

export type NatEvent =
  /** wren's table of `family` changed; of both, when undefined (a flush of the whole ruleset). */
  | { readonly kind: 'nat'; readonly family?: Family }
  | { readonly kind: 'unreadable'; readonly line: string }
  | { readonly kind: 'ignored' };

const FAMILY: Readonly<Record<string, Family>> = { ip: 4, ip6: 6 };

export function parseNatMonitorLine(line: string): NatEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return line.trim() === '' ? { kind: 'ignored' } : { kind: 'unreadable', line };
  }
  const verb = isObject(parsed) ? Object.values(parsed)[0] : undefined;
  if (!isObject(verb)) return { kind: 'unreadable', line };
  const [kind, object] = Object.entries(verb)[0] ?? [];
  if (kind === 'ruleset') return { kind: 'nat' };
  if (!isObject(object)) return { kind: 'unreadable', line };
  const table = kind === 'table' ? object.name : object.table;
  const family = typeof object.family === 'string' ? FAMILY[object.family] : undefined;
  return table === NAT_TABLE && family !== undefined ? { kind: 'nat', family } : { kind: 'ignored' };
}

export interface NatMonitor {
  stop(): void;
}

/** Follows `nft -j monitor` (in `netns`); `onExit` when it ends by itself (nft missing, killed). */
export function startNatMonitor(netns: string | undefined, onEvent: (event: NatEvent) => void, onExit: (reason: string) => void): NatMonitor {
  const [file, args] = nftArgv(netns, ['-j', 'monitor']);
  const child = spawn(file, args, { stdout: 'pipe', stderr: 'pipe' });
  const stderr: string[] = [];
  if (child.process.stderr !== null) createInterface({ input: child.process.stderr }).on('line', (line) => stderr.push(line));
  if (child.process.stdout !== null) {
    createInterface({ input: child.process.stdout }).on('line', (line) => {
      const event = parseNatMonitorLine(line);
      if (event.kind !== 'ignored') onEvent(event);
    });
  }
  return { stop: untilStopped(child, 'nft monitor', onExit, () => (stderr.length > 0 ? `: ${stderr.slice(-2).join('; ')}` : '')) };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
