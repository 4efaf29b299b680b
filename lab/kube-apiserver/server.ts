// A lone kube-apiserver (built by scripts/kube-apiserver.sh) over an etcd it does not own: for
// tests on 127.0.0.1, and for `wren lab up --datastore kubernetes` in the lab's underlay
// namespace (the launcher `ip netns exec …` puts it there; it execs, so the pid is the server's).
// "Started" means /readyz answers "ok" to the admin token. RBAC is on, so everything but the
// admin needs a role; there is no controller-manager, scheduler or kubelet (bootstrap.ts does
// the little of their work a datastore needs).
import { mkdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn, type Spawned } from '../../kernel/exec.js';
import { KubeAdminApi, type KubeEndpoint } from './admin-api.js';
import type { KubePki } from './pki.js';

export interface KubeApiServerOptions {
  /** The kube-apiserver binary (kubeApiServerBuild().apiserver). */
  readonly bin: string;
  /** Holds its log; the PKI is usually made here too. */
  readonly dir: string;
  /** The one address it listens on and advertises. */
  readonly host: string;
  /** Default: a free port on `host` (only without a launcher); 6443 behind one. */
  readonly port?: number;
  readonly etcdEndpoint: string;
  readonly pki: KubePki;
  readonly launcher?: readonly string[];
  /** Leave it running when this process exits (the lab's server outlives `wren lab up`). */
  readonly detached?: boolean;
  /** Reach it through this unix socket (a forwarder into its namespace) rather than over TCP. */
  readonly socketPath?: string;
  readonly startTimeoutMs?: number;
}

export interface KubeApiServer {
  /** The admin's way in (system:masters). */
  readonly admin: KubeAdminApi;
  /** https://HOST:PORT */
  readonly url: string;
  readonly pid: number | undefined;
  readonly logFile: string;
  /** How long the last (re)start took until /readyz said ok. */
  readonly lastStartMs: number;
  /** SIGTERM, then SIGKILL after 10 s. The data stays in etcd. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
  /** Starts again on the same port, etcd and credentials (stopping first if running). */
  restart(): Promise<void>;
}

const SERVICE_CIDR = '10.96.0.0/12';
const STOP_GRACE_MS = 10_000;

export async function startKubeApiServer(options: KubeApiServerOptions): Promise<KubeApiServer> {
  await mkdir(options.dir, { recursive: true, mode: 0o700 });
  const port = options.port ?? (options.launcher === undefined ? await freePort(options.host) : 6443);
  const server = new KubeApiServerProcess(options, port);
  await server.launch();
  return server;
}

class KubeApiServerProcess implements KubeApiServer {
  readonly admin: KubeAdminApi;
  readonly url: string;
  readonly logFile: string;
  lastStartMs = 0;
  #child: { spawned: Spawned; exited: Promise<unknown>; hasExited: boolean } | undefined;

  constructor(private readonly options: KubeApiServerOptions, private readonly port: number) {
    this.url = `https://${options.host}:${port}`;
    this.logFile = join(options.dir, 'kube-apiserver.log');
    const endpoint: KubeEndpoint = { server: this.url, caPem: options.pki.caPem, token: options.pki.adminToken, socketPath: options.socketPath };
    this.admin = new KubeAdminApi(endpoint, 5000);
  }

  get pid(): number | undefined {
    return this.#child?.spawned.pid;
  }

  async launch(): Promise<void> {
    const started = performance.now();
    const [file, ...args] = [...(this.options.launcher ?? []), this.options.bin, ...this.flags()];
    const spawned = spawn(file ?? this.options.bin, args, { stdout: { file: this.logFile }, stderr: { file: this.logFile }, detached: this.options.detached });
    const child = { spawned, exited: Promise.resolve(spawned.process), hasExited: false };
    void child.exited.then(() => (child.hasExited = true));
    this.#child = child;
    const timeoutMs = this.options.startTimeoutMs ?? 60_000;
    while (!(await this.ready())) {
      if (child.hasExited || performance.now() - started > timeoutMs) {
        const why = child.hasExited ? 'exited during start-up' : `not ready after ${timeoutMs} ms`;
        await this.kill();
        throw new Error(`kube-apiserver on ${this.url} ${why}; log tail:\n${await this.logTail()}`);
      }
      await sleep(100);
    }
    this.lastStartMs = Math.round(performance.now() - started);
  }

  stop(): Promise<void> {
    return this.#signal('SIGTERM', STOP_GRACE_MS);
  }

  kill(): Promise<void> {
    return this.#signal('SIGKILL');
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  async logTail(): Promise<string> {
    const text = await readFile(this.logFile, 'utf8').catch(() => '');
    return text.split('\n').slice(-15).join('\n');
  }

  private async ready(): Promise<boolean> {
    const answer = await this.admin.raw('GET', '/readyz').catch(() => undefined);
    return answer?.status === 200 && answer.text.trim() === 'ok';
  }

  private flags(): string[] {
    const { host, etcdEndpoint, pki } = this.options;
    return [
      `--etcd-servers=${etcdEndpoint}`,
      `--bind-address=${host}`,
      `--advertise-address=${host}`,
      `--secure-port=${this.port}`,
      '--insecure-port=0',
      // No Endpoints object for the `kubernetes` Service: nothing here consumes it.
      '--endpoint-reconciler-type=none',
      `--tls-cert-file=${pki.certFile}`,
      `--tls-private-key-file=${pki.keyFile}`,
      `--token-auth-file=${pki.tokenFile}`,
      '--authorization-mode=RBAC',
      // As kubeadm sets it: calico-node's pods are privileged, and a dump of a cluster holds them.
      '--allow-privileged=true',
      `--service-account-key-file=${pki.serviceAccountPubFile}`,
      `--service-account-signing-key-file=${pki.serviceAccountKeyFile}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      `--cert-dir=${join(this.options.dir, 'certs')}`,
      '--profiling=false',
      '--v=0',
    ];
  }

  async #signal(signal: 'SIGTERM' | 'SIGKILL', graceMs?: number): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    child.spawned.process.kill(signal);
    if (graceMs !== undefined && (await Promise.race([child.exited.then(() => true), sleep(graceMs, false)])) === false) {
      child.spawned.process.kill('SIGKILL');
    }
    await child.exited;
    this.#child = undefined;
  }
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error) => reject(new Error(`kube-apiserver: cannot find a free port on ${host}: ${error.message}`)));
    probe.listen(0, host, () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
