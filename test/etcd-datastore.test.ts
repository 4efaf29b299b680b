// The etcd datastore against a real etcd (Debian's etcd-server on 127.0.0.1): Calico-format
// objects in, a validated snapshot out; deletes, compaction and an etcd restart survived; IPAM and
// node registration written in Calico's layout.
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { EtcdIpamStore } from '../calico/etcd/etcd-ipam-store.js';
import { EtcdNodeWriter } from '../calico/etcd/etcd-node-writer.js';
import { EtcdSource } from '../agent/datastore/etcd-source.js';
import { IpamAllocator } from '../calico/ipam/allocator.js';
import { registerNode } from '../agent/registration.js';
import type { Cidr } from '../kernel/values.js';
import { pool } from './support/seed-cluster.js';
import { run } from '../kernel/exec.js';
import { startTestEtcd, testClient } from './support/etcd-harness.js';
import { until } from './support/until.js';

const quiet = pino({ level: 'silent' });
const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

const BLOCK = '/calico/ipam/v2/assignment/ipv4/block/10.244.1.0-26';
const blockValue = (affinity: string, owners: (string | null)[] = []) =>
  JSON.stringify({
    cidr: '10.244.1.0/26',
    affinity: `host:${affinity}`,
    allocations: [...owners.map((_, i) => i), ...Array(64 - owners.length).fill(null)],
    unallocated: Array.from({ length: 64 - owners.length }, (_, i) => i + owners.length),
    attributes: owners.map((node) => ({ handle_id: `h-${node}`, secondary: node === null ? {} : { node } })),
    deleted: false,
  });
const nodeValue = (name: string, ip: string, vtep: string) =>
  JSON.stringify({ kind: 'Node', apiVersion: 'projectcalico.org/v3', metadata: { name }, spec: { bgp: { ipv4Address: ip }, ipv4VXLANTunnelAddr: vtep } });
const poolValue = JSON.stringify({ kind: 'IPPool', apiVersion: 'projectcalico.org/v3', metadata: { name: 'pool' }, spec: { cidr: '10.244.0.0/16', blockSize: 26, vxlanMode: 'Always', ipipMode: 'Never' } });

async function setup() {
  const etcd = await startTestEtcd();
  const client = testClient(etcd.endpoint);
  closers.push(() => client.close());
  await client.create('/calico/resources/v3/projectcalico.org/ippools/pool', poolValue);
  await client.create('/calico/resources/v3/projectcalico.org/nodes/node-a', nodeValue('node-a', '172.16.30.6/24', '10.244.0.0'));
  await client.create('/calico/resources/v3/projectcalico.org/nodes/node-b', nodeValue('node-b', '172.16.30.7/24', '10.244.1.0'));
  await client.create(BLOCK, blockValue('node-b', ['node-b']));
  await client.create('/calico/ipam/v2/host/node-b/ipv4/block/10.244.1.0-26', '{"state":"confirmed","deleted":false}');
  await client.create('/calico/ipam/v2/handle/h-node-b', '{"block":{"10.244.1.0/26":1},"deleted":false}');
  const source = new EtcdSource(client, quiet, { node: 'node-a' });
  const changes: number[] = [];
  source.onChange(() => changes.push(Date.now()));
  closers.push(() => source.close());
  await source.start();
  return { etcd, client, source, changes };
}

describe('etcd datastore: the snapshot', () => {
  it('lists Calico objects into a validated snapshot and follows puts and deletes', async () => {
    const { client, source } = await setup();
    expect(source.inSync()).toBe(true);
    const s = source.snapshot();
    expect(s.pools.map((p) => p.cidr)).toEqual(['10.244.0.0/16']);
    expect(s.nodes.map((n) => [n.name, n.ipv4?.cidr, n.vxlanTunnelAddr]).sort()).toEqual([
      ['node-a', '172.16.30.6/24', '10.244.0.0'],
      ['node-b', '172.16.30.7/24', '10.244.1.0'],
    ]);
    // Its one address belongs to node-b itself, so read for node-a it routes with the block and is not kept.
    expect(s.blocks).toEqual([{ name: '10-244-1-0-26', cidr: '10.244.1.0/26', affinityNode: 'node-b', allocations: [] }]);
    expect(s.affinities.map((a) => [a.node, a.cidr, a.state])).toEqual([['node-b', '10.244.1.0/26', 'confirmed']]);

    await client.create(
      '/calico/resources/v3/projectcalico.org/workloadendpoints/default/node-a-k8s-web-eth0',
      JSON.stringify({ kind: 'WorkloadEndpoint', apiVersion: 'projectcalico.org/v3', metadata: { name: 'node-a-k8s-web-eth0', namespace: 'default' }, spec: { node: 'node-a', pod: 'web', interfaceName: 'cali1234567890a', ipNetworks: ['10.244.0.5/32'] } }),
    );
    await until(() => source.snapshot().workloads.length === 1);
    expect(source.snapshot().workloads[0]).toMatchObject({ node: 'node-a', iface: 'cali1234567890a', ips: ['10.244.0.5'] });
    const current = await client.get(BLOCK);
    await client.compareAndDelete(BLOCK, current!.modRevision);
    await until(() => source.snapshot().blocks.length === 0);
  });

  it('an invalid object is left out, the rest kept', async () => {
    const { client, source } = await setup();
    await client.create('/calico/resources/v3/projectcalico.org/nodes/node-c', JSON.stringify({ kind: 'Node', apiVersion: 'projectcalico.org/v3', metadata: { name: 'node-c' }, spec: { bgp: { ipv4Address: '172.16.30.8/24' }, ipv4VXLANTunnelAddr: 'not an ip' } }));
    await client.create('/calico/ipam/v2/assignment/ipv4/block/10.244.2.0-26', '{"cidr":"10.244.2.0/26; reboot"}');
    await until(() => source.snapshot().nodes.length === 3 && source.store.invalidCount === 1);
    // The node stays, without the field Calico would ignore; the block is left out; the rest is kept.
    expect(source.snapshot().nodes.find((n) => n.name === 'node-c')).toEqual({ name: 'node-c', ipv4: { ip: '172.16.30.8', cidr: '172.16.30.8/24' } });
    expect(source.snapshot().blocks.map((b) => b.cidr)).toEqual(['10.244.1.0/26']);
  });

  it('compaction past the watch revision: relist, catch up, no spurious change', async () => {
    const { etcd, client, source, changes } = await setup();
    const watchClosed = source.close(); // stop the watch, change etcd, compact, then watch again from the old revision
    await watchClosed;
    await client.create('/calico/resources/v3/projectcalico.org/nodes/node-c', nodeValue('node-c', '172.16.30.8/24', '10.244.2.0'));
    await etcd.compact();
    const fresh = new EtcdSource(client, quiet, { node: 'node-a' });
    closers.push(() => fresh.close());
    await fresh.start();
    expect(fresh.snapshot().nodes).toHaveLength(3);
    const before = changes.length;
    await client.create('/calico/resources/v3/projectcalico.org/nodes/node-d', nodeValue('node-d', '172.16.30.9/24', '10.244.3.0'));
    await until(() => fresh.snapshot().nodes.length === 4);
    expect(changes.length).toBe(before);
  });

  it('survives etcd being killed and restarted, losing nothing written meanwhile', async () => {
    const { etcd, client, source } = await setup();
    await etcd.kill();
    await etcd.restart();
    const other = testClient(etcd.endpoint);
    closers.push(() => other.close());
    await other.create('/calico/resources/v3/projectcalico.org/nodes/node-c', nodeValue('node-c', '172.16.30.8/24', '10.244.2.0'));
    await until(() => source.snapshot().nodes.length === 3, 20_000);
    expect(await client.get('/calico/resources/v3/projectcalico.org/nodes/node-c')).toBeDefined();
  }, 30_000);
});

describe('etcd datastore: IPAM and registration in Calico\'s layout', () => {
  it('registration allocates the VXLAN tunnel address in a claimed block and writes the Node resource', async () => {
    const etcd = await startTestEtcd();
    const client = testClient(etcd.endpoint);
    closers.push(() => client.close());
    const ipam = new IpamAllocator(new EtcdIpamStore(client));
    const nodes = new EtcdNodeWriter(client);
    const input = { node: 'node-a', ipv4: '172.16.30.6/24' as Cidr, pools: [pool({ vxlan: 'Always' })] };
    const first = await registerNode(input, ipam, nodes);
    const node = JSON.parse((await client.get('/calico/resources/v3/projectcalico.org/nodes/node-a'))!.value) as { spec: Record<string, unknown> };
    expect(node.spec).toMatchObject({ bgp: { ipv4Address: '172.16.30.6/24' }, ipv4VXLANTunnelAddr: first.ipv4VXLANTunnelAddr, vxlanTunnelMACAddr: first.vxlanTunnelMACAddr });
    const blocks = await client.listPrefix('/calico/ipam/v2/assignment/ipv4/block/');
    expect(blocks.kvs).toHaveLength(1);
    const block = JSON.parse(blocks.kvs[0]!.value) as { affinity: string; attributes: unknown[] };
    expect(block.affinity).toBe('host:node-a');
    expect(block.attributes).toEqual([{ handle_id: 'vxlan-tunnel-addr-node-a', secondary: { node: 'node-a', type: 'vxlanTunnelAddress' } }]);
    expect(JSON.parse((await client.get('/calico/ipam/v2/handle/vxlan-tunnel-addr-node-a'))!.value)).toEqual({ block: { [JSON.parse(blocks.kvs[0]!.value).cidr]: 1 }, deleted: false });
    const affinity = await client.listPrefix('/calico/ipam/v2/host/node-a/');
    expect(affinity.kvs.map((kv) => JSON.parse(kv.value))).toEqual([{ state: 'confirmed', deleted: false }]);
    expect((await registerNode(input, ipam, nodes)).ipv4VXLANTunnelAddr).toBe(first.ipv4VXLANTunnelAddr);
  });

  it('four allocator processes × 50 addresses never hand out one address twice', async () => {
    const worker = new URL('./support/ipam-worker.mjs', import.meta.url).pathname;
    const etcd = await startTestEtcd();
    const runs = await Promise.all([0, 1, 2, 3].map((i) => run('node', [worker, etcd.endpoint, `node-${i}`, '50', '10.244.0.0/24'])));
    for (const r of runs) expect(r.stderr).toBe('');
    const all = runs.flatMap((r) => JSON.parse(r.stdout) as string[]);
    expect(all).toHaveLength(200);
    expect(new Set(all).size).toBe(200);
    const client = testClient(etcd.endpoint);
    const blocks = (await client.listPrefix('/calico/ipam/v2/assignment/ipv4/block/')).kvs.map((kv) => JSON.parse(kv.value) as { allocations: (number | null)[]; unallocated: number[]; attributes: { handle_id: string }[] });
    expect(blocks.reduce((n, b) => n + b.allocations.filter((a) => a !== null).length, 0)).toBe(200);
    for (const b of blocks) {
      expect(b.allocations.filter((a) => a !== null).length + b.unallocated.length).toBe(64);
      expect(b.allocations.every((a) => a === null || b.attributes[a] !== undefined)).toBe(true);
    }
    const handles = (await client.listPrefix('/calico/ipam/v2/handle/')).kvs;
    expect(handles).toHaveLength(200);
    // What a claim reads to find a free block: the CIDRs alone, from the keys.
    const store = new EtcdIpamStore(client);
    expect((await store.listBlockCidrs()).sort()).toEqual((await store.listBlocks()).map((b) => b.value.cidr).sort());
    expect(await store.listBlockCidrs()).toHaveLength(4);
  }, 60_000);

  it('four allocators at once never hand out one address twice', async () => {
    const etcd = await startTestEtcd();
    const clients = [0, 1, 2, 3].map(() => testClient(etcd.endpoint));
    closers.push(() => clients.forEach((c) => c.close()));
    const results = await Promise.all(
      clients.map((c, i) => new IpamAllocator(new EtcdIpamStore(c)).assign({ node: `node-${i}`, count: 50, handle: `h-${i}`, attributes: { node: `node-${i}` }, pools: [pool({}, '10.244.0.0/24')] })),
    );
    const all = results.flat();
    expect(all).toHaveLength(200);
    expect(new Set(all).size).toBe(200);
    const blocks = (await clients[0]!.listPrefix('/calico/ipam/v2/assignment/ipv4/block/')).kvs.map((kv) => JSON.parse(kv.value) as { allocations: (number | null)[]; unallocated: number[] });
    for (const b of blocks) expect(b.allocations.filter((a) => a !== null).length + b.unallocated.length).toBe(64);
    expect(blocks.reduce((n, b) => n + b.allocations.filter((a) => a !== null).length, 0)).toBe(200);
  }, 30_000);
});
