// Reading `ip -batch` / `bridge -batch` stderr: the one parser of "Command failed -:N", for
// batches run to completion and for the persistent sessions that stream it line by line.
// iproute2 prints a failed line's messages first, then "Command failed -:N" with the line's
// number counted from the start of the process; -force goes on to the next line, without it
// the process stops there.
import { kernelErrorCode, type KernelErrorCode } from './kernel-error.js';

export interface BatchLineFailure {
  /** 1-based, from the start of the process. */
  readonly lineNumber: number;
  /** iproute2's messages for the line, joined with "; ". */
  readonly error: string;
  readonly code: KernelErrorCode;
}

const COMMAND_FAILED = /^Command failed -:(\d+)$/;

/** Takes stderr a line at a time; each "Command failed -:N" closes the messages printed since the last. */
export class BatchStderrReader {
  private pending: string[] = [];

  /** The failure this line completes, if it is a "Command failed" line. */
  push(stderrLine: string): BatchLineFailure | undefined {
    const line = stderrLine.trim();
    const match = COMMAND_FAILED.exec(line);
    if (match === null) {
      if (line !== '') this.pending.push(line);
      return undefined;
    }
    const error = this.pending.join('; ') || 'failed';
    this.pending = [];
    return { lineNumber: Number(match[1]), error, code: kernelErrorCode(error) };
  }

  /** Messages no "Command failed" line has closed: why a batch that died mid-way died. */
  unclosed(): string {
    return this.pending.join('; ');
  }
}

/** Every failed line of a finished batch's stderr, in order. */
export function parseBatchFailures(stderr: string): BatchLineFailure[] {
  return readBatchStderr(stderr).failures;
}

/** A finished batch's stderr: its failed lines, and what came after the last (a dead batch's cause). */
export function readBatchStderr(stderr: string): { readonly failures: BatchLineFailure[]; readonly unclosed: string } {
  const reader = new BatchStderrReader();
  const failures: BatchLineFailure[] = [];
  for (const line of stderr.split('\n')) {
    const failure = reader.push(line);
    if (failure !== undefined) failures.push(failure);
  }
  return { failures, unclosed: reader.unclosed() };
}
