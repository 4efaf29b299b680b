// Where wren starts processes: long-running ones here (etcd, `ip monitor`, agents in the lab, the
// agent's persistent batches), on execa; commands run to completion in command.ts, re-exported.
// Always an argv array, never a shell, so nothing a datastore object contains is ever
// interpreted by one.
import { closeSync, openSync } from 'node:fs';
import { execa, type Options, type ResultPromise } from 'execa';

export { CommandError, commandExists, run, runLarge, runOk, type RunResult } from './command.js';

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

/**
 * For a process that should run until stopped (a monitor): `onExit` with why, when it ends by
 * itself; the returned stop ends it (SIGTERM) without calling `onExit`.
 */
export function untilStopped(child: Spawned, name: string, onExit: (reason: string) => void, detail: () => string = () => ''): () => void {
  let stopping = false;
  child.process.then(
    (result) => {
      if (!stopping) onExit(`${name} exited (${result.exitCode ?? result.signal ?? 'unknown'})${detail()}`);
    },
    (error: unknown) => {
      if (!stopping) onExit(`${name} failed: ${(error as Error).message}`);
    },
  );
  return () => {
    stopping = true;
    child.process.kill('SIGTERM');
  };
}
