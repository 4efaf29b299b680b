// Builds the configured datastore: a dump file, etcd v3, or the Kubernetes API.
import type { Logger } from 'pino';
import type { AgentConfig } from '../config.js';
import { SnapshotFileSource } from '../sources/snapshot-file-source.js';
import type { AllocationDetail } from '../../calico/objects/ipam-block.js';
import type { Datastore } from './datastore.js';

export type DatastoreSettings = Pick<AgentConfig, 'datastore' | 'snapshot' | 'etcdEndpoints' | 'etcdCaCertFile' | 'etcdCertFile' | 'etcdKeyFile' | 'etcdUsername' | 'etcdPassword' | 'kubeconfig' | 'nodeName'>;

export async function createDatastore(config: DatastoreSettings, log: Logger): Promise<Datastore> {
  // The IPAM allocations kept in full are this node's (a command without --node: every node's).
  const detail: AllocationDetail = config.nodeName === '' ? 'all' : { node: config.nodeName };
  switch (config.datastore) {
    case 'snapshot': {
      const source = new SnapshotFileSource(config.snapshot ?? '', log, detail);
      await source.start();
      return { source, invalidObjects: () => 0, problems: () => source.problems(), close: () => source.close() };
    }
    // Each client library is loaded only when it is used: an etcd node does not pay for the
    // Kubernetes client's start-up, nor the other way round.
    case 'etcdv3': {
      const [{ etcdDatastore }, { etcdUser, readEtcdTls }] = await Promise.all([import('./etcd-datastore.js'), import('./etcd-credentials.js')]);
      const user = etcdUser(config);
      return etcdDatastore({ endpoints: config.etcdEndpoints, tls: await readEtcdTls(config, config.etcdEndpoints), user, log, detail });
    }
    case 'kubernetes': {
      const { kubernetesDatastore } = await import('./kubernetes-datastore.js');
      const kube = kubernetesDatastore({ nodeName: config.nodeName, kubeconfig: config.kubeconfig, log });
      return { ...kube, invalidObjects: () => kube.source.invalidObjects, problems: () => kube.source.problems() };
    }
  }
}
