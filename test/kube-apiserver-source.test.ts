// KubernetesSource against a real kube-apiserver (Debian's 1.20, built by
// scripts/kube-apiserver.sh) with Calico's CRDs: list and watch of every kind it reads, the pods
// field selector, node heartbeats, invalid objects, sync only once every kind has listed,
// Calico's objects stored as written (nulls in IPAMBlock.spec.allocations), and resourceVersion
// expiry: a server that comes back after the store moved on answers every resumed watch 410
// Gone, and each informer relists.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeClient, type ListResult } from '../calico/kubernetes/kubernetes-client.js';
import type { KubeResource } from '../calico/kubernetes/kubernetes-resources.js';
import { KubernetesSource } from '../agent/datastore/kubernetes-source.js';
import { CLUSTER, LOCAL, parsedDirectly, RESOURCES, startSource, withoutCreationTimes } from './fixtures/kdd-cluster.js';
import { allocations, rawBlock, rawNode, rawPod, rawPool } from './fixtures/raw-objects.js';
import { collectionPath, kubeApiServerBuild, useRealKubeApi, type Json, type RealKubeApi } from './support/real-kube-api/index.js';

describe.skipIf(kubeApiServerBuild === undefined)('KubernetesSource on a real API server', () => {
  const api = useRealKubeApi();
  describe('list and watch', () => listAndWatch(api));
  describe('resourceVersion expiry', () => expiry(api));
});

function listAndWatch(api: () => RealKubeApi): void {
  let sources: KubernetesSource[] = [];
  const put = (object: Json) => api().objects.put(structuredClone(object));

  beforeEach(() => api().objects.clear());
  afterEach(async () => {
    for (const source of sources) await source.close();
    sources = [];
  });

  function started(client = new KubeClient(api().kubeConfig())) {
    const result = startSource(client);
    sources.push(result.source);
    return result;
  }

  const listsOf = (lines: Json[], resource: string) => lines.filter((l) => l.msg === 'listed' && l.resource === resource).length;

  async function synced() {
    for (const object of CLUSTER) await put(object);
    const result = started();
    await expect.poll(() => result.source.inSync()).toBe(true);
    return result;
  }

  it('stores Calico\'s objects as written: the nulls of an IPAMBlock\'s allocations, every field of its spec', async () => {
    const block = rawBlock({ sequenceNumber: 2, sequenceNumberForAllocation: { 0: 0, 1: 1 } });
    await put(block);
    const stored = await api().objects.get('IPAMBlock', '10-244-205-192-26');
    expect(stored?.spec).toEqual(block.spec);
    expect((stored?.spec as { allocations: unknown[] }).allocations.filter((a) => a === null)).toHaveLength(62);
  });

  it('lists every kind once and then holds exactly what the objects say, with one change on reaching sync', async () => {
    const { source, changes, lines } = await synced();
    expect(withoutCreationTimes(source.snapshot())).toEqual(parsedDirectly(CLUSTER));
    expect(source.snapshot().workloads.map((w) => `${w.namespace}/${w.name}`)).toEqual(['default/nginx']);
    // The API server's creation times reach the pools and nodes (the meaning checks weigh them by age).
    expect(source.snapshot().pools[0]?.created).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(changes.count).toBe(1);
    for (const resource of RESOURCES) expect(listsOf(lines, resource)).toBe(1);
  });

  it('follows added, modified and deleted objects of every kind through its watches, each as one change', async () => {
    const { source, changes } = await synced();
    await put(rawPool({ cidr: '10.245.0.0/16', vxlanMode: 'Always', ipipMode: 'Never' }, 'vxlan-pool'));
    await expect.poll(() => source.snapshot().pools.map((p) => p.name)).toEqual(['default-ipv4-ippool', 'vxlan-pool']);
    await put(rawNode({ 'projectcalico.org/IPv4Address': '172.16.30.9/24' }, 'minikube-m03'));
    await expect.poll(() => source.snapshot().nodes.find((n) => n.name === 'minikube-m03')?.ipv4?.ip).toBe('172.16.30.9');
    await put(rawBlock({ cidr: '10.244.9.0/26', affinity: 'host:minikube', allocations: allocations({}), unallocated: [] }, '10-244-9-0-26'));
    await expect.poll(() => source.snapshot().blocks.map((b) => b.cidr)).toContain('10.244.9.0/26');
    await api().objects.remove('BlockAffinity', 'minikube-m03-10-244-151-0-26');
    await expect.poll(() => source.snapshot().affinities.map((a) => a.node)).toEqual(['minikube', LOCAL]);
    await put(rawPod({ metadata: { name: 'web-0' }, annotations: { 'cni.projectcalico.org/podIP': '10.244.205.194/32', 'cni.projectcalico.org/podIPs': '10.244.205.194/32' }, status: { podIP: '10.244.205.194', podIPs: [{ ip: '10.244.205.194' }] } }));
    await expect.poll(() => source.snapshot().workloads.map((w) => w.name)).toEqual(['nginx', 'web-0']);
    await api().objects.remove('Pod', 'nginx', 'default');
    await expect.poll(() => source.snapshot().workloads.map((w) => w.name)).toEqual(['web-0']);
    await api().objects.remove('IPPool', 'vxlan-pool');
    await expect.poll(() => source.snapshot().pools.map((p) => p.name)).toEqual(['default-ipv4-ippool']);
    await api().objects.remove('Node', 'minikube-m03');
    await expect.poll(() => source.snapshot().nodes.map((n) => n.name)).toEqual(['minikube', LOCAL]);
    // A Pod written in two steps (the object, then its status) may be two changes.
    expect(changes.count).toBeGreaterThanOrEqual(1 + 8);
    expect(changes.count).toBeLessThanOrEqual(1 + 9);
  });

  it('never sees pods of other nodes: the server applies spec.nodeName to the list and the watch', async () => {
    const { source } = await synced();
    await put(rawPod({ metadata: { name: 'elsewhere' }, spec: { nodeName: 'minikube-m03' }, annotations: { 'cni.projectcalico.org/podIPs': '10.244.151.9/32' } }));
    await api().objects.remove('Pod', 'coredns-6f6b679f8f-x2x8k', 'kube-system');
    await put(rawPod({ metadata: { name: 'here' }, annotations: { 'cni.projectcalico.org/podIPs': '10.244.205.195/32' }, status: { podIP: '10.244.205.195', podIPs: [{ ip: '10.244.205.195' }] } }));
    await expect.poll(() => source.snapshot().workloads.map((w) => w.name)).toEqual(['here', 'nginx']);
    expect(source.snapshot().workloads.every((w) => w.node === LOCAL)).toBe(true);
  });

  it('does not react to Node status heartbeats written through the status subresource', async () => {
    const { source, changes } = await synced();
    const before = source.snapshot();
    for (let beat = 1; beat <= 5; beat++) {
      const node = rawNode();
      await put({ ...node, status: { ...(node.status as Json), conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: `2025-01-10T09:00:0${beat}Z`, lastTransitionTime: '2025-01-10T09:00:00Z' }] } });
    }
    await put(rawNode({ 'projectcalico.org/IPv4Address': '172.16.30.6/24', 'projectcalico.org/IPv4IPIPTunnelAddr': '10.244.120.65' }, 'minikube'));
    await expect.poll(() => source.snapshot().nodes[0]?.ipipTunnelAddr).toBe('10.244.120.65');
    expect(changes.count).toBe(2);
    expect(source.snapshot().nodes.find((n) => n.name === LOCAL)).toBe(before.nodes.find((n) => n.name === LOCAL));
  });

  it('leaves an invalid object out, counts it, and reports its problem once however often it is seen', async () => {
    const { source, lines } = await synced();
    const broken = rawBlock({ cidr: '10.244.9.0/26', affinity: 'host:minikube', allocations: allocations({}, 32) }, '10-244-9-0-26');
    await put(broken);
    await expect.poll(() => source.invalidObjects).toBe(1);
    await put({ ...broken, metadata: { name: '10-244-9-0-26', labels: { touched: 'yes' } } }); // same problem again
    // A valid block behind it on the same watch stream: once that is in, the repeat was seen.
    await put(rawBlock({ cidr: '10.244.10.0/26', affinity: 'host:minikube', allocations: allocations({}), unallocated: [] }, '10-244-10-0-26'));
    await expect.poll(() => source.snapshot().blocks.length).toBe(4);
    expect(source.snapshot().blocks.map((b) => b.cidr)).not.toContain('10.244.9.0/26');
    const reports = lines.filter((l) => l.msg === 'invalid object left out');
    expect(reports).toEqual([expect.objectContaining({ kind: 'IPAMBlock', name: '10-244-9-0-26', field: 'spec.allocations', problem: expect.stringContaining('has 32 entries') })]);
    expect(source.problems()).toHaveLength(1);

    await put(rawBlock({ cidr: '10.244.9.0/26', affinity: 'host:minikube', allocations: allocations({}), unallocated: [] }, '10-244-9-0-26'));
    await expect.poll(() => source.invalidObjects).toBe(0);
    expect(source.snapshot().blocks.map((b) => b.cidr)).toContain('10.244.9.0/26');
  });

  it('stays out of sync, and silent, while one list is outstanding', async () => {
    for (const object of CLUSTER) await put(object);
    const client = new GatedClient(api().kubeConfig());
    const { source, changes, lines } = started(client);
    await expect.poll(() => RESOURCES.filter((r) => listsOf(lines, r) === 1)).toEqual(RESOURCES.filter((r) => r !== 'pods'));
    await put(rawPool({ cidr: '10.245.0.0/16' }, 'late-pool'));
    await expect.poll(() => source.snapshot().pools.length).toBe(2);
    expect(source.inSync()).toBe(false);
    expect(changes.count).toBe(0);

    client.open();
    await expect.poll(() => source.inSync()).toBe(true);
    expect(changes.count).toBe(1);
    expect(source.snapshot().workloads.map((w) => w.name)).toEqual(['nginx']);
  });
}

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

function expiry(api: () => RealKubeApi): void {
  let source: KubernetesSource | undefined;
  afterEach(async () => {
    await source?.close();
    source = undefined;
  });

  /**
   * Stops the server, lets `meanwhile` change etcd behind its back (another API server of an HA
   * pair would), moves etcd's revision on and compacts it, and starts the server again: its watch
   * cache begins at the new revision, so every watch resumed from an older one is 410 Gone.
   */
  async function outage(meanwhile: () => Promise<void> = async () => undefined): Promise<void> {
    await api().server.stop();
    await meanwhile();
    await api().etcd.etcdctl(['put', '/wren-test/revision-bump', String(Date.now())]);
    await api().etcd.compact();
    await api().server.restart();
  }

  function start() {
    const result = startSource(new KubeClient(api().kubeConfig()), { initialMs: 50, maxMs: 400, jitter: 0 });
    source = result.source;
    return result;
  }

  const listsOf = (lines: Json[], resource: string) => lines.filter((l) => l.msg === 'listed' && l.resource === resource).length;

  it('relists every kind after 410 Gone, without a change event when nothing changed', async () => {
    await api().objects.clear();
    for (const object of CLUSTER) await api().objects.put(structuredClone(object));
    const { source, changes, lines } = start();
    await expect.poll(() => source.inSync()).toBe(true);
    const before = source.snapshot();
    const { metadata } = await api().admin.call('GET', collectionPath('IPPool'));
    await outage();
    // What each informer met: a watch from a revision before the outage is refused as expired.
    const watch = await api().admin.raw('GET', `${collectionPath('IPPool')}?watch=1&timeoutSeconds=1&resourceVersion=${(metadata as Json).resourceVersion as string}`);
    expect(JSON.parse(watch.text.split('\n')[0] ?? '')).toMatchObject({ type: 'ERROR', object: { code: 410, reason: 'Expired' } });
    await expect.poll(() => RESOURCES.map((r) => listsOf(lines, r)), { timeout: 15_000 }).toEqual(RESOURCES.map(() => 2));
    expect(changes.count).toBe(1);
    expect(source.snapshot()).toBe(before);
    expect(source.restarts).toBeGreaterThanOrEqual(RESOURCES.length);
  });

  it('relists after 410 Gone and drops what was deleted while it was away', async () => {
    await api().objects.clear();
    for (const object of CLUSTER) await api().objects.put(structuredClone(object));
    const { source, lines } = start();
    await expect.poll(() => source.inSync()).toBe(true);
    await outage(async () => {
      await api().etcd.etcdctl(['del', '/registry/crd.projectcalico.org/ipamblocks/10-244-151-0-26']);
      await api().etcd.etcdctl(['del', '/registry/crd.projectcalico.org/blockaffinities/minikube-m03-10-244-151-0-26']);
    });
    await expect.poll(() => source.snapshot().blocks.map((b) => b.cidr), { timeout: 15_000 }).not.toContain('10.244.151.0/26');
    await expect.poll(() => source.snapshot().affinities.map((a) => a.node)).toEqual(['minikube', LOCAL]);
    expect(listsOf(lines, 'ipamblocks.crd.projectcalico.org')).toBe(2);
    // Watching again, not just relisted: a change after the outage arrives by itself.
    await api().objects.put(rawPool({ cidr: '10.245.0.0/16' }, 'after-outage'));
    await expect.poll(() => source.snapshot().pools.map((p) => p.name)).toContain('after-outage');
  });
}
