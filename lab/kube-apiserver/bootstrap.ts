// What a lone API server lacks before wren can run against it, made the way the missing parts
// would make it: Calico's CRDs (Calico's install), wren's own namespace, ServiceAccount,
// ClusterRole and binding, read from daemonset/ as `kubectl apply -k daemonset/` would apply
// them (so the agents prove those grants are enough), a ServiceAccount token from the TokenRequest
// API (the kubelet's projected token; Debian's kubectl 1.20 has no `create token`), and the
// `default` ServiceAccount a Pod needs (the controller-manager's job).
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseAllDocuments } from 'yaml';
import type { KubeAdminApi } from './admin-api.js';
import { calicoCrds, CALICO_GROUP } from './calico-crds.js';
import { repoFile } from './repo-file.js';

/** daemonset/'s RBAC: the ServiceAccount the DaemonSet runs as and exactly what it is granted. */
const RBAC_FILES = ['namespace.yaml', 'serviceaccount.yaml', 'clusterrole.yaml', 'clusterrolebinding.yaml'];
export const WREN_SERVICE_ACCOUNT = { namespace: 'wren-system', name: 'wren' } as const;

type Json = Record<string, unknown>;

/** Installs Calico's CRDs and waits until every kind is served. */
export async function installCalicoCrds(admin: KubeAdminApi, timeoutMs = 30_000): Promise<void> {
  const crds = calicoCrds();
  for (const crd of crds) await admin.ensure('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
  const deadline = Date.now() + timeoutMs;
  for (const crd of crds) {
    const plural = ((crd.spec as Json).names as Json).plural as string;
    // Established is not yet served: the first list can still be a 404 for a moment.
    while ((await admin.raw('GET', `/apis/${CALICO_GROUP}/v1/${plural}?limit=1`)).status !== 200) {
      if (Date.now() > deadline) throw new Error(`CRD ${plural}.${CALICO_GROUP} is not served after ${timeoutMs} ms`);
      await sleep(50);
    }
  }
}

/** daemonset/'s namespace, ServiceAccount, ClusterRole and ClusterRoleBinding, as the manifests have them. */
export async function installWrenRbac(admin: KubeAdminApi): Promise<void> {
  for (const file of RBAC_FILES) {
    for (const doc of parseAllDocuments(await readFile(repoFile(`daemonset/${file}`), 'utf8'))) {
      const object = doc.toJS() as Json | null;
      if (object !== null) await admin.ensure(collectionOf(object), object);
    }
  }
}

/**
 * The `default` ServiceAccount of a namespace: the controller-manager makes it, and Pod admission
 * refuses a Pod without it. Its token controller would also make the token Secret that admission
 * mounts into every Pod ("No API token found for service account"); with none here, the account
 * opts out of the mount instead (the lab's pods run nothing that talks to the API).
 */
export async function createDefaultServiceAccount(admin: KubeAdminApi, namespace = 'default'): Promise<void> {
  const account = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace }, automountServiceAccountToken: false };
  await admin.ensure(`/api/v1/namespaces/${namespace}/serviceaccounts`, account);
}

/** A token of the ServiceAccount, as the kubelet asks for a pod's projected token. */
export async function serviceAccountToken(admin: KubeAdminApi, account: { namespace: string; name: string } = WREN_SERVICE_ACCOUNT, expirationSeconds = 7 * 24 * 3600): Promise<string> {
  const path = `/api/v1/namespaces/${account.namespace}/serviceaccounts/${account.name}/token`;
  const answer = await admin.call('POST', path, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds } });
  const token = (answer.status as Json | undefined)?.token;
  if (typeof token !== 'string' || token === '') throw new Error(`TokenRequest for ${account.namespace}/${account.name}: no token in the answer`);
  return token;
}

/** A kubeconfig for one identity on the server (the agents', kubectl's). */
export function kubeconfigYaml(options: { server: string; caPem: string; token: string; user: string }): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'wren-lab', cluster: { server: options.server, 'certificate-authority-data': Buffer.from(options.caPem).toString('base64') } }],
    users: [{ name: options.user, user: { token: options.token } }],
    contexts: [{ name: 'wren-lab', context: { cluster: 'wren-lab', user: options.user } }],
    'current-context': 'wren-lab',
  }, null, 2);
}

function collectionOf(object: Json): string {
  const { apiVersion, kind } = object as { apiVersion: string; kind: string };
  const namespace = (object.metadata as Json | undefined)?.namespace;
  const plural = `${kind.toLowerCase()}s`;
  const root = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  return typeof namespace === 'string' ? `${root}/namespaces/${namespace}/${plural}` : `${root}/${plural}`;
}
