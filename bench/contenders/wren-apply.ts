// Contender 1: `wren apply`, the CLI process, from a JSON snapshot file to a converged kernel.
// The wall time covers all of it — Node's start, loading the modules, reading and validating the
// file, reading the kernel, planning, and the batches — because that is what an operator waits for.
import { wrenMain } from '../../lab/index.js';
import { timedRun } from '../timed-run.js';

export interface ApplySummary {
  readonly changes: number;
  readonly routesReplaced: number;
  readonly routesRemoved: number;
  readonly held: number;
  readonly failed: number;
  /** The pass as wren times it (plan and apply; the kernel is read while the file loads), without process start and file loading. */
  readonly ms: number;
}

export interface ApplyRun {
  readonly wallMs: number;
  readonly peakRssKb: number | undefined;
  readonly summary: ApplySummary;
}

/** Longer than any sane cold sync: a run past it is reported as failed, not waited for. */
export const APPLY_TIMEOUT_MS = 300_000;

export async function wrenApply(netns: string, node: string, snapshotFile: string, nodeArgs: readonly string[] = []): Promise<ApplyRun> {
  const args = [...nodeArgs, wrenMain(), 'apply', '--node', node, '--snapshot', snapshotFile, '--netns', netns, '--json'];
  const result = await timedRun(process.execPath, args, undefined, APPLY_TIMEOUT_MS);
  if (result.timedOut) throw new Error(`wren apply did not finish within ${APPLY_TIMEOUT_MS / 1000} s`);
  if (result.exitCode !== 0) throw new Error(`wren apply ${result.signal === undefined ? `exited ${result.exitCode}` : `died of ${result.signal}`} after ${(result.ms / 1000).toFixed(1)} s: ${firstError(result.stderr)}`);
  return { wallMs: result.ms, peakRssKb: result.peakRssKb, summary: JSON.parse(result.stdout) as ApplySummary };
}

/** The line that says why: V8's fatal error rather than the GC trace above it, else the first. */
function firstError(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return lines.find((l) => /FATAL ERROR|^error:|Error:/.test(l)) ?? lines[0] ?? '(no output)';
}
