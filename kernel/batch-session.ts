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
import { createInterface } from 'node:readline';
import { BATCH_END_LINE as SENTINEL } from './batches.js';
import { spawn, type Spawned } from './exec.js';

export interface LineFailure {
  /** Index of the failed line within the batch. */
  readonly index: number;
  readonly error: string;
}

interface Pending {
  readonly firstLine: number;
  readonly sentinelLine: number;
  readonly failures: LineFailure[];
  readonly resolve: (failures: LineFailure[]) => void;
  readonly reject: (error: Error) => void;
}

export class BatchSession {
  private child: Spawned | undefined;
  private linesWritten = 0;
  private messages: string[] = [];
  private readonly queue: Pending[] = [];

  constructor(private readonly tool: 'ip' | 'bridge', private readonly nsArgs: readonly string[]) {}

  /** Runs the lines; resolves with the lines that failed once the process has done them all. */
  run(lines: readonly string[]): Promise<LineFailure[]> {
    const child = this.child ?? this.start();
    return new Promise((resolve, reject) => {
      const firstLine = this.linesWritten + 1;
      this.linesWritten += lines.length + 1;
      this.queue.push({ firstLine, sentinelLine: this.linesWritten, failures: [], resolve, reject });
      child.process.stdin?.write(`${lines.join('\n')}${lines.length > 0 ? '\n' : ''}${SENTINEL}\n`);
    });
  }

  close(): void {
    this.child?.process.stdin?.end();
    this.child = undefined;
  }

  private start(): Spawned {
    const child = spawn(this.tool, [...this.nsArgs, '-force', '-batch', '-'], { stdin: 'pipe', stdout: 'ignore', stderr: 'pipe' });
    this.child = child;
    this.linesWritten = 0;
    this.messages = [];
    if (child.process.stderr !== null) createInterface({ input: child.process.stderr }).on('line', (line) => this.onStderr(line));
    const died = (why: string) => {
      if (this.child === child) this.child = undefined;
      for (const pending of this.queue.splice(0)) pending.reject(new Error(`${this.tool} -batch ended (${why}) before finishing a batch`));
    };
    child.process.then((r) => died(`exit ${r.exitCode ?? r.signal}`), (e: unknown) => died((e as Error).message));
    return child;
  }

  private onStderr(line: string): void {
    const match = /^Command failed -:(\d+)$/.exec(line.trim());
    if (match === null) {
      if (line.trim() !== '') this.messages.push(line.trim());
      return;
    }
    const number = Number(match[1]);
    const pending = this.queue[0];
    const message = this.messages.join('; ');
    this.messages = [];
    if (pending === undefined) return;
    if (number === pending.sentinelLine) {
      this.queue.shift();
      pending.resolve(pending.failures);
    } else if (number >= pending.firstLine) {
      pending.failures.push({ index: number - pending.firstLine, error: message || 'failed' });
    }
  }
}
