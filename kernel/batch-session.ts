// A long-lived `ip -force -batch -` (or `bridge …`) process that batches are streamed into.
//
// Spawning `ip` costs about 9 ms; writing a line to a running one reaches the kernel in about
// 0.3 ms, which is what lets a single route change land in well under 10 ms. The process says
// nothing on success, so each batch ends with a sentinel line naming an object iproute2 does
// not know: it fails at once, without a syscall, and its "Command failed -:N" on stderr marks
// the end of the batch. Everything is read from stderr alone — stdout and stderr are separate
// pipes whose relative order the reader cannot trust — and line numbers count from the start
// of the process. If the process dies mid-batch, the batch is reported as failed as a whole
// (the caller re-reads the kernel) and the next batch starts a fresh process.
//
// iproute2 6.1 keeps about 4 KB for every line a batch process has run and never frees it
// (100,000 route replaces: 407 MB resident), so a process that has run RECYCLE_AFTER_LINES is
// ended once its batches are done, and the next batch starts a fresh one: each of the agent's
// batch processes stays under about 8 MB between batches however long it runs, for one more
// process start (about 9 ms) per that many lines.
import { createInterface } from 'node:readline';
import { BatchStderrReader, type BatchLineFailure } from './batch-failures.js';
import { BATCH_END_LINE as SENTINEL } from './batches.js';
import { spawn, type Spawned } from './exec.js';

export const RECYCLE_AFTER_LINES = 2000;

interface Pending {
  readonly firstLine: number;
  readonly sentinelLine: number;
  readonly failures: BatchLineFailure[];
  readonly resolve: (failures: BatchLineFailure[]) => void;
  readonly reject: (error: Error) => void;
}

/** One process and the batches written to it: its line numbers and answers are its own. */
interface BatchProcess {
  readonly child: Spawned;
  linesWritten: number;
  readonly stderr: BatchStderrReader;
  readonly queue: Pending[];
}

export class BatchSession {
  private current: BatchProcess | undefined;

  constructor(private readonly tool: 'ip' | 'bridge', private readonly nsArgs: readonly string[], private readonly recycleAfterLines = RECYCLE_AFTER_LINES) {}

  /** The current process's pid, if one is running (tests watch it being replaced). */
  get pid(): number | undefined {
    return this.current?.child.pid;
  }

  /** Runs the lines; resolves with the lines that failed (numbered from 1 within `lines`) once the process has done them all. */
  run(lines: readonly string[]): Promise<BatchLineFailure[]> {
    const proc = this.current ?? this.start();
    return new Promise((resolve, reject) => {
      const firstLine = proc.linesWritten + 1;
      proc.linesWritten += lines.length + 1;
      proc.queue.push({ firstLine, sentinelLine: proc.linesWritten, failures: [], resolve, reject });
      proc.child.process.stdin?.write(`${lines.join('\n')}${lines.length > 0 ? '\n' : ''}${SENTINEL}\n`);
    });
  }

  /** Ends the process once it has read what was written; batches still under way in it finish there. */
  close(): void {
    this.current?.child.process.stdin?.end();
    this.current = undefined;
  }

  private start(): BatchProcess {
    const child = spawn(this.tool, [...this.nsArgs, '-force', '-batch', '-'], { stdin: 'pipe', stdout: 'ignore', stderr: 'pipe' });
    const proc: BatchProcess = { child, linesWritten: 0, stderr: new BatchStderrReader(), queue: [] };
    this.current = proc;
    if (child.process.stderr !== null) createInterface({ input: child.process.stderr }).on('line', (line) => this.onStderr(proc, line));
    const died = (why: string) => {
      if (this.current === proc) this.current = undefined;
      for (const pending of proc.queue.splice(0)) pending.reject(new Error(`${this.tool} -batch ended (${why}) before finishing a batch`));
    };
    child.process.then((r) => died(`exit ${r.exitCode ?? r.signal}`), (e: unknown) => died((e as Error).message));
    return proc;
  }

  private onStderr(proc: BatchProcess, line: string): void {
    const failure = proc.stderr.push(line);
    const pending = proc.queue[0];
    if (failure === undefined || pending === undefined) return;
    const number = failure.lineNumber;
    if (number === pending.sentinelLine) {
      proc.queue.shift();
      pending.resolve(pending.failures);
      if (this.current === proc && proc.queue.length === 0 && proc.linesWritten >= this.recycleAfterLines) this.close();
    } else if (number >= pending.firstLine) {
      pending.failures.push({ ...failure, lineNumber: number - pending.firstLine + 1 });
    }
  }
}
