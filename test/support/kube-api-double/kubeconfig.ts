// A kubeconfig for the double, for KubeConfig.loadFromString / loadFromOptions. client-node 1.4
// refuses an http:// server unless insecure-skip-tls-verify is true ("HTTP protocol is not allowed
// when skipTLSVerify is not set or false"), so the cluster entry sets it.
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';

export interface KubeconfigTarget {
  readonly url: string;
  readonly token: string | undefined;
}

export interface KubeconfigDocument {
  apiVersion: 'v1';
  kind: 'Config';
  clusters: { name: string; cluster: { server: string; 'insecure-skip-tls-verify': true } }[];
  users: { name: string; user: { token?: string } }[];
  contexts: { name: string; context: { cluster: string; user: string; namespace: string } }[];
  'current-context': string;
}

const NAME = 'kube-api-double';

export function kubeconfigDocument(target: KubeconfigTarget, namespace = 'default'): KubeconfigDocument {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: NAME, cluster: { server: target.url, 'insecure-skip-tls-verify': true } }],
    users: [{ name: NAME, user: target.token === undefined ? {} : { token: target.token } }],
    contexts: [{ name: NAME, context: { cluster: NAME, user: NAME, namespace } }],
    'current-context': NAME,
  };
}

export const kubeconfigYaml = (target: KubeconfigTarget, namespace = 'default') => stringify(kubeconfigDocument(target, namespace));

/** A client-node KubeConfig loaded (through loadFromString, as from a file) for the double. */
export function kubeConfigFor(target: KubeconfigTarget, namespace = 'default'): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfigYaml(target, namespace));
  return kc;
}
