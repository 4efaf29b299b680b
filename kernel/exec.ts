// The one place wren starts processes. Always an argv array, never a shell, so nothing a
// datastore object contains is ever interpreted by one.
import { execa, type ResultPromise } from 'execa';

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

/** Runs a command and throws a CommandError unless it exits 0. */
export async function runOk(file: string, args: readonly string[], input?: string): Promise<string> {
  const result = await run(file, args, input);
  if (result.exitCode !== 0) throw new CommandError([file, ...args], result.exitCode, result.stderr);
  return result.stdout;
}

/** Whether a command exists on PATH (for clear "install iproute2" errors). */
export async function commandExists(file: string): Promise<boolean> {
  try {
    await execa(file, ['-V'], { reject: false });
    return true;
  } catch {
    return false;
  }
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
  const child = execa(file, args, {
    reject: false,
    stdin: options.stdin ?? 'ignore',
    stdout: options.stdout ?? 'pipe',
    stderr: options.stderr ?? 'pipe',
    env: options.env,
    buffer: false,
    cleanup: options.detached !== true,
    detached: options.detached === true,
    cwd: options.cwd,
  });
  if (options.detached === true) child.unref();
  return { pid: child.pid, process: child };
}
