// Real etcd servers for tests (lab/etcd-server.ts does the work): each one is destroyed (killed,
// temp dir removed) when the test or suite that started it ends, pass or fail, and a process-exit
// hook kills any that a crashed worker left, so `pgrep etcd` is empty after a run.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, onTestFinished } from 'vitest';
import { EtcdClient, type EtcdClientOptions } from '../../calico/etcd/etcd-client.js';
import { startEtcdServer, type EtcdServer, type EtcdServerOptions } from '../../lab/etcd-server.js';

export type { EtcdServer } from '../../lab/etcd-server.js';

const live = new Set<EtcdServer>();

/** Starts an etcd that is destroyed when the current test finishes. Call inside a test. */
export async function startTestEtcd(options: EtcdServerOptions = {}): Promise<EtcdServer> {
  // Registered before starting: outside a test this throws before anything is running.
  const started: { server?: EtcdServer } = {};
  onTestFinished(async () => {
    if (started.server !== undefined) await release(started.server);
  });
  started.server = await startTracked(options);
  return started.server;
}

/** One etcd for a whole describe block: started in beforeAll, destroyed in afterAll. */
export function useSuiteEtcd(options: EtcdServerOptions = {}): () => EtcdServer {
  let server: EtcdServer | undefined;
  beforeAll(async () => {
    server = await startTracked(options);
  });
  afterAll(async () => {
    if (server !== undefined) await release(server);
  });
  return () => {
    if (server === undefined) throw new Error('suite etcd is not running: useSuiteEtcd() must be called in a describe block');
    return server;
  };
}

/** An EtcdClient closed when the current test finishes. */
export function testClient(endpoints: string, options: Omit<EtcdClientOptions, 'endpoints'> = {}): EtcdClient {
  const client = new EtcdClient({ endpoints, ...options });
  onTestFinished(() => client.close());
  return client;
}

async function startTracked(options: EtcdServerOptions): Promise<EtcdServer> {
  installExitHook();
  const server = await startEtcdServer({ name: 'wren-test-etcd', ...options });
  live.add(server);
  return server;
}

async function release(server: EtcdServer): Promise<void> {
  live.delete(server);
  await server.destroy();
}

let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous: signal and remove, without waiting.
  process.on('exit', () => {
    for (const server of live) {
      if (server.pid !== undefined) {
        try {
          process.kill(server.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      rmSync(server.dir, { recursive: true, force: true });
    }
  });
}
