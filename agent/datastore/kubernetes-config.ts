// Where the Kubernetes API is and how to authenticate to it. In a pod (the DaemonSet): the
// service account's token and CA, which client-node re-reads as the token rotates. Outside one
// (a developer's machine, the lab): a kubeconfig file, named or in $KUBECONFIG.
//
// client-node's loadFromDefault() is not used: with nothing configured it falls back to
// http://localhost:8080, and an agent quietly talking to whatever listens there is worse than
// one that refuses to start.
import { KubeConfig } from '@kubernetes/client-node';
import { delimiter } from 'node:path';

export function loadKubeConfig(source?: string | KubeConfig): KubeConfig {
  if (source instanceof KubeConfig) return checked(source, 'the given kubeconfig');
  const kc = new KubeConfig();
  // $KUBECONFIG may list several files (kubectl merges them); the first one is used.
  const path = source ?? process.env.KUBECONFIG?.split(delimiter).find((entry) => entry !== '');
  if (path !== undefined) {
    try {
      kc.loadFromFile(path);
    } catch (error) {
      throw new Error(`cannot load kubeconfig ${path}: ${(error as Error).message}`, { cause: error });
    }
    return checked(kc, `kubeconfig ${path}`);
  }
  if (process.env.KUBERNETES_SERVICE_HOST && process.env.KUBERNETES_SERVICE_PORT) {
    kc.loadFromCluster();
    return checked(kc, 'the in-cluster service account');
  }
  throw new Error('no Kubernetes API to talk to: give a kubeconfig file, set KUBECONFIG, or run in a pod (KUBERNETES_SERVICE_HOST is not set)');
}

function checked(kc: KubeConfig, what: string): KubeConfig {
  const server = kc.getCurrentCluster()?.server;
  if (server === undefined || server === '') throw new Error(`${what} names no current cluster with a server`);
  return kc;
}
