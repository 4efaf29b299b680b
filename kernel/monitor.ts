// Kernel change notifications from `ip monitor`, filtered to what wren cares about: every route
// of wren's table (its own, and foreign ones, which the agent's kernel view must know so that it
// never writes over them), any link or address change (devices coming and going, node IP
// changes), and neighbour entries on wren's VXLAN devices. Everything else — ARP churn on the
// underlay, the local table — is ignored, so an idle node stays idle.
//
// The kernel does not report every removal (routes vanish silently with a link going down), and
// a monitor can die or fall behind; the caller pairs this with a periodic full resync and treats
// the monitor's exit as a reason to resync and restart it.
import { createInterface } from 'node:readline';
import { spawn, untilStopped } from './exec.js';

export interface MonitorFilter {
  readonly table: number;
  /** Devices whose neighbour entries are wren's. */
  readonly neighborDevices: readonly string[];
}

export function isRelevant(line: string, filter: MonitorFilter): boolean {
  if (line.startsWith('[LINK]') || line.startsWith('[ADDR]')) return true;
  if (line.startsWith('[ROUTE]')) {
    const table = /\btable (\S+)/.exec(line)?.[1];
    return table === undefined ? filter.table === 254 : table === String(filter.table) || (filter.table === 254 && table === 'main');
  }
  if (line.startsWith('[NEIGH]')) return filter.neighborDevices.some((dev) => line.includes(` dev ${dev} `));
  return false;
}

export interface KernelMonitor {
  stop(): void;
}

export const MONITOR_RCVBUF = 32 * 1024 * 1024;

export function startMonitor(
  netns: string | undefined,
  filter: MonitorFilter,
  onChange: (line: string) => void,
  onExit: (reason: string) => void,
  onOverrun: (line: string) => void = onChange,
): KernelMonitor {
  // A larger socket buffer than iproute2's 1 MiB (the kernel caps it at net.core.rmem_max): the
  // echo of a cold start's 100,000 writes arrives faster than a pipe drains it.
  const args = [...(netns === undefined ? [] : ['-n', netns]), '-rcvbuf', String(MONITOR_RCVBUF), '-o', '-N', 'monitor', 'label', 'route', 'link', 'address', 'neigh'];
  const child = spawn('ip', args, { stdout: 'pipe', stderr: 'pipe' });
  // iproute2 reports a netlink overrun (ENOBUFS: events were dropped) on stderr and mostly
  // carries on; 6.1 at times exits after one ("Dump terminated"), which onExit covers. Whatever
  // was dropped is found by a resync.
  const stderr = child.process.stderr;
  if (stderr !== null) {
    createInterface({ input: stderr }).on('line', (line) => {
      if (/No buffer space|overrun|receive error/i.test(line)) onOverrun(line);
    });
  }
  const stdout = child.process.stdout;
  if (stdout !== null) {
    const lines = createInterface({ input: stdout });
    lines.on('line', (line) => {
      if (isRelevant(line, filter)) onChange(line);
    });
  }
  return { stop: untilStopped(child, 'ip monitor', onExit) };
}
