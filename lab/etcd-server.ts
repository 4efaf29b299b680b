// A single-member etcd for tests and `wren lab`: its own temp dir (data dir, log files), both
// listeners on one address, started through kernel/exec.ts. Everything that talks to it from
// here (health, revision, compaction) goes through `etcdctl` under the same launcher as etcd, so
// a launcher such as `ip netns exec lab-a` puts the server inside a network namespace and the
// harness still works even though this process has no route to that address. "Started" means
// `etcdctl endpoint health` passes and `ss` shows our pid on the client port: on a port someone
// else already holds, a health check alone would be answered by the other server.
//
// Ports: picked free on `host` when etcd runs in this namespace. Behind a launcher this process
// cannot see which ports are free where etcd runs, so they default to etcd's own 2379/2380
// (a fresh lab namespace has nothing else listening). The launcher must exec the command, as
// `ip netns exec` does, so that the pid we signal is etcd's own.
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run, runOk, spawn, type Spawned } from '../kernel/exec.js';
import { etcdctlAccess, etcdFlags, type EtcdServerTls } from './etcd-flags.js';
import { twoFreePorts } from './free-ports.js';

export type { EtcdServerTls } from './etcd-flags.js';

export interface EtcdServerOptions {
  /** Member name (`--name`); also prefixes the temp dir. */
  readonly name?: string;
  /** The one address both listeners bind to. Wildcards are refused: etcd has no auth here. */
  readonly host?: string;
  readonly clientPort?: number;
  readonly peerPort?: number;
  /** argv prefix that etcd and etcdctl run under, e.g. `['ip', 'netns', 'exec', 'lab-a']`. */
  readonly launcher?: readonly string[];
  /** Where the temp dir is made (default: the OS temp dir). */
  readonly parentDir?: string;
  readonly logLevel?: 'debug' | 'info' | 'warn' | 'error';
  readonly startTimeoutMs?: number;
  /** Use this directory (created if missing) instead of a fresh temp dir. */
  readonly dir?: string;
  /**
   * Also listen on a unix socket in the directory (`socketEndpoint`). The lab uses it: etcd lives
   * in the lab's underlay namespace, and a unix socket is reachable from any namespace.
   */
  readonly unixSocket?: boolean;
  /** Leave etcd running when this process exits (the lab's etcd outlives `wren lab up`). */
  readonly detached?: boolean;
  /**
   * Serve clients over TLS (https endpoint) with this certificate and key, and, with `clientCa`,
   * accept only clients whose certificate that CA signed (`--client-cert-auth`). etcdctl (health
   * checks, revision, compaction) then connects with `etcdctl`'s identity. PEM file paths.
   */
  readonly tls?: EtcdServerTls;
}

export interface EtcdServer {
  readonly name: string;
  /** Client URL, e.g. http://127.0.0.1:41234; unchanged across restarts. */
  readonly endpoint: string;
  /** `unix:///…/etcd.sock:1` when started with `unixSocket`. */
  readonly socketEndpoint: string | undefined;
  readonly peerUrl: string;
  /** The temp dir holding `data/`, `etcd.log` and `etcd.stderr`; removed by destroy(). */
  readonly dir: string;
  readonly dataDir: string;
  readonly logFile: string;
  /** etcd's pid while it runs. */
  readonly pid: number | undefined;
  /** How long the last (re)start took until etcd answered a health check. */
  readonly lastStartMs: number;
  /** SIGTERM, then SIGKILL if etcd has not exited within 10 s. Keeps the data dir. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash would: nothing is flushed, the data dir stays. */
  kill(): Promise<void>;
  /** Starts again on the same data dir and ports (stopping first if running). */
  restart(): Promise<void>;
  /** Runs etcdctl (API v3) against this server, under the launcher; returns stdout. */
  etcdctl(args: readonly string[]): Promise<string>;
  /** After `auth enable`: the `user:password` etcdctl (and the health check) signs in as from now on. */
  etcdctlSignsInAs(user: string): void;
  /** The store's current revision. */
  revision(): Promise<number>;
  /** Compacts (physically) to `revision`, default the current one; returns it. Older revisions are gone. */
  compact(revision?: number): Promise<number>;
  /** Kills etcd and removes the temp dir. Safe to call twice. */
  destroy(): Promise<void>;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '']);
const DEFAULT_PORTS = { client: 2379, peer: 2380 } as const;
const STOP_GRACE_MS = 10_000;
const POLL_MS = 25;

export async function startEtcdServer(options: EtcdServerOptions = {}): Promise<EtcdServer> {
  const host = options.host ?? '127.0.0.1';
  if (WILDCARDS.has(host)) throw new Error(`etcd: refusing to listen on wildcard address "${host}"; give one address`);
  const name = options.name ?? 'wren-etcd';
  const dir = options.dir ?? (await mkdtemp(join(options.parentDir ?? tmpdir(), `${name}-`)));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  try {
    const choosePorts = options.launcher === undefined && (options.clientPort === undefined || options.peerPort === undefined);
    // A free port can be taken by someone else before etcd binds it; only then is a retry right.
    for (let attempt = 1; ; attempt++) {
      const ports = await portsFor(host, options);
      const server = new EtcdProcess({ ...options, name, host, dir, ports });
      try {
        await server.launch();
        return server;
      } catch (error) {
        const portRace = choosePorts && attempt < 3 && (await server.logTail()).includes('address already in use');
        if (!portRace) throw error;
        await rm(server.dataDir, { recursive: true, force: true });
      }
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

interface ProcessConfig extends EtcdServerOptions {
  readonly name: string;
  readonly host: string;
  readonly dir: string;
  readonly ports: { readonly client: number; readonly peer: number };
}

class EtcdProcess implements EtcdServer {
  readonly name: string;
  readonly endpoint: string;
  readonly socketEndpoint: string | undefined;
  readonly peerUrl: string;
  readonly dir: string;
  readonly dataDir: string;
  readonly logFile: string;
  lastStartMs = 0;
  private etcdctlUser: string | undefined;
  private child: { spawned: Spawned; exited: Promise<unknown>; hasExited: boolean } | undefined;
  private destroyed = false;

  constructor(private readonly config: ProcessConfig) {
    const urlHost = config.host.includes(':') ? `[${config.host}]` : config.host;
    this.name = config.name;
    this.endpoint = `${config.tls === undefined ? 'http' : 'https'}://${urlHost}:${config.ports.client}`;
    this.peerUrl = `http://${urlHost}:${config.ports.peer}`;
    // etcd wants unix listeners as host:port; it makes the socket, named so, in its working dir.
    this.socketEndpoint = config.unixSocket === true ? `unix://${join(config.dir, 'etcd.sock:1')}` : undefined;
    this.dir = config.dir;
    this.dataDir = join(config.dir, 'data');
    this.logFile = join(config.dir, 'etcd.log');
  }

  get pid(): number | undefined {
    return this.child?.spawned.pid;
  }

  async launch(): Promise<void> {
    if (this.destroyed) throw new Error(`etcd ${this.name}: cannot start after destroy()`);
    await mkdir(this.dataDir, { recursive: true });
    // A killed etcd leaves its socket file behind, and etcd will not listen over it.
    if (this.config.unixSocket === true) await rm(join(this.dir, 'etcd.sock:1'), { force: true });
    const started = performance.now();
    const [file, ...args] = [...(this.config.launcher ?? []), 'etcd', ...this.flags()];
    // etcd's own log goes to etcd.log; stderr catches what is written before the logger exists.
    const spawned = spawn(file ?? 'etcd', args, { stdout: 'ignore', stderr: { file: join(this.dir, 'etcd.stderr') }, cwd: this.dir, detached: this.config.detached });
    const child = { spawned, exited: Promise.resolve(spawned.process), hasExited: false };
    void child.exited.then(() => (child.hasExited = true));
    this.child = child;
    const deadline = started + (this.config.startTimeoutMs ?? 20_000);
    while (!(await this.healthy(spawned.pid))) {
      if (child.hasExited || performance.now() > deadline) {
        const why = child.hasExited ? 'exited during start-up' : `not healthy (or another process holds the port) after ${this.config.startTimeoutMs ?? 20_000} ms`;
        await this.kill();
        throw new Error(`etcd ${this.name} on ${this.endpoint} ${why}; log tail:\n${await this.logTail()}`);
      }
      await sleep(POLL_MS);
    }
    this.lastStartMs = Math.round(performance.now() - started);
  }

  stop(): Promise<void> {
    return this.signal('SIGTERM', STOP_GRACE_MS);
  }

  kill(): Promise<void> {
    return this.signal('SIGKILL');
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  etcdctl(args: readonly string[]): Promise<string> {
    const [file, ...rest] = [...(this.config.launcher ?? []), 'etcdctl', `--endpoints=${this.endpoint}`, ...this.etcdctlAccess(), ...args];
    return runOk(file ?? 'etcdctl', rest);
  }

  etcdctlSignsInAs(user: string): void {
    this.etcdctlUser = user;
  }

  private etcdctlAccess(): string[] {
    return etcdctlAccess(this.config.tls, this.etcdctlUser);
  }

  async revision(): Promise<number> {
    const out = await this.etcdctl(['endpoint', 'status', '--write-out=json']);
    const revision: unknown = (JSON.parse(out) as [{ Status?: { header?: { revision?: unknown } } }?])[0]?.Status?.header?.revision;
    if (typeof revision !== 'number' || !Number.isSafeInteger(revision)) {
      throw new Error(`etcd ${this.name}: no revision in \`etcdctl endpoint status\` output: ${out.slice(0, 200)}`);
    }
    return revision;
  }

  async compact(revision?: number): Promise<number> {
    const target = revision ?? (await this.revision());
    // --physical waits until the old revisions are really gone, so a watch from one fails at once.
    await this.etcdctl(['compaction', '--physical', String(target)]);
    return target;
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
  }

  async logTail(): Promise<string> {
    const read = (file: string) => readFile(join(this.dir, file), 'utf8').catch(() => '');
    const text = `${await read('etcd.stderr')}${await read('etcd.log')}`;
    return text.split('\n').slice(-15).join('\n');
  }

  private flags(): string[] {
    const { name, ports, logLevel, tls } = this.config;
    return etcdFlags({ name, clientPort: ports.client, logLevel, tls, endpoint: this.endpoint, peerUrl: this.peerUrl, socketEndpoint: this.socketEndpoint, dataDir: this.dataDir, logFile: this.logFile });
  }

  /** Healthy, and answered by our process: another etcd already on the port would pass too. */
  private async healthy(pid: number | undefined): Promise<boolean> {
    const [file, ...args] = [...(this.config.launcher ?? []), 'etcdctl', `--endpoints=${this.endpoint}`, ...this.etcdctlAccess(), '--dial-timeout=200ms', '--command-timeout=500ms', 'endpoint', 'health'];
    if ((await run(file ?? 'etcdctl', args)).exitCode !== 0) return false;
    const [ssFile, ...ssArgs] = [...(this.config.launcher ?? []), 'ss', '-Hltnp', 'sport', '=', `:${this.config.ports.client}`];
    return (await run(ssFile ?? 'ss', ssArgs)).stdout.includes(`pid=${pid},`);
  }

  private async signal(signal: 'SIGTERM' | 'SIGKILL', graceMs?: number): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    child.spawned.process.kill(signal);
    if (graceMs !== undefined && (await Promise.race([child.exited.then(() => true), sleep(graceMs, false)])) === false) {
      child.spawned.process.kill('SIGKILL');
    }
    await child.exited;
    this.child = undefined;
  }
}

async function portsFor(host: string, options: EtcdServerOptions): Promise<{ client: number; peer: number }> {
  if (options.launcher !== undefined) {
    return { client: options.clientPort ?? DEFAULT_PORTS.client, peer: options.peerPort ?? DEFAULT_PORTS.peer };
  }
  const free = await twoFreePorts(host);
  return { client: options.clientPort ?? free.first, peer: options.peerPort ?? free.second };
}
