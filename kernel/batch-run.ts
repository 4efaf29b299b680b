// One `ip -batch -` (or `bridge -batch -`) run to completion, its failed lines typed: what the
// adapter runs when it keeps no persistent process, and what the lab builds its namespaces
// with, so neither reads iproute2's text itself.
import { BATCH_END_LINE } from './batches.js';
import { readBatchStderr, type BatchLineFailure } from './batch-failures.js';
import { run } from './command.js';
import { KernelError } from './kernel-error.js';
import type { BatchTool } from './plan.js';

export interface BatchRunOptions {
  /**
   * Run every line even after one fails (iproute2's -force), and report each failure; without
   * it the process stops at the first failing line, and that line is the one failure.
   */
  readonly force?: boolean;
}

/**
 * Runs the lines in `TOOL [-n NETNS] [-force] -batch -` and resolves with the lines that
 * failed, numbered from 1 within `lines`. Throws a KernelError when the process ended without
 * naming a failed line: it could not start, or died mid-batch (`ip neigh` exits on a kernel
 * refusal, -force or not, and any line iproute2 cannot parse ends the process with code
 * 'usage'), and then which lines ran is unknown. With -force the batch ends with
 * BATCH_END_LINE, whose own failure shows the process got to the end.
 */
export async function runBatchLines(tool: BatchTool, netns: string | undefined, lines: readonly string[], options: BatchRunOptions = {}): Promise<BatchLineFailure[]> {
  if (lines.length === 0) return [];
  const argv = [...(netns === undefined ? [] : ['-n', netns]), ...(options.force === true ? ['-force'] : []), '-batch', '-'];
  const input = options.force === true ? [...lines, BATCH_END_LINE] : lines;
  const result = await run(tool, argv, `${input.join('\n')}\n`);
  if (result.exitCode === 0 && options.force !== true) return [];
  const { failures, unclosed } = readBatchStderr(result.stderr);
  const reachedEnd = options.force === true ? failures.some((f) => f.lineNumber === lines.length + 1) : failures.length > 0;
  if (!reachedEnd) throw new KernelError([tool, ...argv], result.exitCode, result.stderr, { reason: unclosed });
  return failures.filter((f) => f.lineNumber <= lines.length);
}
