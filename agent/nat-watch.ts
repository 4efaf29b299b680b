// The agent's watch on wren's NAT tables: `nft monitor` (kernel/nat/nat-monitor.ts) followed, and
// each change to wren's table — a hand deleting it or an element of it, or wren's own write
// echoing — has the loop read the tables again and put them right (reason 'kernel-nat'). A
// monitor that ends (killed, or nft missing on a node that then has no NAT anyway) is started
// again with backoff, and its gap is covered by a re-read at once and by every resync. The first
// of a run of such ends is a warning; the rest (nft missing: every minute) are debug lines.
import type { Logger } from 'pino';
import { startNatMonitor, type NatMonitor } from '../kernel/nat/nat-monitor.js';
import { Backoff } from '../util/backoff.js';
import type { ReconcileLoop } from './loop.js';

/** A monitor that ran this long was working: the next restart waits the initial delay again. */
const HEALTHY_MS = 30_000;

export function watchNat(netns: string | undefined, loop: Pick<ReconcileLoop, 'markDirty'>, log: Logger): { stop(): void } {
  const backoff = new Backoff({ initialMs: 1000, maxMs: 60_000 });
  let monitor: NatMonitor | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let endsInARow = 0;
  const start = () => {
    const since = performance.now();
    monitor = startNatMonitor(netns, (event) => {
      if (event.kind === 'unreadable') log.debug({ line: event.line }, 'nft monitor line unreadable; NAT tables read again');
      loop.markDirty('kernel-nat');
    }, (reason) => {
      if (stopped) return;
      if (performance.now() - since > HEALTHY_MS) {
        backoff.reset();
        endsInARow = 0;
      }
      const retryInMs = backoff.next();
      log[endsInARow === 0 ? 'warn' : 'debug']({ reason, retryInMs }, 'nft monitor stopped; NAT tables read again and the monitor restarted');
      endsInARow += 1;
      loop.markDirty('kernel-nat');
      timer = setTimeout(start, retryInMs);
      timer.unref();
    });
  };
  start();
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
      monitor?.stop();
    },
  };
}
