// A real kube-apiserver for tests, built from Debian's source by scripts/kube-apiserver.sh (the
// suite's global setup builds it once per machine; see global-setup.ts). One per test file, on
// 127.0.0.1 over its own etcd in a temp dir, with Calico's CRDs and wren's RBAC from daemonset/
// installed; both processes are killed and the dir removed in afterAll, also when a test fails,
// and by a process-exit hook when a worker dies.
import { KubeConfig } from '@kubernetes/client-node';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { KubeAdminApi } from '../../../lab/kube-apiserver/admin-api.js';
import { createDefaultServiceAccount, installCalicoCrds, installWrenRbac, serviceAccountToken } from '../../../lab/kube-apiserver/bootstrap.js';
import { cachedKubeApiServer } from '../../../lab/kube-apiserver/build.js';
import { makeKubePki, type KubePki } from '../../../lab/kube-apiserver/pki.js';
import { startKubeApiServer, type KubeApiServer } from '../../../lab/kube-apiserver/server.js';
import { startEtcdServer, type EtcdServer } from '../../../lab/etcd-server.js';
import { cleanUpOnExit } from '../exit-cleanup.js';
import { KubeObjects, POD_NAMESPACES } from './objects.js';

export { KubeObjects, collectionPath, type Json, type TestKind } from './objects.js';

/** The cached build, or undefined where it is not built (then the real-server tests are skipped). */
export const kubeApiServerBuild = process.env.WREN_KUBE_APISERVER === 'skip' ? undefined : await cachedKubeApiServer();

export interface RealKubeApi {
  readonly server: KubeApiServer;
  readonly etcd: EtcdServer;
  readonly admin: KubeAdminApi;
  readonly objects: KubeObjects;
  readonly pki: KubePki;
  /** A client-node KubeConfig for the given token (default: the admin's). */
  kubeConfig(token?: string): KubeConfig;
  /** A token of wren's ServiceAccount (daemonset/serviceaccount.yaml), bound only to daemonset/clusterrole.yaml. */
  wrenToken(): Promise<string>;
}

/** Starts the server in beforeAll and tears it down in afterAll; call in a describe block or at file level. */
export function useRealKubeApi(): () => RealKubeApi {
  let api: RealKubeApi | undefined;
  const parts: { server?: KubeApiServer; etcd?: EtcdServer; dir: string } = { dir: '' };
  let unregister: () => void = () => undefined;
  beforeAll(async () => {
    const build = kubeApiServerBuild;
    if (build === undefined) throw new Error('kube-apiserver is not built: run bash scripts/kube-apiserver.sh');
    parts.dir = await mkdtemp(join(tmpdir(), 'wren-kube-api-'));
    unregister = cleanUpOnExit({ pids: () => [parts.server?.pid, parts.etcd?.pid], dirs: () => [parts.dir] });
    parts.etcd = await startEtcdServer({ name: 'wren-kube-etcd', parentDir: parts.dir });
    const pki = await makeKubePki(parts.dir, ['127.0.0.1']);
    parts.server = await startKubeApiServer({ bin: build.apiserver, dir: parts.dir, host: '127.0.0.1', etcdEndpoint: parts.etcd.endpoint, pki });
    const { admin } = parts.server;
    await installCalicoCrds(admin);
    await installWrenRbac(admin);
    for (const namespace of POD_NAMESPACES) await createDefaultServiceAccount(admin, namespace);
    const server = parts.server;
    api = {
      server,
      etcd: parts.etcd,
      admin,
      objects: new KubeObjects(admin),
      pki,
      kubeConfig: (token = pki.adminToken) => kubeConfigFor(server.url, pki.caPem, token),
      wrenToken: () => serviceAccountToken(admin),
    };
  }, 90_000);
  afterAll(async () => {
    unregister();
    await parts.server?.kill();
    await parts.etcd?.destroy();
    if (parts.dir !== '') await rm(parts.dir, { recursive: true, force: true });
  });
  return () => {
    if (api === undefined) throw new Error('the real API server is not running: useRealKubeApi() must be called at file or describe level');
    return api;
  };
}

export function kubeConfigFor(server: string, caPem: string, token: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'real', server, caData: Buffer.from(caPem).toString('base64'), skipTLSVerify: false }],
    users: [{ name: 'user', token }],
    contexts: [{ name: 'real', cluster: 'real', user: 'user' }],
    currentContext: 'real',
  });
  return kc;
}
