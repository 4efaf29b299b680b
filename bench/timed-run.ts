// Runs a command to completion and times it from just before the spawn to its exit, sampling
// its peak resident set (VmHWM) while it runs: the last sample before it exits is a lower bound
// of its real peak, within one sampling period.
import { spawn } from '../kernel/index.js';
import { memory } from './proc.js';

export interface TimedRun {
  readonly ms: number;
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Sampled peak RSS in kB (undefined when the process ended before the first sample). */
  readonly peakRssKb: number | undefined;
  readonly timedOut: boolean;
  /** The signal that ended it, if one did (SIGABRT: V8 out of heap). */
  readonly signal: string | undefined;
}

const SAMPLE_MS = 50;

/** `timeoutMs`: killed (SIGKILL) when it runs longer; the result then says so in `timedOut`. */
export async function timedRun(file: string, args: readonly string[], input?: string, timeoutMs?: number): Promise<TimedRun> {
  let stdout = '';
  let stderr = '';
  let peakRssKb: number | undefined;
  const started = performance.now();
  const child = spawn(file, args, { stdin: input === undefined ? 'ignore' : 'pipe', stdout: 'pipe', stderr: 'pipe' });
  child.process.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.process.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  if (input !== undefined) child.process.stdin?.end(input);
  let running = true;
  const sampler = (async () => {
    while (running && child.pid !== undefined) {
      const m = await memory(child.pid);
      if (m !== undefined && Number.isFinite(m.hwmKb) && running) peakRssKb = Math.max(peakRssKb ?? 0, m.hwmKb);
      await new Promise((r) => setTimeout(r, SAMPLE_MS));
    }
  })();
  let timedOut = false;
  const timer = timeoutMs === undefined ? undefined : setTimeout(() => {
    timedOut = true;
    child.process.kill('SIGKILL');
  }, timeoutMs);
  const result = await child.process;
  clearTimeout(timer);
  const ms = performance.now() - started;
  running = false;
  await sampler;
  return { ms, exitCode: result.exitCode ?? -1, stdout, stderr, peakRssKb, timedOut, signal: result.signal ?? undefined };
}
