// etcd mode, wired: the cluster source, Calico's IPAM and node registration, over one client.
import type { AllocationDetail } from '../../calico/objects/ipam-block.js';
import type { Logger } from 'pino';
import { IpamAllocator } from '../../calico/ipam/allocator.js';
import type { Datastore } from './datastore.js';
import { EtcdClient, type EtcdTls, type EtcdUser } from '../../calico/etcd/etcd-client.js';
import { EtcdIpamStore } from '../../calico/etcd/etcd-ipam-store.js';
import { EtcdNodeWriter } from '../../calico/etcd/etcd-node-writer.js';
import { EtcdSource } from './etcd-source.js';

export function etcdDatastore(options: { endpoints: readonly string[]; tls: EtcdTls | undefined; user: EtcdUser | undefined; log: Logger; detail?: AllocationDetail }): Datastore {
  const client = new EtcdClient({ endpoints: options.endpoints, tls: options.tls, user: options.user });
  const source = new EtcdSource(client, options.log, options.detail);
  // Not awaited: the first listing waits for etcd (retrying with backoff), and meanwhile the agent
  // answers /healthz and says on /readyz that the datastore is not in sync, rather than refusing
  // connections — which a liveness probe would take for a dead agent and restart it for.
  const starting = new AbortController();
  const started = source.start(starting.signal).catch((error: unknown) => {
    if (!starting.signal.aborted) options.log.error({ err: error }, 'etcd source stopped');
  });
  return {
    source,
    ipam: new IpamAllocator(new EtcdIpamStore(client)),
    nodes: new EtcdNodeWriter(client),
    invalidObjects: () => source.store.invalidCount,
    problems: () => source.store.problems(),
    close: async () => {
      starting.abort();
      await source.close();
      client.close(); // ends a listing still waiting for etcd
      await started;
    },
  };
}
