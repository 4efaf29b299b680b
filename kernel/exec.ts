// The one place wren starts processes. Always an argv array, never a shell, so nothing a
// datastore object contains is ever interpreted by one.
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type Options, type ResultPromise } from 'execa';

export class CommandError extends Error {
  override readonly name = 'CommandError';
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

/** Runs a command to completion; never throws for a non-zero exit (callers decide what it means). */
export async function run(file: string, args: readonly string[], input?: string): Promise<RunResult> {
  const result = await execa(file, args, {
    input,
    reject: false,
    stripFinalNewline: false,
    maxBuffer: 1024 * 1024 * 1024,
    env: { LC_ALL: 'C' },
  });
  if (result.failed && result.exitCode === undefined) {
    throw new CommandError([file, ...args], undefined, result.stderr || String(result.cause ?? result.message), {
      cause: result.cause,
    });
  }
  return { exitCode: result.exitCode ?? 0, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Runs a command whose output is large (100,000 routes as JSON is 6.5 MB) and returns its stdout.
 * The output goes to a file in memory rather than through a pipe: a pipe makes the command and
 * this process take turns 64 KB at a time, which costs more than the command itself.
 */
export async function runLarge(file: string, args: readonly string[]): Promise<string> {
  return withOutputFile(file, args, (path) => readFileSync(path, 'utf8'));
}

async function withOutputFile<T>(file: string, args: readonly string[], use: (path: string) => T): Promise<T> {
  const dir = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const path = join(dir, `wren-${process.pid}-${randomBytes(6).toString('hex')}`);
  const fd = openSync(path, 'w+', 0o600);
  try {
    const result = await execa(file, args, { reject: false, stdin: 'ignore', stdout: fd as unknown as Options['stdout'], env: { LC_ALL: 'C' } });
    if (result.exitCode !== 0) throw new CommandError([file, ...args], result.exitCode, String(result.stderr ?? ''));
    return use(path);
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
}

/** Runs a command and throws a CommandError unless it exits 0. */
export async function runOk(file: string, args: readonly string[], input?: string): Promise<string> {
  const result = await run(file, args, input);
  if (result.exitCode !== 0) throw new CommandError([file, ...args], result.exitCode, result.stderr);
  return result.stdout;
}

/** Whether a command exists on PATH (for clear "install iproute2" errors). */
export async function commandExists(file: string): Promise<boolean> {
  const result = await execa(file, ['--version'], { reject: false, timeout: 5000 });
  // A command that cannot be started at all (ENOENT) has no exit code.
  return result.exitCode !== undefined;
}

export interface Spawned {
  readonly pid: number | undefined;
  readonly process: ResultPromise;
}

/** Starts a long-running process (etcd, `ip monitor`, an agent in the lab). */
export function spawn(
  file: string,
  args: readonly string[],
  options: {
    stdin?: 'pipe' | 'ignore' | 'inherit';
    stdout?: 'pipe' | 'ignore' | 'inherit' | { file: string };
    stderr?: 'pipe' | 'ignore' | 'inherit' | { file: string };
    env?: Record<string, string>;
    /** Its own process group, not ended with this process: a daemon the lab leaves running. */
    detached?: boolean;
    cwd?: string;
  } = {},
): Spawned {
  // A file target is opened here and handed over as a descriptor: given a path, execa pipes the
  // output through this process, and a daemon (detached) would lose its output — and die of
  // EPIPE on its next write — once this process exits.
  const opened = new Map<string, number>();
  const target = (t: 'pipe' | 'ignore' | 'inherit' | { file: string } | undefined) => {
    if (t === undefined || typeof t === 'string') return t ?? 'pipe';
    const fd = opened.get(t.file) ?? openSync(t.file, 'a', 0o600);
    opened.set(t.file, fd);
    return fd;
  };
  // execa passes a file descriptor straight to the child; its type declarations omit numbers.
  const stdout = target(options.stdout) as Options['stdout'];
  const stderr = target(options.stderr) as Options['stderr'];
  const settings: Options = {
    reject: false,
    stdin: options.stdin ?? 'ignore',
    stdout,
    stderr,
    env: options.env,
    buffer: false,
    cleanup: options.detached !== true,
    detached: options.detached === true,
    cwd: options.cwd,
  };
  const child = execa(file, args, settings);
  for (const fd of opened.values()) closeSync(fd);
  if (options.detached === true) child.unref();
  return { pid: child.pid, process: child };
}
