// Where the Kubernetes API is and how to authenticate to it. In a pod (the DaemonSet): the
// service account's token and CA, which client-node re-reads as the token rotates. Outside one
// (a developer's machine, the lab): a kubeconfig file, named or in $KUBECONFIG.
//
// client-node's loadFromDefault() is not used: with nothing configured it falls back to
// http://localhost:8080, and an agent quietly talking to whatever listens there is worse than
// one that refuses to start.
import { KubeConfig } from '@kubernetes/client-node';
import { delimiter } from 'node:path';
import { redactUrls } from '../../util/redact.js';

export function loadKubeConfig(source?: string | KubeConfig): KubeConfig {
  if (source instanceof KubeConfig) return checked(source, 'the given kubeconfig');
  const kc = new KubeConfig();
  // $KUBECONFIG may list several files (kubectl merges them); the first one is used.
  const path = source ?? process.env.KUBECONFIG?.split(delimiter).find((entry) => entry !== '');
  if (path !== undefined) {
    try {
      kc.loadFromFile(path);
    } catch (error) {
      // Without the cause: a YAML error's message quotes the lines around the fault, which in a
      // kubeconfig are tokens, passwords and keys.
      throw new Error(`cannot load kubeconfig ${path}: ${withoutExcerpt(error)}`);
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

/** js-yaml's reason and position (`bad indentation of a mapping entry (10:4)`), never its excerpt of the file. */
function withoutExcerpt(error: unknown): string {
  const { reason, mark } = error as { reason?: unknown; mark?: { line?: number; column?: number } };
  if (typeof reason === 'string') return mark?.line === undefined ? reason : `${reason} (line ${mark.line + 1}, column ${(mark.column ?? 0) + 1})`;
  return redactUrls(String((error as Error).message ?? error).split('\n')[0] ?? '');
}
