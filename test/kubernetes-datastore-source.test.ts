// KubernetesSource against the kube-api-double over real HTTP, driven by client-node 1.4's own
// ListWatch: initial sync, events, node heartbeats, the pods field selector, and recovery from
// dropped connections, compaction (410 → relist) and a refusing server, with Calico's objects
// in the shapes calico-node writes them (seed 002: minikube, minikube-m02, minikube-m03).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pino, type Logger } from 'pino';
import type { ClusterSnapshot } from '../routing/cluster.js';
import { parseObject } from '../calico/objects/parse-object.js';
import { SnapshotStore } from '../agent/snapshot-store.js';
import { KubeClient, type ListResult } from '../agent/datastore/kubernetes-client.js';
import type { KubeResource } from '../agent/datastore/kubernetes-resources.js';
import { KubernetesSource } from '../agent/datastore/kubernetes-source.js';
import { kubeConfigFor, startKubeApiDouble, type KubeApiDouble, type KubeObject } from './support/kube-api-double/index.js';
import { allocations, NGINX_ATTRIBUTE, rawAffinity, rawBlock, rawNode, rawPod, rawPool, TUNNEL_ATTRIBUTE } from './fixtures/raw-objects.js';

type Json = Record<string, unknown>;
const LOCAL = 'minikube-m02';
const RESOURCES = ['ippools.crd.projectcalico.org', 'ipamblocks.crd.projectcalico.org', 'blockaffinities.crd.projectcalico.org', 'nodes', 'pods'];

function tunnel(node: string): Json {
  return { handle_id: `ipip-tunnel-addr-${node}`, secondary: { node, type: 'ipipTunnelAddress' } };
}

const CLUSTER: Json[] = [
  rawPool(),
  rawNode({ 'projectcalico.org/IPv4Address': '172.16.30.6/24', 'projectcalico.org/IPv4IPIPTunnelAddr': '10.244.120.64' }, 'minikube'),
  rawNode(),
  rawNode({ 'projectcalico.org/IPv4Address': '172.16.30.8/24', 'projectcalico.org/IPv4IPIPTunnelAddr': '10.244.151.0' }, 'minikube-m03'),
  rawBlock({ cidr: '10.244.120.64/26', affinity: 'host:minikube', allocations: allocations({ 0: 0 }), unallocated: Array.from({ length: 63 }, (_, i) => i + 1), attributes: [tunnel('minikube')] }, '10-244-120-64-26'),
  rawBlock({ sequenceNumber: 2, sequenceNumberForAllocation: { 0: 0, 1: 1 }, attributes: [TUNNEL_ATTRIBUTE, NGINX_ATTRIBUTE] }),
  rawBlock({ cidr: '10.244.151.0/26', affinity: 'host:minikube-m03', allocations: allocations({ 0: 0, 5: 1 }), unallocated: Array.from({ length: 62 }, (_, i) => (i < 4 ? i + 1 : i + 2)), attributes: [tunnel('minikube-m03'), { handle_id: 'k8s-pod-network.9a8b7c6d5e4f', secondary: { namespace: 'kube-system', node: 'minikube-m03', pod: 'coredns-6f6b679f8f-x2x8k' } }] }, '10-244-151-0-26'),
  rawAffinity({ node: 'minikube', cidr: '10.244.120.64/26' }, 'minikube-10-244-120-64-26'),
  rawAffinity(),
  rawAffinity({ node: 'minikube-m03', cidr: '10.244.151.0/26' }, 'minikube-m03-10-244-151-0-26'),
  rawPod(),
  rawPod({ metadata: { name: 'coredns-6f6b679f8f-x2x8k', namespace: 'kube-system' }, annotations: { 'cni.projectcalico.org/podIP': '10.244.151.5/32', 'cni.projectcalico.org/podIPs': '10.244.151.5/32' }, spec: { nodeName: 'minikube-m03' } }),
  { ...rawPod({ spec: { hostNetwork: true }, status: { podIP: '172.16.30.7', podIPs: [{ ip: '172.16.30.7' }] } }), metadata: { name: 'kube-proxy-7xk2p', namespace: 'kube-system' } },
];

/** What the parsers make of the objects directly: the source must arrive at the same picture. */
/** The objects parsed as the source parses them (for the local node), without the creation times the API server adds. */
function parsedDirectly(objects: readonly Json[]): ClusterSnapshot {
  const store = new SnapshotStore();
  for (const object of objects) if (object.kind !== 'Pod' || (object.spec as Json).nodeName === LOCAL) store.apply(parseObject(object, { node: LOCAL }));
  return store.snapshot();
}

function withoutCreationTimes(s: ClusterSnapshot): ClusterSnapshot {
  return { ...s, pools: s.pools.map(({ created: _, ...p }) => p), nodes: s.nodes.map(({ created: _, ...n }) => n) };
}

function captureLog(): { log: Logger; lines: Json[] } {
  const lines: Json[] = [];
  return { log: pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Json) }), lines };
}

let double: KubeApiDouble;
let sources: KubernetesSource[];
let put: (object: Json) => void;

beforeEach(async () => {
  double = await startKubeApiDouble({ bookmarkIntervalMs: 50 });
  put = (object) => void double.apply(structuredClone(object) as unknown as KubeObject);
  sources = [];
});
afterEach(async () => {
  for (const source of sources) await source.close();
  await double.close();
});

function startSource(client = new KubeClient(kubeConfigFor(double))) {
  const { log, lines } = captureLog();
  const source = new KubernetesSource({ client, nodeName: LOCAL, log, backoff: { initialMs: 20, maxMs: 160, jitter: 0 }, watchTimeoutSeconds: 60 });
  sources.push(source);
  const changes = { count: 0 };
  source.onChange(() => void changes.count++);
  source.start();
  return { source, changes, lines };
}

const openWatches = () => RESOURCES.map((r) => double.stats()[r]?.openWatches ?? 0);

/** A source over CLUSTER that has listed everything and has all its watches open. */
async function synced() {
  CLUSTER.forEach(put);
  const started = startSource();
  await expect.poll(() => started.source.inSync()).toBe(true);
  await expect.poll(openWatches).toEqual([1, 1, 1, 1, 1]);
  return started;
}

const listsOf = (resource: string) => double.stats()[resource]?.list ?? 0;

/** Stops listening and tears down open connections (pausing alone waits for them to end). */
async function refuseConnections(): Promise<void> {
  const paused = double.pause('refuse');
  double.dropConnections();
  await paused;
}

describe('KubernetesSource: sync and events', () => {
  it('lists every resource once and then holds exactly what the objects say, with one change on reaching sync', async () => {
    const { source, changes, lines } = await synced();
    expect(withoutCreationTimes(source.snapshot())).toEqual(parsedDirectly(CLUSTER));
    expect(source.snapshot().workloads.map((w) => `${w.namespace}/${w.name}`)).toEqual(['default/nginx']);
    // The local node's own block keeps its addresses with their owners: the meaning checks need
    // them (the tunnel address's handle, the pod each address was given to).
    expect(source.snapshot().blocks.find((b) => b.cidr === '10.244.205.192/26')?.allocations.map((a) => [a.ip, a.handle?.slice(0, 16), a.pod])).toEqual([
      ['10.244.205.192', 'ipip-tunnel-addr', undefined],
      ['10.244.205.193', 'k8s-pod-network.', 'nginx'],
    ]);
    expect(changes.count).toBe(1);
    for (const resource of RESOURCES) expect(double.stats()[resource]).toMatchObject({ list: 1, watch: 1, openWatches: 1 });
    expect(lines.filter((l) => l.msg === 'in sync')).toHaveLength(1);
  });

  it('applies added, modified and deleted objects from the watch, each as one change', async () => {
    const { source, changes } = await synced();
    put(rawPool({ cidr: '10.245.0.0/16', vxlanMode: 'Always', ipipMode: 'Never' }, 'vxlan-pool'));
    await expect.poll(() => source.snapshot().pools.map((p) => p.name)).toEqual(['default-ipv4-ippool', 'vxlan-pool']);
    put(rawNode({ 'projectcalico.org/IPv4Address': '172.16.30.9/24' }, 'minikube-m03'));
    await expect.poll(() => source.snapshot().nodes.find((n) => n.name === 'minikube-m03')?.ipv4?.ip).toBe('172.16.30.9');
    double.remove('BlockAffinity', 'minikube-m03-10-244-151-0-26');
    await expect.poll(() => source.snapshot().affinities.map((a) => a.node)).toEqual(['minikube', LOCAL]);
    put(rawPod({ metadata: { name: 'web-0' }, annotations: { 'cni.projectcalico.org/podIP': '10.244.205.194/32', 'cni.projectcalico.org/podIPs': '10.244.205.194/32' } }));
    await expect.poll(() => source.snapshot().workloads.map((w) => w.name)).toEqual(['nginx', 'web-0']);
    double.remove('Pod', 'nginx', 'default');
    await expect.poll(() => source.snapshot().workloads.map((w) => w.name)).toEqual(['web-0']);
    expect(changes.count).toBe(1 + 5);
  });

  it('never sees pods of other nodes: the list and the watch both carry spec.nodeName', async () => {
    const { source, changes } = await synced();
    put(rawPod({ metadata: { name: 'elsewhere' }, spec: { nodeName: 'minikube-m03' }, annotations: { 'cni.projectcalico.org/podIPs': '10.244.151.9/32' } }));
    double.remove('Pod', 'coredns-6f6b679f8f-x2x8k', 'kube-system');
    put(rawPod({ metadata: { name: 'here' }, annotations: { 'cni.projectcalico.org/podIPs': '10.244.205.195/32' } }));
    await expect.poll(() => source.snapshot().workloads.map((w) => w.name)).toEqual(['here', 'nginx']);
    expect(source.snapshot().workloads.every((w) => w.node === LOCAL)).toBe(true);
    expect(changes.count).toBe(2);
  });

  it('does not react to Node status heartbeats: only a change to what Calico reads is a change', async () => {
    const { source, changes } = await synced();
    const before = source.snapshot();
    for (let beat = 1; beat <= 5; beat++) {
      const node = rawNode();
      put({ ...node, status: { ...(node.status as Json), conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: `2025-01-10T09:00:0${beat}Z` }] } });
    }
    // A real change behind the heartbeats on the same watch stream: once it is seen, so were they.
    put(rawNode({ 'projectcalico.org/IPv4Address': '172.16.30.6/24', 'projectcalico.org/IPv4IPIPTunnelAddr': '10.244.120.65' }, 'minikube'));
    await expect.poll(() => source.snapshot().nodes[0]?.ipipTunnelAddr).toBe('10.244.120.65');
    expect(changes.count).toBe(2);
    expect(source.snapshot().nodes.find((n) => n.name === LOCAL)).toBe(before.nodes.find((n) => n.name === LOCAL));
  });

  it('leaves an invalid object out, counts it, and reports its problem once however often it is seen', async () => {
    const { source, lines } = await synced();
    const broken = rawBlock({ cidr: '10.244.9.0/26', affinity: 'host:minikube', allocations: allocations({}, 32) }, '10-244-9-0-26');
    put(broken);
    await expect.poll(() => source.invalidObjects).toBe(1);
    put({ ...broken, metadata: { name: '10-244-9-0-26', labels: { touched: 'yes' } } }); // same problem again
    // A valid block behind it on the same watch stream: once that is in, the repeat was seen.
    put(rawBlock({ cidr: '10.244.10.0/26', affinity: 'host:minikube', allocations: allocations({}), unallocated: [] }, '10-244-10-0-26'));
    await expect.poll(() => source.snapshot().blocks.length).toBe(4);
    expect(source.snapshot().blocks.map((b) => b.cidr)).not.toContain('10.244.9.0/26');
    const reports = lines.filter((l) => l.msg === 'invalid object left out');
    expect(reports).toEqual([expect.objectContaining({ kind: 'IPAMBlock', name: '10-244-9-0-26', field: 'spec.allocations', problem: expect.stringContaining('has 32 entries') })]);
    expect(source.problems()).toHaveLength(1);

    put(rawBlock({ cidr: '10.244.9.0/26', affinity: 'host:minikube', allocations: allocations({}), unallocated: [] }, '10-244-9-0-26'));
    await expect.poll(() => source.invalidObjects).toBe(0);
    expect(source.snapshot().blocks.map((b) => b.cidr)).toContain('10.244.9.0/26');
  });
});

/** A client whose pods list waits for a gate: the other four informers list first. */
class GatedClient extends KubeClient {
  open!: () => void;
  readonly #gate = new Promise<void>((resolve) => (this.open = resolve));
  override async list(resource: KubeResource, options: { fieldSelector?: string; signal?: AbortSignal } = {}): Promise<ListResult> {
    // An aborted list (close() during the wait) must end, as a real request would.
    if (resource.plural === 'pods') await Promise.race([this.#gate, new Promise((_, reject) => options.signal?.addEventListener('abort', () => reject(new Error('aborted'))))]);
    return super.list(resource, options);
  }
}

describe('KubernetesSource: in sync only once every resource has listed', () => {
  it('stays out of sync, and silent, while one list is outstanding', async () => {
    CLUSTER.forEach(put);
    const client = new GatedClient(kubeConfigFor(double));
    const { source, changes } = startSource(client);
    await expect.poll(() => RESOURCES.filter((r) => listsOf(r) === 1)).toEqual(RESOURCES.filter((r) => r !== 'pods'));
    put(rawPool({ cidr: '10.245.0.0/16' }, 'late-pool'));
    await expect.poll(() => source.snapshot().pools.length).toBe(2);
    expect(source.inSync()).toBe(false);
    expect(changes.count).toBe(0);

    client.open();
    await expect.poll(() => source.inSync()).toBe(true);
    expect(changes.count).toBe(1);
    expect(source.snapshot().workloads.map((w) => w.name)).toEqual(['nginx']);
  });
});

describe('KubernetesSource: recovery', () => {
  it('restarts informers with backoff after dropped connections and catches up on what happened meanwhile', async () => {
    const { source, lines } = await synced();
    double.dropConnections();
    put(rawPool({ cidr: '10.245.0.0/16' }, 'added-while-down'));
    double.remove('IPAMBlock', '10-244-151-0-26');
    await expect.poll(() => source.snapshot().pools.map((p) => p.name)).toContain('added-while-down');
    await expect.poll(() => source.snapshot().blocks.map((b) => b.cidr)).not.toContain('10.244.151.0/26');
    expect(source.restarts).toBeGreaterThanOrEqual(RESOURCES.length);
    expect(lines.filter((l) => l.msg === 'informer stopped; restarting').map((l) => l.retryInMs)).toContain(20);
    // The history still held the events: each informer resumed its watch without relisting.
    for (const resource of RESOURCES) expect(listsOf(resource)).toBe(1);
    await expect.poll(openWatches).toEqual([1, 1, 1, 1, 1]);
  });

  it('relists after compaction (410) without a single change event when nothing changed', async () => {
    const { source, changes } = await synced();
    const before = source.snapshot();
    await refuseConnections();
    // A write to a kind wren does not watch moves the revision past every informer's; the
    // compaction then makes each resumed watch answer 410 Gone.
    put({ apiVersion: 'crd.projectcalico.org/v1', kind: 'IPAMConfig', metadata: { name: 'default' }, spec: { strictAffinity: false, autoAllocateBlocks: true } });
    double.compact();
    await double.resume();
    await expect.poll(() => RESOURCES.map(listsOf), { timeout: 3000 }).toEqual([2, 2, 2, 2, 2]);
    expect(changes.count).toBe(1);
    expect(source.snapshot()).toBe(before);
  });

  it('relists after compaction and drops what was deleted while it was away, with one change per kind that changed', async () => {
    const { source, changes } = await synced();
    await refuseConnections();
    double.remove('IPAMBlock', '10-244-151-0-26');
    double.remove('BlockAffinity', 'minikube-m03-10-244-151-0-26');
    put(rawNode({ 'projectcalico.org/IPv4Address': '172.16.30.10/24' }, 'minikube-m04'));
    double.compact();
    await double.resume();
    await expect.poll(() => source.snapshot().nodes.map((n) => n.name), { timeout: 3000 }).toContain('minikube-m04');
    await expect.poll(() => source.snapshot().blocks.length).toBe(2);
    await expect.poll(() => source.snapshot().affinities.length).toBe(2);
    expect(changes.count).toBe(1 + 3);
    expect(listsOf('ipamblocks.crd.projectcalico.org')).toBe(2);
  });

  it('keeps retrying, backing off, while the server refuses connections, and recovers once it is back', async () => {
    const { source, lines } = await synced();
    await refuseConnections();
    await new Promise((resolve) => setTimeout(resolve, 700));
    const delays = lines.filter((l) => l.msg === 'informer stopped; restarting' && l.resource === 'ippools.crd.projectcalico.org').map((l) => l.retryInMs);
    expect(delays.slice(0, 4)).toEqual([20, 40, 80, 160]);
    expect(delays.length).toBeGreaterThan(4);
    put(rawPool({ cidr: '10.245.0.0/16' }, 'added-while-refused'));
    await double.resume();
    await expect.poll(() => source.snapshot().pools.length, { timeout: 3000 }).toBe(2);
    await expect.poll(openWatches).toEqual([1, 1, 1, 1, 1]);
    // Serving again resets the backoff: the next failure is retried at the initial delay.
    const seen = lines.length;
    double.dropConnections();
    await expect.poll(() => lines.slice(seen).find((l) => l.resource === 'ippools.crd.projectcalico.org')?.retryInMs).toBe(20);
  });

  it('closes every watch on close() and does not come back', async () => {
    const { source } = await synced();
    await source.close();
    await expect.poll(openWatches).toEqual([0, 0, 0, 0, 0]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(RESOURCES.map((r) => double.stats()[r]?.watch)).toEqual([1, 1, 1, 1, 1]);
  });
});
