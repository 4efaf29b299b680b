// Commands run to completion (`ip -j … show`, `ip -batch`), on node:child_process alone: this is
// all `wren apply` runs, and loading execa (exec.ts, for long-running processes) would cost it
// about 100 ms of start-up. Always an argv array, never a shell, so nothing a datastore object
// contains is ever interpreted by one.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class CommandError extends Error {
  override readonly name: string = 'CommandError';
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number | undefined,
    readonly stderr: string,
    options?: { cause?: unknown },
  ) {
    super(`${argv.join(' ')} failed (exit ${exitCode ?? 'signal'}): ${stderr.trim().split('\n')[0] ?? ''}`, options);
  }
}

export interface RunResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a command to completion; never throws for a non-zero exit (callers decide what it means),
 * only when it cannot start or dies of a signal. `stdout`: a file descriptor to write it to
 * instead of collecting it.
 */
function exec(file: string, args: readonly string[], input?: string, stdout?: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: [input === undefined ? 'ignore' : 'pipe', stdout ?? 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    const out: string[] = [];
    const err: string[] = [];
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => out.push(chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => err.push(chunk));
    child.on('error', (error) => reject(new CommandError([file, ...args], undefined, error.message, { cause: error })));
    child.on('close', (code, signal) => {
      const stderr = err.join('');
      if (code === null) reject(new CommandError([file, ...args], undefined, stderr || `killed by ${signal ?? 'a signal'}`));
      else resolve({ exitCode: code, stdout: out.join(''), stderr });
    });
    if (input !== undefined) {
      // A command that exits before reading all of it (an unknown one, say) must not crash us with EPIPE.
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(input);
    }
  });
}

/** Runs a command to completion; never throws for a non-zero exit (callers decide what it means). */
export function run(file: string, args: readonly string[], input?: string): Promise<RunResult> {
  return exec(file, args, input);
}

/** Runs a command and throws a CommandError unless it exits 0. */
export async function runOk(file: string, args: readonly string[], input?: string): Promise<string> {
  const result = await run(file, args, input);
  if (result.exitCode !== 0) throw new CommandError([file, ...args], result.exitCode, result.stderr);
  return result.stdout;
}

/**
 * Runs a command whose output is large (100,000 routes as JSON is 6.5 MB) and returns its stdout.
 * The output goes to a file in memory rather than through a pipe: a pipe makes the command and
 * this process take turns 64 KB at a time, which costs more than the command itself.
 */
export async function runLarge(file: string, args: readonly string[]): Promise<string> {
  return (await runLargeBytes(file, args)).toString('utf8');
}

/** runLarge's output as bytes, outside the JS heap: for a caller that may not need the text at all. */
export async function runLargeBytes(file: string, args: readonly string[]): Promise<Buffer> {
  const result = await runBytes(file, args);
  if (result.exitCode !== 0) throw new CommandError([file, ...args], result.exitCode, result.stderr);
  return result.stdout;
}

/** Like run, with stdout as bytes (through a file in memory, as runLarge); never throws for a non-zero exit. */
export async function runBytes(file: string, args: readonly string[]): Promise<{ readonly exitCode: number; readonly stdout: Buffer; readonly stderr: string }> {
  const dir = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const path = join(dir, `wren-${process.pid}-${randomBytes(6).toString('hex')}`);
  const fd = openSync(path, 'w+', 0o600);
  try {
    const result = await exec(file, args, undefined, fd);
    return { exitCode: result.exitCode, stdout: readFileSync(path), stderr: result.stderr };
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
}

/** Whether a command exists on PATH (for clear "install iproute2" errors). */
export async function commandExists(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(file, ['--version'], { stdio: 'ignore', timeout: 5000 });
    // A command that cannot be started at all (ENOENT) fails with 'error'; one that hangs is killed.
    child.on('error', () => resolve(false));
    child.on('close', (code) => resolve(code !== null));
  });
}
