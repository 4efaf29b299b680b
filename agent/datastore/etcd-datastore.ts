// etcd mode, wired: the cluster source, Calico's IPAM and node registration, over one client.
import type { Logger } from 'pino';
import { IpamAllocator } from '../ipam/allocator.js';
import type { Datastore } from './datastore.js';
import { EtcdClient } from './etcd-client.js';
import { EtcdIpamStore } from './etcd-ipam-store.js';
import { EtcdNodeWriter } from './etcd-node-writer.js';
import { EtcdSource } from './etcd-source.js';

export async function etcdDatastore(options: { endpoints: readonly string[]; log: Logger }): Promise<Datastore> {
  const client = new EtcdClient({ endpoints: options.endpoints });
  const source = new EtcdSource(client, options.log);
  await source.start();
  return {
    source,
    ipam: new IpamAllocator(new EtcdIpamStore(client)),
    nodes: new EtcdNodeWriter(client),
    invalidObjects: () => source.store.invalidCount,
    problems: () => source.store.problems(),
    close: async () => {
      await source.close();
      client.close();
    },
  };
}
