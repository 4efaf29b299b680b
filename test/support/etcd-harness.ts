// Real etcd servers for tests (lab/etcd-server.ts does the work): each one is destroyed (killed,
// temp dir removed) when the test or suite that started it ends, pass or fail, and a process-exit
// hook kills any that a crashed worker left, so `pgrep etcd` is empty after a run.
import { afterAll, beforeAll, onTestFinished } from 'vitest';
import { EtcdClient, type EtcdClientOptions } from '../../calico/etcd/etcd-client.js';
import { cleanUpOnExit } from './exit-cleanup.js';
import { startEtcdServer, type EtcdServer, type EtcdServerOptions } from '../../lab/etcd-server.js';

export type { EtcdServer } from '../../lab/etcd-server.js';

/** Each running server and the call that unregisters its exit clean-up. */
const live = new Map<EtcdServer, () => void>();

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
  const server = await startEtcdServer({ name: 'wren-test-etcd', ...options });
  live.set(server, cleanUpOnExit({ pids: () => [server.pid], dirs: () => [server.dir] }));
  return server;
}

async function release(server: EtcdServer): Promise<void> {
  live.get(server)?.();
  live.delete(server);
  await server.destroy();
}
