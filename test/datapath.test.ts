// Real data paths between nodes in network namespaces, programmed by `wren apply` on each node:
// every pod pings every other pod and the reply TTL proves the path (63 on the same node, 62
// across nodes); packet counters on the devices prove which path (VXLAN or direct) was taken.
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../agent/cli/cli.js';
import { renderSnapshotFile } from '../calico/objects/snapshot-render.js';
import { IpKernel } from '../kernel/kernel.js';
import { MAIN_TABLE } from '../kernel/state.js';
import { readKernel } from '../agent/reconciler.js';
import { createTopology, linkCounters, ping, type Topology } from '../lab/topology/index.js';
import type { ClusterSnapshot, EncapMode } from '../routing/cluster.js';
import { planPods, topologyCluster, type PodPlan } from './support/topology-cluster.js';

const POD_MTU_VXLAN = 1450;
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

const silent = { out: () => undefined, err: (line: string) => errors.push(line) };
const errors: string[] = [];

async function cluster(name: string, subnets: string[], placement: string[], vxlan: EncapMode) {
  const topology = await createTopology({
    prefix: `wren-t-${name}`,
    subnets,
    nodes: placement.map((subnet, i) => ({ name: `node-${i + 1}`, subnet })),
  });
  cleanups.push(() => topology.destroy());
  const dir = await mkdtemp(join(tmpdir(), 'wren-dp-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const pods = planPods(topology.nodes);
  const mtu = vxlan === 'Never' ? 1500 : POD_MTU_VXLAN;
  await topology.addPods(pods.map((p) => ({ ...p, mtu })));
  const snapshot = topologyCluster(topology, vxlan, pods);
  return { topology, pods, snapshot, dir };
}

/** Writes the snapshot as a `kubectl get -o yaml` dump and runs `wren apply` in every node's namespace. */
async function applyAll(topology: Topology, snapshot: ClusterSnapshot, dir: string): Promise<void> {
  const file = join(dir, 'cluster.yaml');
  await writeFile(file, renderSnapshotFile(snapshot));
  // Only the picture's own nodes: for a node it leaves out, wren refuses the picture (it cannot
  // be the whole cluster) and keeps what that node has.
  for (const node of topology.nodes.filter((n) => snapshot.nodes.some((c) => c.name === n.name))) {
    errors.length = 0;
    const code = await main(['apply', '--node', node.name, '--snapshot', file, '--netns', node.netns], silent);
    expect(errors.filter((e) => !e.startsWith('warning')), node.name).toEqual([]);
    expect(code, `wren apply on ${node.name}`).toBe(0);
  }
}

async function pingMatrix(topology: Topology, pods: readonly PodPlan[]) {
  const results: { from: string; to: string; ok: boolean; ttl: number | undefined; sameNode: boolean }[] = [];
  for (const from of pods) {
    const netns = topology.pods.find((p) => p.name === from.name)!.netns;
    const pings = await Promise.all(pods.filter((to) => to !== from).map(async (to) => ({ to, r: await ping(netns, to.ip, { count: 1, timeoutMs: 2000 }) })));
    for (const { to, r } of pings) results.push({ from: from.name, to: to.name, ok: r.ok, ttl: r.ttl, sameNode: from.node === to.node });
  }
  return results;
}

function expectTtls(results: Awaited<ReturnType<typeof pingMatrix>>) {
  expect(results.filter((r) => !r.ok)).toEqual([]);
  for (const r of results) expect(r.ttl, `${r.from} → ${r.to}`).toBe(r.sameNode ? 63 : 62);
}

describe('data path: VXLAN across three nodes', async () => {
  const { topology, pods, snapshot, dir } = await cluster('vx', ['172.16.30.0/24'], ['172.16.30.0/24', '172.16.30.0/24', '172.16.30.0/24'], 'Always');
  await applyAll(topology, snapshot, dir);
  const podNetns = (name: string) => topology.pods.find((p) => p.name === name)!.netns;

  it('every pod reaches every other pod: TTL 63 on the same node, 62 across nodes', async () => {
    const results = await pingMatrix(topology, pods);
    expect(results).toHaveLength(30);
    expectTtls(results);
  });

  it('the VXLAN MTU: 1422 bytes of payload cross with DF set, 1423 do not', async () => {
    const from = podNetns('pod-node-1-1');
    const to = pods.find((p) => p.name === 'pod-node-2-1')!.ip;
    expect((await ping(from, to, { count: 1, size: 1422, dontFragment: true })).ok).toBe(true);
    expect((await ping(from, to, { count: 1, size: 1423, dontFragment: true })).ok).toBe(false);
  });

  it('node removal and a node IP change move routes, neighbours and FDB entries on the others', async () => {
    const gone = 'node-3';
    const withoutNode3: ClusterSnapshot = {
      ...snapshot,
      nodes: snapshot.nodes.filter((n) => n.name !== gone),
      blocks: snapshot.blocks.filter((b) => b.affinityNode !== gone),
      workloads: snapshot.workloads.filter((w) => w.node !== gone),
    };
    await applyAll(topology, withoutNode3, dir);
    const node1 = new IpKernel(topology.node('node-1').netns);
    let state = await readKernel(node1, MAIN_TABLE);
    expect(state.routes.filter((r) => r.proto === 199).map((r) => r.dst)).not.toContain('10.244.2.0/26');
    expect(state.neighbors.map((n) => n.ip)).toEqual(['10.244.1.0']);
    expect(state.fdb.map((f) => f.dst)).toEqual([topology.node('node-2').ip]);

    const moved = await topology.setNodeAddress('node-2', '172.16.30.99');
    const renumbered: ClusterSnapshot = {
      ...withoutNode3,
      nodes: withoutNode3.nodes.map((n) => (n.name === 'node-2' ? { ...n, ipv4: { ip: moved.ip, cidr: moved.cidr } } : n)),
    };
    await applyAll(topology, renumbered, dir);
    state = await readKernel(node1, MAIN_TABLE);
    expect(state.fdb.map((f) => f.dst)).toEqual(['172.16.30.99']);
    const reply = await ping(podNetns('pod-node-1-1'), pods.find((p) => p.name === 'pod-node-2-1')!.ip, { count: 1 });
    expect(reply.ttl).toBe(62);
  });
});

describe('data path: no encapsulation', async () => {
  const { topology, pods, snapshot, dir } = await cluster('direct', ['172.16.30.0/24'], ['172.16.30.0/24', '172.16.30.0/24', '172.16.30.0/24'], 'Never');
  await applyAll(topology, snapshot, dir);

  it('every pod reaches every other pod directly over eth0, with no VXLAN device', async () => {
    const before = await linkCounters(topology.node('node-1').netns, 'eth0');
    expectTtls(await pingMatrix(topology, pods));
    const after = await linkCounters(topology.node('node-1').netns, 'eth0');
    expect(after.txPackets - before.txPackets).toBeGreaterThanOrEqual(2 * 4 * 2); // two pods, four remote peers, request + reply seen on eth0
    const links = await new IpKernel(topology.node('node-1').netns).readLinks();
    expect(links.some((l) => l.name === 'vxlan.calico')).toBe(false);
  });
});

describe('data path: CrossSubnet across two subnets joined by a router', async () => {
  const { topology, pods, snapshot, dir } = await cluster('xsub', ['172.16.30.0/24', '172.16.31.0/24'], ['172.16.30.0/24', '172.16.30.0/24', '172.16.31.0/24'], 'CrossSubnet');
  await applyAll(topology, snapshot, dir);
  const podNetns = (name: string) => topology.pods.find((p) => p.name === name)!.netns;
  const podIp = (name: string) => pods.find((p) => p.name === name)!.ip;

  it('every pod reaches every other pod', async () => {
    expectTtls(await pingMatrix(topology, pods));
  });

  it('same subnet goes direct, the other subnet through VXLAN (counted on vxlan.calico)', async () => {
    const n1 = topology.node('node-1').netns;
    const vx = async () => (await linkCounters(n1, 'vxlan.calico')).txPackets;
    let before = await vx();
    expect((await ping(podNetns('pod-node-1-1'), podIp('pod-node-2-1'), { count: 3, intervalMs: 10 })).received).toBe(3);
    expect(await vx()).toBe(before);
    before = await vx();
    expect((await ping(podNetns('pod-node-1-1'), podIp('pod-node-3-1'), { count: 3, intervalMs: 10 })).received).toBe(3);
    expect((await vx()) - before).toBe(3);
  });
});
