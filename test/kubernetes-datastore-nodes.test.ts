// Node registration through the Kubernetes datastore (annotations on the Node, tunnel addresses
// from Calico IPAM), the whole kubernetesDatastore() wiring, the access list the ClusterRole is
// generated from, and where the datastore finds the API (kubeconfig file, $KUBECONFIG, in-cluster).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { KubeClient, KubernetesAccessError } from '../agent/datastore/kubernetes-client.js';
import { loadKubeConfig } from '../agent/datastore/kubernetes-config.js';
import { kubernetesDatastore, type KubernetesDatastore } from '../agent/datastore/kubernetes-datastore.js';
import { KubernetesNodeWriter } from '../agent/datastore/kubernetes-node-writer.js';
import { BLOCKAFFINITIES, IPAMHANDLES, IPPOOLS, NODES, PODS } from '../agent/datastore/kubernetes-resources.js';
import { createKubernetesSource } from '../agent/datastore/kubernetes-source.js';
import { registerNode } from '../agent/registration.js';
import type { Cidr } from '../kernel/values.js';
import { derivedVtepMac } from '../tunnels/vtep-mac.js';
import { kubeConfigFor, kubeconfigYaml, startKubeApiDouble, type KubeApiDouble, type KubeObject } from './support/kube-api-double/index.js';
import { rawNode, rawPool } from './fixtures/raw-objects.js';

const quiet = pino({ level: 'silent' });
const fastBackoff = { initialMs: 20, maxMs: 160, jitter: 0 };
const ipv4 = '172.16.30.6/24' as Cidr;

let double: KubeApiDouble;
let opened: { close(): Promise<void> }[];
let dir: string;

beforeEach(async () => {
  double = await startKubeApiDouble();
  opened = [];
  dir = await mkdtemp(join(tmpdir(), 'wren-kdd-'));
});
afterEach(async () => {
  for (const thing of opened) await thing.close();
  await double.close();
  await rm(dir, { recursive: true, force: true });
  vi.unstubAllEnvs();
});

function datastore(): KubernetesDatastore {
  const ds = kubernetesDatastore({ nodeName: 'node-a', kubeconfig: kubeConfigFor(double), log: quiet, backoff: fastBackoff, watchTimeoutSeconds: 60 });
  opened.push(ds);
  return ds;
}

function seedNode(annotations: Record<string, string>): void {
  const node = rawNode({ ...annotations, 'node.alpha.kubernetes.io/ttl': '0' }, 'node-a');
  double.apply({ ...node, status: { ...(node.status as object), conditions: [{ type: 'Ready', status: 'True' }] } } as unknown as KubeObject);
}

const annotationsOf = (name: string) => double.get('Node', name)?.metadata.annotations;

describe('registration through the Kubernetes datastore', () => {
  it('writes Calico\'s annotations, removes the ones no pool calls for, and keeps everyone else\'s', async () => {
    seedNode({ 'projectcalico.org/IPv4IPIPTunnelAddr': '10.244.9.9' });
    double.apply(rawPool({ ipipMode: 'Never', vxlanMode: 'Always' }) as unknown as KubeObject);
    const ds = datastore();
    await expect.poll(() => ds.source.inSync()).toBe(true);
    const fields = await registerNode({ node: 'node-a', ipv4, pools: ds.source.snapshot().pools }, ds.ipam, ds.nodes);

    const tunnel = fields.ipv4VXLANTunnelAddr;
    expect(tunnel).toMatch(/^10\.244\./);
    expect(annotationsOf('node-a')).toEqual({
      'node.alpha.kubernetes.io/ttl': '0',
      'projectcalico.org/IPv4Address': '172.16.30.6/24',
      'projectcalico.org/IPv4VXLANTunnelAddr': tunnel,
      'projectcalico.org/VXLANTunnelMACAddr': derivedVtepMac('node-a', 4),
    });
    expect(double.get('Node', 'node-a')?.status).toMatchObject({ conditions: [{ type: 'Ready' }] });
    // The source sees the registration like any other node update.
    await expect.poll(() => ds.source.snapshot().nodes[0]?.vxlanTunnelAddr).toBe(tunnel);
    expect(await ds.nodes.read('node-a')).toEqual(ds.source.snapshot().nodes[0]);
  });

  it('is idempotent across a restart: the same tunnel address, no second allocation, no Node write', async () => {
    seedNode({});
    const pools = [{ name: 'default-ipv4-ippool', cidr: '10.244.0.0/16' as Cidr, blockSize: 26, ipipMode: 'Always' as const, vxlanMode: 'Never' as const, disabled: false }];
    const first = datastore();
    const before = await registerNode({ node: 'node-a', ipv4, pools }, first.ipam, first.nodes);
    await first.close();
    const nodeVersion = double.get('Node', 'node-a')?.metadata.resourceVersion;

    const second = datastore();
    const after = await registerNode({ node: 'node-a', ipv4, pools }, second.ipam, second.nodes);
    expect(after.ipv4IPIPTunnelAddr).toBe(before.ipv4IPIPTunnelAddr);
    const blocks = double.list('IPAMBlock');
    expect(blocks).toHaveLength(1);
    expect(((blocks[0]?.spec as { allocations: unknown[] }).allocations).filter((a) => a !== null)).toEqual([0]);
    expect((double.get('IPAMHandle', 'ipip-tunnel-addr-node-a')?.spec as { block: object }).block).toEqual({ [(blocks[0]?.spec as { cidr: string }).cidr]: 1 });
    expect(double.get('Node', 'node-a')?.metadata.resourceVersion).toBe(nodeVersion);
  });

  it('reads a missing Node as undefined and refuses to annotate one the kubelet has not created', async () => {
    const writer = new KubernetesNodeWriter(new KubeClient(kubeConfigFor(double)));
    expect(await writer.read('node-z')).toBeUndefined();
    await expect(writer.write('node-z', { ipv4Address: ipv4 })).rejects.toThrow(/Node node-z does not exist yet/);
    await writer.write('node-z', {}); // nothing to write: no request at all
    expect(double.stats().nodes).toMatchObject({ get: 1, patch: 1 });
  });
});

describe('the access list', () => {
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

describe('the client', () => {
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

  it('names the object and the API\'s reason when a call fails', async () => {
    const client = new KubeClient(kubeConfigFor({ url: double.url, token: 'wrong' }));
    await expect(client.get(NODES, 'node-a')).rejects.toMatchObject({ code: 401, reason: 'Unauthorized', message: expect.stringMatching(/^get nodes\/node-a: 401 Unauthorized: /) });
  });
});

describe('finding the API server', () => {
  it('loads a kubeconfig file given by path or by $KUBECONFIG, and a source syncs through it', async () => {
    const path = join(dir, 'kubeconfig');
    await writeFile(path, kubeconfigYaml(double));
    expect(loadKubeConfig(path).getCurrentCluster()?.server).toBe(double.url);
    vi.stubEnv('KUBECONFIG', `${path}:${join(dir, 'other')}`);
    const source = createKubernetesSource({ nodeName: 'node-a', log: quiet, backoff: fastBackoff, watchTimeoutSeconds: 60 });
    opened.push(source);
    await expect.poll(() => source.inSync()).toBe(true);
  });

  it('uses the pod\'s service account in a cluster, and refuses to guess when there is nothing', () => {
    vi.stubEnv('KUBECONFIG', '');
    vi.stubEnv('KUBERNETES_SERVICE_HOST', 'fd00::1');
    vi.stubEnv('KUBERNETES_SERVICE_PORT', '443');
    const kc = loadKubeConfig();
    expect(kc.getCurrentCluster()).toMatchObject({ server: 'https://[fd00::1]:443', caFile: '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt' });
    expect(kc.getCurrentUser()?.authProvider).toMatchObject({ name: 'tokenFile', config: { tokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token' } });
    vi.stubEnv('KUBERNETES_SERVICE_HOST', '');
    expect(() => loadKubeConfig()).toThrow(/no Kubernetes API to talk to/);
    expect(() => loadKubeConfig(join(dir, 'missing'))).toThrow(/cannot load kubeconfig .*missing/);
  });
});
