// Waits for the machine to be quiet before a timed step. Deleting a namespace frees its devices
// and routes later, in a kernel worker, and other work may share these 2 cores: a measurement
// started in that noise measures the noise. Busy = non-idle jiffies of all CPUs, from /proc/stat.
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

export interface QuietResult {
  /** Busy fraction (0–1, all CPUs) of the last window looked at. */
  readonly busy: number;
  readonly waitedMs: number;
  /** False when the machine never became quiet within the timeout (the figure is noisier). */
  readonly quiet: boolean;
}

async function cpuTimes(): Promise<{ busy: number; total: number }> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '';
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

/** Busy fraction of all CPUs over `ms`. */
export async function busyFraction(ms: number): Promise<number> {
  const a = await cpuTimes();
  await sleep(ms);
  const b = await cpuTimes();
  return b.total === a.total ? 0 : (b.busy - a.busy) / (b.total - a.total);
}

/** What the waits of this process added up to: said in the results, next to the figures. */
export const quietStats = { waits: 0, waitedMs: 0, notQuiet: 0 };

export async function waitQuiet(options: { threshold?: number; windowMs?: number; timeoutMs?: number } = {}): Promise<QuietResult> {
  const threshold = options.threshold ?? 0.1;
  const windowMs = options.windowMs ?? 250;
  const started = performance.now();
  for (;;) {
    const busy = await busyFraction(windowMs);
    const waitedMs = performance.now() - started;
    const quiet = busy <= threshold;
    if (quiet || waitedMs >= (options.timeoutMs ?? 20_000)) {
      quietStats.waits += 1;
      quietStats.waitedMs += waitedMs;
      if (!quiet) quietStats.notQuiet += 1;
      return { busy, waitedMs, quiet };
    }
  }
}
