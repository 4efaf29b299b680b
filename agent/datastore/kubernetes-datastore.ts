// Everything the agent takes from a Kubernetes datastore, over one client: the cluster source
// for routing, Calico-compatible IPAM for the node's tunnel addresses, and the Node annotations
// registration writes.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { BackoffOptions } from '../../util/backoff.js';
import { IpamAllocator } from '../../calico/ipam/allocator.js';
import type { NodeWriter } from '../../calico/node-writer.js';
import { KubeClient } from '../../calico/kubernetes/kubernetes-client.js';
import { loadKubeConfig } from './kubernetes-config.js';
import { KubernetesIpamStore } from '../../calico/kubernetes/kubernetes-ipam-store.js';
import { KubernetesNodeWriter } from '../../calico/kubernetes/kubernetes-node-writer.js';
import { KubernetesSource } from './kubernetes-source.js';

export interface KubernetesDatastoreOptions {
  readonly nodeName: string;
  /** A kubeconfig file, or one already loaded; default $KUBECONFIG, else the pod's service account. */
  readonly kubeconfig?: string | KubeConfig;
  readonly log: Logger;
  readonly backoff?: BackoffOptions;
  readonly watchTimeoutSeconds?: number;
  readonly requestTimeoutMs?: number;
  /** Calico's IPAMConfig strictAffinity: never borrow from another node's block. Default false, as Calico's. */
  readonly strictAffinity?: boolean;
}

export interface KubernetesDatastore {
  readonly source: KubernetesSource;
  readonly ipam: IpamAllocator;
  readonly nodes: NodeWriter;
  close(): Promise<void>;
}

/** Connects and starts the source's informers; the source reports inSync() once all have listed. */
export function kubernetesDatastore(options: KubernetesDatastoreOptions): KubernetesDatastore {
  const client = new KubeClient(loadKubeConfig(options.kubeconfig), { requestTimeoutMs: options.requestTimeoutMs });
  const source = new KubernetesSource({
    client,
    nodeName: options.nodeName,
    log: options.log.child({ component: 'kubernetes' }),
    backoff: options.backoff,
    watchTimeoutSeconds: options.watchTimeoutSeconds,
  });
  source.start();
  return {
    source,
    ipam: new IpamAllocator(new KubernetesIpamStore(client), { strictAffinity: options.strictAffinity }),
    nodes: new KubernetesNodeWriter(client),
    close: () => source.close(),
  };
}
