// Builds the configured datastore: a dump file, etcd v3, or the Kubernetes API.
import type { Logger } from 'pino';
import type { AgentConfig } from '../config.js';
import { SnapshotFileSource } from '../sources/snapshot-file-source.js';
import type { Datastore } from './datastore.js';
import { etcdDatastore } from './etcd-datastore.js';
import { kubernetesDatastore } from './kubernetes-datastore.js';

export type DatastoreSettings = Pick<AgentConfig, 'datastore' | 'snapshot' | 'etcdEndpoints' | 'kubeconfig' | 'nodeName'>;

export async function createDatastore(config: DatastoreSettings, log: Logger): Promise<Datastore> {
  switch (config.datastore) {
    case 'snapshot': {
      const source = new SnapshotFileSource(config.snapshot ?? '', log);
      await source.start();
      return { source, invalidObjects: () => 0, problems: () => [], close: () => source.close() };
    }
    case 'etcdv3':
      return etcdDatastore({ endpoints: config.etcdEndpoints, log });
    case 'kubernetes': {
      const kube = kubernetesDatastore({ nodeName: config.nodeName, kubeconfig: config.kubeconfig, log });
      return { ...kube, invalidObjects: () => kube.source.invalidObjects, problems: () => kube.source.problems() };
    }
  }
}
