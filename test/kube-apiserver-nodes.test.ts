// Node registration through the Kubernetes datastore on a real kube-apiserver: Calico's
// annotations on the Node (written with a merge patch, so the kubelet's own writes never race
// them), tunnel addresses from Calico IPAM, idempotent across a restart; two writers at once (two
// agents registering, the kubelet rewriting a stale copy of the Node); the whole
// kubernetesDatastore() wiring; and where the datastore finds the API (a kubeconfig file, given or
// in $KUBECONFIG).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { KubeClient } from '../calico/kubernetes/kubernetes-client.js';
import { loadKubeConfig } from '../agent/datastore/kubernetes-config.js';
import { kubernetesDatastore, type KubernetesDatastore } from '../agent/datastore/kubernetes-datastore.js';
import { KubernetesNodeWriter } from '../calico/kubernetes/kubernetes-node-writer.js';
import { NODES } from '../calico/kubernetes/kubernetes-resources.js';
import { createKubernetesSource } from '../agent/datastore/kubernetes-source.js';
import { registerNode } from '../agent/registration.js';
import type { Cidr } from '../kernel/values.js';
import { kubeconfigYaml } from '../lab/kube-apiserver/bootstrap.js';
import { derivedVtepMac } from '../tunnels/vtep-mac.js';
import { kubeApiServerBuild, useRealKubeApi, type Json } from './support/real-kube-api/index.js';
import { rawNode, rawPool } from './fixtures/raw-objects.js';

const quiet = pino({ level: 'silent' });
const fastBackoff = { initialMs: 20, maxMs: 160, jitter: 0 };
const ipv4 = (host: number) => `172.16.30.${host}/24` as Cidr;
const POOLS = [{ name: 'default-ipv4-ippool', cidr: '10.244.0.0/16' as Cidr, blockSize: 26, ipipMode: 'Always' as const, vxlanMode: 'Never' as const, disabled: false }];

describe.skipIf(kubeApiServerBuild === undefined)('registration on a real API server', () => {
  const api = useRealKubeApi();
  let opened: { close(): Promise<void> }[] = [];
  let dir: string;

  beforeEach(async () => {
    await api().objects.clear();
    dir = await mkdtemp(join(tmpdir(), 'wren-kdd-'));
  });
  afterEach(async () => {
    for (const thing of opened) await thing.close();
    opened = [];
    await rm(dir, { recursive: true, force: true });
    vi.unstubAllEnvs();
  });

  function datastore(node = 'node-a'): KubernetesDatastore {
    const ds = kubernetesDatastore({ nodeName: node, kubeconfig: api().kubeConfig(), log: quiet, backoff: fastBackoff, watchTimeoutSeconds: 60 });
    opened.push(ds);
    return ds;
  }

  /** A Node as the kubelet registers it: labels, its status addresses and a Ready condition. */
  const kubeletNode = (name: string, annotations: Record<string, string> = {}) => {
    const node = rawNode({ ...annotations, 'node.alpha.kubernetes.io/ttl': '0' }, name);
    return api().objects.put({ ...node, status: { ...(node.status as Json), conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: '2025-01-10T09:00:00Z', lastTransitionTime: '2025-01-10T09:00:00Z' }] } });
  };
  const annotationsOf = async (name: string) => ((await api().objects.get('Node', name))?.metadata as Json).annotations as Record<string, string> | undefined;

  it('writes Calico\'s annotations, removes the ones no pool calls for, and keeps everyone else\'s and the status', async () => {
    await kubeletNode('node-a', { 'projectcalico.org/IPv4IPIPTunnelAddr': '10.244.9.9' });
    await api().objects.put(rawPool({ ipipMode: 'Never', vxlanMode: 'Always' }));
    const ds = datastore();
    await expect.poll(() => ds.source.inSync()).toBe(true);
    const fields = await registerNode({ node: 'node-a', ipv4: ipv4(6), pools: ds.source.snapshot().pools }, ds.ipam, ds.nodes);

    const tunnel = fields.ipv4VXLANTunnelAddr;
    expect(tunnel).toMatch(/^10\.244\./);
    expect(await annotationsOf('node-a')).toEqual({
      'node.alpha.kubernetes.io/ttl': '0',
      'projectcalico.org/IPv4Address': '172.16.30.6/24',
      'projectcalico.org/IPv4VXLANTunnelAddr': tunnel,
      'projectcalico.org/VXLANTunnelMACAddr': derivedVtepMac('node-a', 4),
    });
    expect((await api().objects.get('Node', 'node-a'))?.status).toMatchObject({ conditions: [{ type: 'Ready' }], addresses: [{ type: 'InternalIP' }] });
    // The source sees the registration like any other node update.
    await expect.poll(() => ds.source.snapshot().nodes[0]?.vxlanTunnelAddr).toBe(tunnel);
    expect(await ds.nodes.read('node-a')).toEqual(ds.source.snapshot().nodes[0]);
  });

  it('is idempotent across a restart: the same tunnel address, no second allocation, no Node write', async () => {
    await kubeletNode('node-a');
    const first = datastore();
    const before = await registerNode({ node: 'node-a', ipv4: ipv4(6), pools: POOLS }, first.ipam, first.nodes);
    await first.close();
    const nodeVersion = ((await api().objects.get('Node', 'node-a'))?.metadata as Json).resourceVersion;

    const second = datastore();
    const after = await registerNode({ node: 'node-a', ipv4: ipv4(6), pools: POOLS }, second.ipam, second.nodes);
    expect(after.ipv4IPIPTunnelAddr).toBe(before.ipv4IPIPTunnelAddr);
    const blocks = await api().objects.list('IPAMBlock');
    expect(blocks).toHaveLength(1);
    expect(((blocks[0]?.spec as { allocations: unknown[] }).allocations).filter((a) => a !== null)).toEqual([0]);
    expect(((await api().objects.get('IPAMHandle', 'ipip-tunnel-addr-node-a'))?.spec as { block: object }).block).toEqual({ [(blocks[0]?.spec as { cidr: string }).cidr]: 1 });
    expect(((await api().objects.get('Node', 'node-a'))?.metadata as Json).resourceVersion).toBe(nodeVersion);
  });

  it('two agents registering at once each get a block and a tunnel address of their own', async () => {
    const names = ['node-a', 'node-b', 'node-c', 'node-d'];
    for (const name of names) await kubeletNode(name);
    const registered = await Promise.all(names.map((name, i) => {
      const ds = datastore(name);
      return registerNode({ node: name, ipv4: ipv4(10 + i), pools: POOLS }, ds.ipam, ds.nodes);
    }));
    const tunnels = registered.map((r) => r.ipv4IPIPTunnelAddr);
    expect(new Set(tunnels).size).toBe(names.length);
    const blocks = await api().objects.list('IPAMBlock');
    expect(blocks.map((b) => (b.spec as Json).affinity).sort()).toEqual(names.map((n) => `host:${n}`));
    for (const [i, name] of names.entries()) expect((await annotationsOf(name))?.['projectcalico.org/IPv4IPIPTunnelAddr']).toBe(tunnels[i]);
  });

  it('the same node registered by two writers at once: both recorded under its handle, and the next registration keeps one', async () => {
    await kubeletNode('node-a');
    const [one, two] = [datastore(), datastore()];
    const raced = await Promise.all([one, two].map((ds) => registerNode({ node: 'node-a', ipv4: ipv4(6), pools: POOLS }, ds.ipam, ds.nodes)));
    // Each writer may have claimed its own block and address: nothing is lost, all is the handle's.
    const held = await one.ipam.addressesOf('ipip-tunnel-addr-node-a');
    expect([...held].sort()).toEqual([...new Set(raced.map((r) => r.ipv4IPIPTunnelAddr))].sort());
    const allocated = async () => (await api().objects.list('IPAMBlock')).flatMap((block) => ((block.spec as Json).allocations as unknown[]).filter((x) => x !== null));
    expect(await allocated()).toHaveLength(held.length);

    const next = datastore();
    const settled = await registerNode({ node: 'node-a', ipv4: ipv4(6), pools: POOLS }, next.ipam, next.nodes);
    expect(await next.ipam.addressesOf('ipip-tunnel-addr-node-a')).toEqual([settled.ipv4IPIPTunnelAddr]);
    expect(await allocated()).toHaveLength(1);
    expect((await annotationsOf('node-a'))?.['projectcalico.org/IPv4IPIPTunnelAddr']).toBe(settled.ipv4IPIPTunnelAddr);
  });

  it('a kubelet writing back a Node read before the registration is refused (409), so the annotations stay', async () => {
    await kubeletNode('node-a');
    const stale = await api().objects.get('Node', 'node-a');
    const ds = datastore();
    await registerNode({ node: 'node-a', ipv4: ipv4(6), pools: POOLS }, ds.ipam, ds.nodes);
    const answer = await api().admin.raw('PUT', '/api/v1/nodes/node-a', { ...stale, metadata: { ...(stale?.metadata as Json), labels: { 'kubernetes.io/hostname': 'node-a' } } });
    expect(answer.status).toBe(409);
    expect(JSON.parse(answer.text)).toMatchObject({ reason: 'Conflict' });
    expect(await annotationsOf('node-a')).toMatchObject({ 'projectcalico.org/IPv4Address': '172.16.30.6/24' });
  });

  it('reads a missing Node as undefined and refuses to annotate one the kubelet has not created', async () => {
    const writer = new KubernetesNodeWriter(new KubeClient(api().kubeConfig()));
    expect(await writer.read('node-z')).toBeUndefined();
    await expect(writer.write('node-z', { ipv4Address: ipv4(6) })).rejects.toThrow(/Node node-z does not exist yet/);
  });

  it('names the object and the API\'s reason when a call fails', async () => {
    const client = new KubeClient(api().kubeConfig('not-a-token'));
    await expect(client.get(NODES, 'node-a')).rejects.toMatchObject({ code: 401, reason: 'Unauthorized', message: expect.stringMatching(/^get nodes\/node-a: 401 Unauthorized: /) });
  });

  it('loads a kubeconfig file given by path or by $KUBECONFIG, and a source syncs through it', async () => {
    const path = join(dir, 'kubeconfig');
    await writeFile(path, kubeconfigYaml({ server: api().server.url, caPem: api().pki.caPem, token: api().pki.adminToken, user: 'admin' }));
    expect(loadKubeConfig(path).getCurrentCluster()?.server).toBe(api().server.url);
    vi.stubEnv('KUBECONFIG', `${path}:${join(dir, 'other')}`);
    const source = createKubernetesSource({ nodeName: 'node-a', log: quiet, backoff: fastBackoff, watchTimeoutSeconds: 60 });
    opened.push(source);
    await expect.poll(() => source.inSync()).toBe(true);
  });
});
