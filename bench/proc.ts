// What /proc says about a process: CPU time (utime + stime) and memory (VmRSS, VmHWM — the peak
// resident set), for one process or a process and everything it started (an agent's `ip
// monitor` and `ip -batch` children count towards its idle cost).
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { runOk } from '../kernel/index.js';

let ticksPerSecond: number | undefined;

async function clockTicks(): Promise<number> {
  ticksPerSecond ??= Number((await runOk('getconf', ['CLK_TCK'])).trim()) || 100;
  return ticksPerSecond;
}

/**
 * utime + stime of one process, and cutime + cstime (its children that have exited and been
 * waited for: an agent's short-lived `ip -j … show`), in seconds; undefined once it is gone.
 */
export async function cpuSeconds(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / (await clockTicks());
  } catch {
    return undefined;
  }
}

/** The process and all its descendants, alive now. */
export async function processTree(pid: number): Promise<number[]> {
  const out: number[] = [];
  const stack = [pid];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    out.push(next);
    const tasks = await readdir(`/proc/${next}/task`).catch(() => [] as string[]);
    for (const task of tasks) {
      const children = await readFile(`/proc/${next}/task/${task}/children`, 'utf8').catch(() => '');
      for (const child of children.trim().split(/\s+/)) if (child !== '') stack.push(Number(child));
    }
  }
  return out;
}

/** CPU seconds of a process tree, by pid, so a window can be taken across two readings. */
export async function treeCpu(pid: number): Promise<Map<number, number>> {
  const readings = new Map<number, number>();
  for (const p of await processTree(pid)) {
    const s = await cpuSeconds(p);
    if (s !== undefined) readings.set(p, s);
  }
  return readings;
}

/** CPU used between two readings; a process that appeared in between counts from zero. */
export function cpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, s] of after) total += s - (before.get(pid) ?? 0);
  return total;
}

export interface Memory {
  /** Resident now, kB. */
  readonly rssKb: number;
  /** Peak resident, kB. */
  readonly hwmKb: number;
}

export async function memory(pid: number): Promise<Memory | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    return { rssKb: field('VmRSS'), hwmKb: field('VmHWM') };
  } catch {
    return undefined;
  }
}

/** Resets the process's VmHWM to its current RSS (clear_refs 5, Linux 4.0+): a peak from here on. */
export async function resetPeakMemory(pid: number): Promise<void> {
  await writeFile(`/proc/${pid}/clear_refs`, '5');
}

/** VmRSS of a process and its descendants, summed, in kB (a process gone, or a zombie without VmRSS, counts 0). */
export async function treeRssKb(pid: number): Promise<number> {
  let total = 0;
  for (const p of await processTree(pid)) {
    const rss = (await memory(p))?.rssKb;
    if (rss !== undefined && Number.isFinite(rss)) total += rss;
  }
  return total;
}
