// BIRD 2 as the agent runs it: one daemon per node, in the node's network namespace, with a
// directory of its own holding its configuration, control socket, pid file and log.
//
// `takeOverOrStart` first asks the socket: a BIRD that answers there (left by an agent that was
// killed, even with -9) is taken over — given the new configuration — rather than a second one
// started, so its sessions never drop. Otherwise a new BIRD starts, detached (its own process
// group: it outlives the agent), in the foreground of its own process (`-f`: the pid is BIRD's,
// its log goes to a file). When a BIRD ran in this directory before (its configuration is still
// there: a crash, a killed container), the new one starts with `-R`, announcing itself as
// restarting (BGP graceful restart): peers that kept its routes as stale keep them until it has
// sent them again. A first start goes without: a restarting BIRD holds its exports back until its
// peers converge (up to `graceful restart wait`), which a node's first routes need not wait for.
//
// The configuration is written atomically (a temporary file renamed over the old one) and loaded
// with `configure "<file>"`: the sessions stay up, the static routes change in place.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { spawn } from '../exec.js';
import { BirdCommandError, BirdUnreachableError, birdCommand, type ReplyLine } from './bird-socket.js';
import { parseBgpProtocols, type BgpSessionState } from './protocols.js';

export const BIRD_BIN = '/usr/sbin/bird';

export interface BirdPaths {
  readonly dir: string;
  readonly config: string;
  readonly socket: string;
  readonly pidFile: string;
  readonly log: string;
}

/** A unix socket path holds at most 107 bytes (sun_path); paths reach a BIRD command quoted. */
const MAX_SOCKET_PATH = 107;
const SAFE_PATH = /^\/[A-Za-z0-9_./-]+$/;

export function birdPaths(dir: string): BirdPaths {
  if (!SAFE_PATH.test(dir) || dir.split('/').includes('..')) throw new RangeError(`BIRD directory ${JSON.stringify(dir)}: an absolute path of letters, digits and _ . - / only`);
  const paths = { dir, config: join(dir, 'bird.conf'), socket: join(dir, 'bird.ctl'), pidFile: join(dir, 'bird.pid'), log: join(dir, 'bird.log') };
  if (Buffer.byteLength(paths.socket) > MAX_SOCKET_PATH) throw new RangeError(`BIRD directory ${dir}: its control socket path is longer than ${MAX_SOCKET_PATH} bytes`);
  return paths;
}

/** Taken over from a running BIRD, started after one that died (graceful restart), or started afresh. */
export type StartedHow = 'took-over' | 'restarted' | 'started';

/** How `shutdown` ends BIRD: `withdraw` tells every peer (Cease), `graceful` leaves its routes at the peers. */
export type ShutdownMode = 'withdraw' | 'graceful';

export class BirdDaemon {
  private constructor(readonly paths: BirdPaths, readonly pid: number | undefined) {}

  /** The BIRD answering on the directory's socket, given `config`; else a new one started with it. */
  static async takeOverOrStart(paths: BirdPaths, config: string, options: { netns?: string; startTimeoutMs?: number } = {}): Promise<{ bird: BirdDaemon; how: StartedHow }> {
    await mkdir(paths.dir, { recursive: true, mode: 0o700 });
    if (await answers(paths.socket)) {
      const bird = new BirdDaemon(paths, await pidOf(paths));
      await bird.configure(config);
      return { bird, how: 'took-over' };
    }
    // A socket file nobody answers on is left from a BIRD that died: BIRD binds anew.
    await rm(paths.socket, { force: true });
    const restart = await exists(paths.config);
    await writeAtomically(paths.config, config);
    const args = ['-f', ...(restart ? ['-R'] : []), '-c', paths.config, '-s', paths.socket, '-P', paths.pidFile];
    const [file, argv] = options.netns === undefined ? [BIRD_BIN, args] : ['ip', ['netns', 'exec', options.netns, BIRD_BIN, ...args]];
    const child = spawn(file, argv, { detached: true, stdout: 'ignore', stderr: { file: paths.log } });
    const exited = child.process.then((r) => r.exitCode ?? r.signal ?? 'gone');
    const deadline = Date.now() + (options.startTimeoutMs ?? 5000);
    for (;;) {
      if (await answers(paths.socket)) return { bird: new BirdDaemon(paths, child.pid), how: restart ? 'restarted' : 'started' };
      const ended = await Promise.race([exited, new Promise((r) => setTimeout(() => r(undefined), 20))]);
      if (ended !== undefined || Date.now() > deadline) {
        if (ended === undefined && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
        throw new BirdStartError(paths, ended === undefined ? 'did not answer in time' : `exited (${String(ended)})`, await logTail(paths.log));
      }
    }
  }

  /** The BIRD answering on the directory's socket, if one does, its configuration untouched. */
  static async find(paths: BirdPaths): Promise<BirdDaemon | undefined> {
    return (await answers(paths.socket)) ? new BirdDaemon(paths, await pidOf(paths)) : undefined;
  }

  /** Writes the configuration and has BIRD load it; returns how long BIRD took to. */
  async configure(config: string): Promise<{ ms: number }> {
    await writeAtomically(this.paths.config, config);
    const started = performance.now();
    await this.command(`configure "${this.paths.config}"`);
    return { ms: performance.now() - started };
  }

  async sessions(): Promise<BgpSessionState[]> {
    return parseBgpProtocols(await this.command('show protocols all'));
  }

  /**
   * Ends BIRD. `withdraw` (`down`): every session is closed with a Cease, and peers drop the
   * node's routes at once — for a node leaving. `graceful` (`graceful restart`): sessions are
   * dropped without a word, and peers keep the routes for the restart time — for a restart.
   */
  async shutdown(mode: ShutdownMode): Promise<void> {
    try {
      await this.command(mode === 'withdraw' ? 'down' : 'graceful restart');
    } catch (error) {
      // BIRD closes the socket as it goes down, sometimes before its reply's last line.
      if (!(error instanceof BirdCommandError || error instanceof BirdUnreachableError)) throw error;
    }
    // After a withdrawal no peer holds the node's routes: the next BIRD here starts afresh, not restarting.
    if (mode === 'withdraw') await rm(this.paths.config, { force: true });
  }

  command(line: string): Promise<ReplyLine[]> {
    return birdCommand(this.paths.socket, line);
  }
}

export class BirdStartError extends Error {
  override readonly name = 'BirdStartError';
  constructor(readonly paths: BirdPaths, reason: string, readonly logTail: string) {
    super(`BIRD in ${paths.dir} ${reason}${logTail === '' ? '' : `: ${logTail}`}`);
  }
}

/** Whether a BIRD answers on `socket` now. */
export async function answers(socket: string): Promise<boolean> {
  try {
    await birdCommand(socket, 'show status', 2000);
    return true;
  } catch (error) {
    if (error instanceof BirdUnreachableError) return false;
    throw error;
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

async function pidOf(paths: BirdPaths): Promise<number | undefined> {
  const text = await readFile(paths.pidFile, 'utf8').catch(() => '');
  return /^[1-9][0-9]*\s*$/.test(text) ? Number(text) : undefined;
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const temporary = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temporary, text, { mode: 0o600, flag: 'wx' });
  try {
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

async function logTail(path: string): Promise<string> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.trim().split('\n').slice(-3).join('; ').replace(/[^\x20-\x7e]/g, '?').slice(0, 400);
}
