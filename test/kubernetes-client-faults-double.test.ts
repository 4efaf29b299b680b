// The Kubernetes client where a real API server cannot answer: against the kube-api-double, the
// access list's refusals never reach the server (the double counts every request); against a
// listener that accepts and never answers, the request deadline; and with no server at all, the
// in-cluster configuration. Everything else the client does is tested on a real kube-apiserver
// (kube-apiserver-*.test.ts).
import { createServer, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KubeClient, KubernetesAccessError } from '../calico/kubernetes/kubernetes-client.js';
import { loadKubeConfig } from '../agent/datastore/kubernetes-config.js';
import { BLOCKAFFINITIES, IPAMHANDLES, IPPOOLS, NODES, PODS } from '../calico/kubernetes/kubernetes-resources.js';
import { kubeConfigFor, startKubeApiDouble, type KubeApiDouble } from './support/kube-api-double/index.js';

let double: KubeApiDouble;

beforeEach(async () => {
  double = await startKubeApiDouble();
});
afterEach(async () => {
  await double.close();
  vi.unstubAllEnvs();
});

describe('the access list (kube-api-double)', () => {
  it('refuses, before sending anything, every call KUBERNETES_ACCESS does not grant', async () => {
    const client = new KubeClient(kubeConfigFor(double));
    await expect(client.delete(NODES, 'node-a', { uid: 'u', resourceVersion: '1' })).rejects.toThrow(KubernetesAccessError);
    await expect(client.create(PODS, { metadata: { name: 'x' } })).rejects.toThrow(/create on pods is not in KUBERNETES_ACCESS/);
    await expect(client.list(IPAMHANDLES)).rejects.toThrow(/list on ipamhandles\.crd\.projectcalico\.org/);
    await expect(client.replace(IPPOOLS, 'default-ipv4-ippool', {})).rejects.toThrow(KubernetesAccessError);
    await expect(client.mergePatch(BLOCKAFFINITIES, 'x', {})).rejects.toThrow(KubernetesAccessError);
    expect(() => client.watch(IPAMHANDLES, { active: () => true, progress: () => undefined })).toThrow(KubernetesAccessError);
    const requests = Object.values(double.stats()).reduce((sum, s) => sum + s.list + s.watch + s.get + s.create + s.update + s.patch + s.delete, 0);
    expect(requests).toBe(0);
  });
});

describe('the client against a listener that never answers', () => {
  it('gives up on a server that accepts the connection and never answers', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const sockets: Socket[] = [];
    silent.on('connection', (socket) => sockets.push(socket));
    try {
      const port = (silent.address() as { port: number }).port;
      const client = new KubeClient(kubeConfigFor({ url: `http://127.0.0.1:${port}`, token: 't' }), { requestTimeoutMs: 100 });
      await expect(client.get(NODES, 'node-a')).rejects.toThrow(/^get nodes\/node-a: .*no answer within 100 ms/);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe('finding the API server in a pod', () => {
  it('uses the pod\'s service account in a cluster, and refuses to guess when there is nothing', () => {
    vi.stubEnv('KUBECONFIG', '');
    vi.stubEnv('KUBERNETES_SERVICE_HOST', 'fd00::1');
    vi.stubEnv('KUBERNETES_SERVICE_PORT', '443');
    const kc = loadKubeConfig();
    expect(kc.getCurrentCluster()).toMatchObject({ server: 'https://[fd00::1]:443', caFile: '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt' });
    expect(kc.getCurrentUser()?.authProvider).toMatchObject({ name: 'tokenFile', config: { tokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token' } });
    vi.stubEnv('KUBERNETES_SERVICE_HOST', '');
    expect(() => loadKubeConfig()).toThrow(/no Kubernetes API to talk to/);
    expect(() => loadKubeConfig('/nonexistent/wren/missing')).toThrow(/cannot load kubeconfig .*missing/);
  });
});
