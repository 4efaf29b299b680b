// KubernetesIpamStore against a real kube-apiserver with Calico's CRDs: the allocator's flows
// (claim a block, allocate, release, handles, give a block back) must leave IPAMBlock,
// BlockAffinity and IPAMHandle objects exactly as Calico's KDD backend writes them (the watch
// events included), compare-and-swap must hold against the server's own resourceVersions under
// concurrent allocators on separate connections, and Calico's own objects must be read and
// extended without losing anything.
import { beforeEach, describe, expect, it } from 'vitest';
import { IpamAllocator } from '../calico/ipam/allocator.js';
import { emptyBlock } from '../calico/ipam/block-data.js';
import { base32, hostnameHash } from '../calico/kubernetes/kubernetes-affinity-objects.js';
import { KubeClient } from '../calico/kubernetes/kubernetes-client.js';
import { KubernetesIpamStore } from '../calico/kubernetes/kubernetes-ipam-store.js';
import { parseObject } from '../calico/objects/parse-object.js';
import { nthAddress, type Cidr } from '../kernel/values.js';
import { collectionPath, kubeApiServerBuild, useRealKubeApi, type Json, type TestKind } from './support/real-kube-api/index.js';
import { pool } from './support/seed-cluster.js';
import { allocations, NGINX_ATTRIBUTE, rawAffinity, rawBlock, TUNNEL_ATTRIBUTE } from './fixtures/raw-objects.js';

const POOLS = [pool({ ipip: 'Always' })];
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
const nameOf = (cidr: string) => cidr.replace(/[.:/]/g, '-');
const spec = (object: Json | undefined) => object?.spec as Json;

/** A client that counts its replace (PUT) calls: the compare-and-swap attempts. */
class CountingClient extends KubeClient {
  static updates = 0;
  override replace(...args: Parameters<KubeClient['replace']>): ReturnType<KubeClient['replace']> {
    CountingClient.updates += 1;
    return super.replace(...args);
  }
}

describe.skipIf(kubeApiServerBuild === undefined)('KubernetesIpamStore on a real API server', () => {
  const api = useRealKubeApi();
  beforeEach(() => api().objects.clear());
  describe('objects in Calico\'s shapes', () => shapes(api));
  describe('compare-and-swap', () => compareAndSwap(api));
  describe('concurrent allocators', () => concurrent(api));
});

type Api = ReturnType<typeof useRealKubeApi>;

/**
 * The wire events of one kind from now on: the reader asks the server for every event since the
 * revision taken here (a watch that ends after a second), as a client resuming a watch would.
 */
async function record(api: Api, kind: TestKind): Promise<() => Promise<{ type: string; object: Json }[]>> {
  const { metadata } = await api().admin.call('GET', collectionPath(kind));
  const from = (metadata as Json).resourceVersion as string;
  return async () => {
    const answer = await api().admin.raw('GET', `${collectionPath(kind)}?watch=1&timeoutSeconds=1&resourceVersion=${from}`);
    return answer.text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as { type: string; object: Json });
  };
}

const podAttributes = (pod: string) => ({ namespace: 'default', node: 'node-a', pod, timestamp: '2025-01-10 09:00:00.000000001 +0000 UTC' });

function shapes(api: Api): void {
  const newStore = () => new KubernetesIpamStore(new KubeClient(api().kubeConfig()));
  const put = (object: Json) => api().objects.put(structuredClone(object));

  it('claims a block (affinity pending → block → confirmed), allocates, and counts the handle', async () => {
    const affinityEvents = await record(api, 'BlockAffinity');
    const ipam = new IpamAllocator(newStore());
    const handle = 'k8s-pod-network.3F1C0A9E2B7D';
    const ips = await ipam.assign({ node: 'node-a', count: 2, handle, attributes: podAttributes('nginx'), pools: POOLS });

    const [block, ...others] = await api().objects.list('IPAMBlock');
    expect(others).toEqual([]);
    const cidr = spec(block).cidr as Cidr;
    expect(ips).toEqual([nthAddress(cidr, 0), nthAddress(cidr, 1)]);
    expect((block?.metadata as Json).name).toBe(nameOf(cidr));
    // The server keeps JSON as a map (it answers with the keys sorted): the order wren writes is
    // not Calico's concern, only the fields and their values are.
    expect(spec(block)).toEqual({
      cidr,
      affinity: 'host:node-a',
      allocations: [0, 0, ...range(2, 64).map(() => null)],
      unallocated: range(2, 64),
      attributes: [{ handle_id: handle, secondary: podAttributes('nginx') }],
      sequenceNumber: 2,
      sequenceNumberForAllocation: { 0: 0, 1: 1 },
      deleted: false,
      strictAffinity: false,
    });
    // wren reads it back; both addresses are node-a's own, so they route with the block.
    // Read for any other node, the block keeps none of node-a's own addresses: they route with it.
    expect(parseObject(block, { node: 'node-z' })).toMatchObject({ status: 'ok', object: { value: { affinityNode: 'node-a', allocations: [] } } });

    const affinity = await api().objects.get('BlockAffinity', `node-a-${nameOf(cidr)}`);
    expect((affinity?.metadata as Json).labels).toEqual({ 'projectcalico.org/hostname-hash': hostnameHash('node-a'), 'projectcalico.org/affinity-type': 'host', 'projectcalico.org/ip-version': '4' });
    expect(spec(affinity)).toEqual({ state: 'confirmed', node: 'node-a', type: 'host', cidr, deleted: 'false' });
    expect((await affinityEvents()).map((e) => `${e.type} ${String(spec(e.object).state)}`)).toEqual(['ADDED pending', 'MODIFIED confirmed']);

    const stored = await api().objects.get('IPAMHandle', handle.toLowerCase());
    expect(spec(stored)).toEqual({ handleID: handle, block: { [cidr]: 2 }, deleted: false });
  });

  it('releases addresses to the tail of the free list and deletes an emptied handle in two steps', async () => {
    const ipam = new IpamAllocator(newStore());
    const [a0, a1] = await ipam.assign({ node: 'node-a', count: 2, handle: 'k8s-pod-network.aaa', attributes: podAttributes('a'), pools: POOLS });
    const [b0] = await ipam.assign({ node: 'node-a', count: 1, handle: 'k8s-pod-network.bbb', attributes: podAttributes('b'), pools: POOLS });
    const handleEvents = await record(api, 'IPAMHandle');

    expect(await ipam.releaseIps([a0!])).toEqual([a0]);
    const [block] = await api().objects.list('IPAMBlock');
    expect(spec(block).allocations).toEqual([null, 0, 1, ...range(3, 64).map(() => null)]);
    expect((spec(block).unallocated as number[]).slice(-2)).toEqual([63, 0]);
    expect(spec(await api().objects.get('IPAMHandle', 'k8s-pod-network.aaa'))?.block).toEqual({ [spec(block).cidr as string]: 1 });

    expect(await ipam.releaseHandle('k8s-pod-network.aaa')).toEqual([a1]);
    expect(await api().objects.get('IPAMHandle', 'k8s-pod-network.aaa')).toBeUndefined();
    expect((await handleEvents()).map((e) => `${e.type} ${String(spec(e.object).deleted)}`)).toEqual(['MODIFIED false', 'MODIFIED true', 'DELETED true']);
    const after = spec((await api().objects.list('IPAMBlock'))[0]);
    expect(after.attributes).toEqual([{ handle_id: 'k8s-pod-network.bbb', secondary: podAttributes('b') }]);
    expect(after.allocations).toEqual([null, null, 0, ...range(3, 64).map(() => null)]);
    expect(await ipam.addressesOf('k8s-pod-network.bbb')).toEqual([b0]);
  });

  it('gives an emptied block back: block and affinity each marked deleted, then deleted', async () => {
    const ipam = new IpamAllocator(newStore());
    await ipam.assign({ node: 'node-a', count: 1, handle: 'ipip-tunnel-addr-node-a', attributes: { node: 'node-a', type: 'ipipTunnelAddress' }, pools: POOLS });
    await ipam.releaseHandle('ipip-tunnel-addr-node-a');
    const blockEvents = await record(api, 'IPAMBlock');
    const affinityEvents = await record(api, 'BlockAffinity');
    await ipam.releaseAffinities('node-a');
    expect((await api().objects.list('IPAMBlock'))).toEqual([]);
    expect((await api().objects.list('BlockAffinity'))).toEqual([]);
    expect((await blockEvents()).map((e) => `${e.type} ${String(spec(e.object).deleted)}`)).toEqual(['MODIFIED true', 'DELETED true']);
    expect((await affinityEvents()).map((e) => `${e.type} ${String(spec(e.object).state)} ${String(spec(e.object).deleted)}`)).toEqual([
      'MODIFIED pendingDeletion false',
      'MODIFIED pendingDeletion true',
      'DELETED pendingDeletion true',
    ]);
  });

  it('allocates from a block Calico wrote, keeping its attributes and the fields wren does not model', async () => {
    await put(rawBlock({ sequenceNumber: 2, sequenceNumberForAllocation: { 0: 0, 1: 1 }, affinityClaimTime: '2025-01-10T09:00:00Z', attributes: [TUNNEL_ATTRIBUTE, { ...NGINX_ATTRIBUTE, alternateOwnerAttrs: { pod: 'nginx-old' } }] }));
    await put(rawAffinity());
    const ipam = new IpamAllocator(newStore());
    const attributes = { namespace: 'default', node: 'minikube-m02', pod: 'web-0' };
    expect(await ipam.assign({ node: 'minikube-m02', count: 1, handle: 'k8s-pod-network.c0ffee', attributes, pools: POOLS })).toEqual(['10.244.205.194']);
    expect(spec(await api().objects.get('IPAMBlock', '10-244-205-192-26'))).toEqual({
      cidr: '10.244.205.192/26',
      affinity: 'host:minikube-m02',
      affinityClaimTime: '2025-01-10T09:00:00Z',
      allocations: allocations({ 0: 0, 1: 1, 2: 2 }),
      unallocated: range(3, 64),
      attributes: [TUNNEL_ATTRIBUTE, { ...NGINX_ATTRIBUTE, alternateOwnerAttrs: { pod: 'nginx-old' } }, { handle_id: 'k8s-pod-network.c0ffee', secondary: attributes }],
      sequenceNumber: 3,
      sequenceNumberForAllocation: { 0: 0, 1: 1, 2: 2 },
      deleted: false,
      strictAffinity: false,
    });
    expect((await api().objects.list('BlockAffinity'))).toHaveLength(1);
  });
}

function compareAndSwap(api: Api): void {
  const newStore = () => new KubernetesIpamStore(new KubeClient(api().kubeConfig()));
  const put = (object: Json) => api().objects.put(structuredClone(object));
  const cidr = '10.244.7.0/26' as Cidr;

  it('creates once, updates only at the current revision, and deletes only at it', async () => {
    const store = newStore();
    expect(await store.getBlock(cidr)).toBeUndefined();
    const created = await store.createBlock(emptyBlock(cidr, 'node-a'));
    expect(created).toMatchObject({ ok: true, entry: { value: { cidr, affinity: 'host:node-a' } } });
    expect(await store.createBlock(emptyBlock(cidr, 'node-b'))).toEqual({ ok: false, reason: 'exists' });
    const v1 = (await store.getBlock(cidr))!;
    const v2 = await store.updateBlock({ ...v1.value, strictAffinity: true }, v1.revision);
    expect(v2.ok).toBe(true);
    expect(await store.updateBlock({ ...v1.value, affinity: 'host:node-b' }, v1.revision)).toEqual({ ok: false, reason: 'conflict' });
    expect(await store.updateBlock(emptyBlock('10.244.8.0/26' as Cidr, 'node-a'), v1.revision)).toEqual({ ok: false, reason: 'missing' });
    expect(await store.deleteBlock(cidr, v1.revision)).toBe(false);
    expect(spec(await api().objects.get('IPAMBlock', nameOf(cidr)))).toMatchObject({ deleted: false, strictAffinity: true, affinity: 'host:node-a' });
    expect(await store.deleteBlock(cidr, v2.ok ? v2.entry.revision : '')).toBe(true);
    expect(await api().objects.get('IPAMBlock', nameOf(cidr))).toBeUndefined();
  });

  it('finishes a delete a crash left half done, as Calico\'s get does', async () => {
    await put(rawBlock({ deleted: true }));
    await put({ apiVersion: 'crd.projectcalico.org/v1', kind: 'IPAMHandle', metadata: { name: 'ipip-tunnel-addr-minikube-m02' }, spec: { handleID: 'ipip-tunnel-addr-minikube-m02', block: { '10.244.205.192/26': 1 }, deleted: true } });
    const store = newStore();
    expect(await store.getBlock('10.244.205.192/26')).toBeUndefined();
    expect(await store.getHandle('ipip-tunnel-addr-minikube-m02')).toBeUndefined();
    expect((await api().objects.list('IPAMBlock'))).toEqual([]);
    expect((await api().objects.list('IPAMHandle'))).toEqual([]);
  });

  it('lists a node\'s live host affinities only, whether Calico labelled them or not', async () => {
    await put(rawAffinity({ node: 'node-a', cidr: '10.244.1.0/26' }, 'node-a-10-244-1-0-26'));
    await put(rawAffinity({ node: 'node-a', cidr: '10.244.2.0/26', deleted: 'true' }, 'node-a-10-244-2-0-26'));
    await put(rawAffinity({ node: 'node-a', cidr: '10.244.3.0/26', type: 'virtual' }, 'node-a-10-244-3-0-26'));
    await put(rawAffinity({ node: 'node-b', cidr: '10.244.4.0/26' }, 'node-b-10-244-4-0-26'));
    const store = newStore();
    const listed = await store.listAffinities('node-a');
    expect(listed.map((a) => a.value)).toEqual([{ node: 'node-a', cidr: '10.244.1.0/26', state: 'confirmed' }]);
    expect(await store.updateAffinity({ node: 'node-a', cidr: '10.244.1.0/26', state: 'pendingDeletion' }, '1')).toEqual({ ok: false, reason: 'conflict' });
    expect(await store.updateAffinity({ ...listed[0]!.value, state: 'pendingDeletion' }, listed[0]!.revision)).toMatchObject({ ok: true });
  });

  it('encodes the hostname hash label as Calico does (RFC 4648 base32 of SHA3-256, no padding)', () => {
    expect(['', 'f', 'fo', 'foo', 'foob', 'fooba', 'foobar'].map((s) => base32(Buffer.from(s)))).toEqual(['', 'MY', 'MZXQ', 'MZXW6', 'MZXW6YQ', 'MZXW6YTB', 'MZXW6YTBOI']);
    expect(hostnameHash('node-a')).toMatch(/^[A-Z2-7]{52}$/);
    expect(hostnameHash('node-a')).not.toBe(hostnameHash('node-b'));
  });
}

function concurrent(api: Api): void {
  const newStore = () => new KubernetesIpamStore(new CountingClient(api().kubeConfig()));

  it('four allocators on separate connections, 25 addresses each, in parallel: no address handed out twice', async () => {
    const allocators = range(0, 4).map(() => new IpamAllocator(newStore()));
    const results = await Promise.all(allocators.map(async (ipam, a) => {
      const got: { ip: string; handle: string }[] = [];
      for (let i = 0; i < 25; i++) {
        const handle = `k8s-pod-network.a${a}-${i}`;
        const [ip] = await ipam.assign({ node: 'node-a', count: 1, handle, attributes: podAttributes(`pod-${a}-${i}`), pools: POOLS });
        got.push({ ip: ip!, handle });
      }
      return got;
    }));
    const handed = results.flat();
    expect(new Set(handed.map((h) => h.ip)).size).toBe(100);

    // What the blocks record agrees with what each allocator was told, address by address.
    const recorded = new Map<string, string>();
    for (const block of (await api().objects.list('IPAMBlock'))) {
      const { cidr, allocations: slots, attributes } = spec(block) as { cidr: Cidr; allocations: (number | null)[]; attributes: { handle_id: string }[] };
      slots.forEach((slot, ordinal) => {
        if (slot !== null) recorded.set(nthAddress(cidr, ordinal), attributes[slot]!.handle_id);
      });
    }
    expect(recorded).toEqual(new Map(handed.map((h) => [h.ip, h.handle])));
    expect((await api().objects.list('IPAMHandle')).map((h) => Object.values(spec(h).block as Json))).toEqual(range(0, 100).map(() => [1]));
    // The allocators did collide: more block writes were tried than succeeded.
    expect(CountingClient.updates).toBeGreaterThan(100);
  });
}
