// lab/topology on the real kernel: clusters of node namespaces on an underlay, pods wired the
// way Calico's CNI plugin wires them. The routes between nodes are wren's job, so these tests
// add them by hand with plain `ip route` to prove the plumbing carries traffic. TTLs are read
// from ping's own output: 64 leaves a pod, each routing hop takes one.
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostCidr } from '../kernel/values.js';
import type { LabRunner, Pod, PodSpec, Topology, TopologyNode } from '../lab/topology/index.js';
import {
  createTopology, destroyByPrefix, execIn, hostRouteLines, ipBatch, kernelRunner, linkCounters, listNetns, ping, TopologySpecError,
} from '../lab/topology/index.js';

/** Unique per run: the clean-up below can never take another run's namespaces. */
const RUN = `wren-t-topo-${randomBytes(2).toString('hex')}`;
const ours = async (prefix = RUN) => (await listNetns()).filter((n) => n === prefix || n.startsWith(`${prefix}-`));

afterAll(async () => {
  await destroyByPrefix(RUN);
  expect(await ours()).toEqual([]);
});

/** Calico's host-side name (calico.md §7): cali + 11 hex of SHA-1("<namespace>.<pod>"). */
const cali = (namespace: string, pod: string) => `cali${createHash('sha1').update(`${namespace}.${pod}`).digest('hex').slice(0, 11)}`;
const podSpec = (node: string, name: string, ip: string | string[], extra: Partial<PodSpec> = {}): PodSpec => ({
  node, namespace: 'default', name, ip, iface: cali('default', name), ...extra,
});

const SEED = [
  { name: 'minikube', ip: '172.16.30.6', pods: ['10.244.120.65', '10.244.120.66'] },
  { name: 'minikube-m02', ip: '172.16.30.7', pods: ['10.244.205.193', '10.244.205.194'] },
  { name: 'minikube-m03', ip: '172.16.30.8', pods: ['10.244.151.1', '10.244.151.2'] },
] as const;

/** Each node: its own pods via their cali (what the CNI adds), others' via their node. */
function directRoutes(node: TopologyNode, pods: readonly Pod[], nodes: readonly TopologyNode[], via = (n: TopologyNode) => n.ip): string[] {
  return pods.flatMap((pod) => {
    if (pod.node === node.name) return hostRouteLines(pod);
    const owner = nodes.find((n) => n.name === pod.node);
    return owner === undefined ? [] : [`route replace ${hostCidr(pod.ip)} via ${via(owner)} dev eth0`];
  });
}

async function pingAll(pods: readonly Pod[], nodeOf: (pod: Pod) => string) {
  const pairs = pods.flatMap((from) => pods.filter((to) => to !== from).map((to) => ({ from, to })));
  return Promise.all(
    pairs.map(async ({ from, to }) => {
      const result = await ping(from.netns, to.ip);
      return { pair: `${from.name}@${nodeOf(from)} → ${to.name}@${nodeOf(to)}`, sameNode: from.node === to.node, ok: result.ok, ttl: result.ttl, output: result.output };
    }),
  );
}

describe('one subnet, 3 nodes × 2 pods, direct routing added by hand', () => {
  let topology: Topology;
  let pods: Pod[];
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    const start = performance.now();
    topology = await createTopology({
      prefix: RUN,
      subnets: ['172.16.30.0/24'],
      nodes: SEED.map(({ name, ip }) => ({ name, ip })),
    });
    pods = await topology.addPods(SEED.flatMap(({ name, pods: ips }) => ips.map((ip, i) => podSpec(name, `${name}-pod${i}`, ip))));
    timings.build = performance.now() - start;
    const routesStart = performance.now();
    await Promise.all(topology.nodes.map((node) => ipBatch(node.netns, directRoutes(node, pods, topology.nodes))));
    timings.routes = performance.now() - routesStart;
  });

  afterAll(async () => {
    await topology?.destroy();
    console.info(`topology 3 nodes × 2 pods: build ${timings.build?.toFixed(0)} ms, hand routes ${timings.routes?.toFixed(0)} ms, destroy ${timings.destroy?.toFixed(0)} ms`);
  });

  it('builds 3 nodes × 2 pods well under 2 s', () => {
    expect(topology.nodes.map((n) => [n.name, n.cidr, n.gateway, n.iface])).toEqual([
      ['minikube', '172.16.30.6/24', '172.16.30.1', 'eth0'],
      ['minikube-m02', '172.16.30.7/24', '172.16.30.1', 'eth0'],
      ['minikube-m03', '172.16.30.8/24', '172.16.30.1', 'eth0'],
    ]);
    expect(topology.routerNetns).toBeUndefined();
    expect(pods).toHaveLength(6);
    for (const pod of pods) expect(pod.iface).toMatch(/^cali[0-9a-f]{11}$/);
    expect(timings.build).toBeLessThan(2000);
  });

  it('a node looks like a Kubernetes node: eth0 on the underlay, default route, forwarding, loose rp_filter', async () => {
    const node = topology.node('minikube-m02');
    const addr = JSON.parse((await execIn(node.netns, ['ip', '-j', 'addr', 'show', 'dev', 'eth0'])).stdout) as { mtu: number; operstate: string; addr_info: { local: string; prefixlen: number }[] }[];
    expect(addr[0]).toMatchObject({ mtu: 1500, operstate: 'UP' });
    expect(addr[0]?.addr_info.filter((a) => a.local.includes('.'))).toEqual([expect.objectContaining({ local: '172.16.30.7', prefixlen: 24 })]);
    expect((await execIn(node.netns, ['ip', 'route', 'show', 'default'])).stdout.trim()).toBe('default via 172.16.30.1 dev eth0');
    const sysctl = await execIn(node.netns, ['sysctl', '-n', 'net.ipv4.ip_forward', 'net.ipv6.conf.all.forwarding', 'net.ipv4.conf.all.rp_filter']);
    expect(sysctl.stdout.split('\n').filter(Boolean)).toEqual(['1', '1', '2']);
  });

  it('a pod looks like Calico made it: /32 on eth0, 169.254.1.1 link route, default via it; cali side ee:ee:…, proxy ARP', async () => {
    const pod = pods.find((p) => p.node === 'minikube-m03') as Pod;
    const node = topology.node(pod.node);
    expect((await execIn(pod.netns, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0'])).stdout).toContain(`inet ${pod.ip}/32 scope global eth0`);
    expect((await execIn(pod.netns, ['ip', 'route'])).stdout.trim().split('\n').map((l) => l.trim())).toEqual(['default via 169.254.1.1 dev eth0', '169.254.1.1 dev eth0 scope link']);
    const link = JSON.parse((await execIn(node.netns, ['ip', '-j', 'link', 'show', 'dev', pod.iface])).stdout) as { address: string; operstate: string; mtu: number }[];
    expect(link[0]).toMatchObject({ address: 'ee:ee:ee:ee:ee:ee', operstate: 'UP', mtu: 1500 });
    const keys = ['conf/%/proxy_arp', 'neigh/%/proxy_delay', 'conf/%/forwarding'].map((k) => `net/ipv4/${k.replace('%', pod.iface)}`);
    expect((await execIn(node.netns, ['sysctl', '-n', ...keys])).stdout.split('\n').filter(Boolean)).toEqual(['1', '0', '1']);
  });

  it('every pod reaches every pod: TTL 63 on the same node, 62 across nodes', async () => {
    const results = await pingAll(pods, (p) => p.node);
    expect(results).toHaveLength(30);
    for (const r of results) {
      expect(r.ok, `${r.pair}\n${r.output}`).toBe(true);
      expect(r.ttl, r.pair).toBe(r.sameNode ? 63 : 62);
    }
  });

  it('linkCounters sees cross-node pod traffic on the underlay port and the cali veth', async () => {
    const [from, to] = [pods[0] as Pod, pods[5] as Pod];
    const port = topology.node(from.node).underlayPort;
    const [portBefore, caliBefore] = await Promise.all([linkCounters(topology.underlayNetns, port), linkCounters(topology.node(to.node).netns, to.iface)]);
    expect((await ping(from.netns, to.ip, { count: 5, intervalMs: 10 })).received).toBe(5);
    const [portAfter, caliAfter] = await Promise.all([linkCounters(topology.underlayNetns, port), linkCounters(topology.node(to.node).netns, to.iface)]);
    // The underlay port receives what the node sends; the cali veth transmits towards the pod.
    expect(portAfter.rxPackets - portBefore.rxPackets).toBeGreaterThanOrEqual(5);
    expect(caliAfter.txPackets - caliBefore.txPackets).toBeGreaterThanOrEqual(5);
    expect(caliAfter.txBytes).toBeGreaterThan(caliBefore.txBytes);
  });

  it('ping reports the MTU when a DF probe does not fit', async () => {
    const [from, to] = [pods[0] as Pod, pods[5] as Pod];
    expect((await ping(from.netns, to.ip, { size: 1472, dontFragment: true })).ttl).toBe(62);
    const tooBig = await ping(from.netns, to.ip, { size: 1473, dontFragment: true, timeoutMs: 300 });
    expect(tooBig).toMatchObject({ ok: false, received: 0, reportedMtu: 1500 });
  });

  it('a pod removed and re-added under the same cali name works at once', async () => {
    const old = pods.find((p) => p.name === 'minikube-pod1') as Pod;
    await topology.removePod(old);
    expect(await ours(old.netns)).toEqual([]);
    const again = await topology.addPod(podSpec('minikube', 'minikube-pod1', old.ip, { hostRoute: true }));
    expect(again.iface).toBe(old.iface);
    pods = pods.map((p) => (p === old ? again : p));
    expect((await ping(pods[5]?.netns ?? '', again.ip)).ttl).toBe(62);
  });

  it('a node added later is on the underlay; removed, its namespaces go', async () => {
    const extra = await topology.addNode({ name: 'minikube-m04' });
    expect(extra.ip).toBe('172.16.30.2');
    const pod = await topology.addPod(podSpec('minikube-m04', 'late', '10.244.9.1', { hostRoute: true }));
    expect((await ping(topology.node('minikube').netns, extra.ip)).ttl).toBe(64);
    expect((await ping(extra.netns, pod.ip)).ttl).toBe(64);
    await topology.removeNode(extra);
    expect(await ours(extra.netns)).toEqual([]);
    expect(await ours(pod.netns)).toEqual([]);
    expect(topology.pods.map((p) => p.name)).not.toContain('late');
  });

  it('setNodeAddress moves a node to a new IP: routes via the old one break, via the new one work', async () => {
    const [from, to] = [pods[0] as Pod, pods.find((p) => p.node === 'minikube-m03') as Pod];
    const moved = await topology.setNodeAddress('minikube-m03', '172.16.30.18');
    expect(moved).toMatchObject({ ip: '172.16.30.18', cidr: '172.16.30.18/24' });
    expect((await execIn(moved.netns, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0'])).stdout).toMatch(/inet 172\.16\.30\.18\/24 .*eth0/);
    expect((await execIn(moved.netns, ['ip', 'route', 'show', 'default'])).stdout.trim()).toBe('default via 172.16.30.1 dev eth0');
    // The sender's neighbour entry for .8 would still carry m03's MAC and keep the old route
    // working until it expires: forget it, as the kernel eventually does.
    await ipBatch(topology.node(from.node).netns, ['neigh flush dev eth0']);
    expect((await ping(from.netns, to.ip, { timeoutMs: 300 })).ok).toBe(false);
    await ipBatch(topology.node(from.node).netns, [`route replace ${hostCidr(to.ip)} via ${moved.ip} dev eth0`]);
    expect((await ping(from.netns, to.ip)).ttl).toBe(62);
  });

  it('destroy removes every namespace, and again is a no-op', async () => {
    const names = topology.namespaces;
    expect(names.length).toBe(1 + 3 + 6);
    const start = performance.now();
    await topology.destroy();
    timings.destroy = performance.now() - start;
    expect(await ours(topology.stem)).toEqual([]);
    await topology.destroy();
    expect(topology.nodes).toEqual([]);
  });
});

describe('MTU', () => {
  it('the underlay and each pod veth take the MTU asked for, and a DF probe of exactly that size passes', async () => {
    const topology = await createTopology({ prefix: RUN, subnets: ['172.16.30.0/24'], mtu: 9000, nodes: [{ name: 'a' }, { name: 'b', mtu: 1500 }] });
    try {
      const pod = await topology.addPod(podSpec('a', 'p', '10.244.0.1', { mtu: 8950, hostRoute: true }));
      const mtuOf = async (netns: string, dev: string) => (JSON.parse((await execIn(netns, ['ip', '-j', 'link', 'show', 'dev', dev])).stdout) as { mtu: number }[])[0]?.mtu;
      const [a, b] = [topology.node('a'), topology.node('b')];
      expect(await Promise.all([mtuOf(a.netns, 'eth0'), mtuOf(topology.underlayNetns, a.underlayPort), mtuOf(b.netns, 'eth0')])).toEqual([9000, 9000, 1500]);
      expect(await Promise.all([mtuOf(a.netns, pod.iface), mtuOf(pod.netns, 'eth0')])).toEqual([8950, 8950]);
      // 8950 − 20 (IPv4) − 8 (ICMP) = 8922 bytes of payload fit; one more does not leave the pod.
      expect((await ping(a.netns, pod.ip, { size: 8922, dontFragment: true })).ttl).toBe(64);
      expect(await ping(pod.netns, a.ip, { size: 8923, dontFragment: true, timeoutMs: 300 })).toMatchObject({ ok: false, reportedMtu: 8950 });
    } finally {
      await topology.destroy();
    }
  });
});

describe('two subnets joined by a router', () => {
  let topology: Topology;
  let pods: Pod[];
  const subnetOf = (pod: Pod) => topology.node(pod.node).subnet;

  beforeAll(async () => {
    topology = await createTopology({
      prefix: RUN,
      subnets: [{ cidr: '172.16.30.0/24', ipv6: 'fd00:30::/64' }, { cidr: '172.16.31.0/24', ipv6: 'fd00:31::/64' }],
      nodes: [
        { name: 'a1', subnet: '172.16.30.0/24', ip: '172.16.30.6' },
        { name: 'a2', subnet: '172.16.30.0/24', ip: '172.16.30.7' },
        { name: 'b1', subnet: '172.16.31.0/24', ip: '172.16.31.6' },
      ],
    });
    pods = await topology.addPods([
      podSpec('a1', 'a1-p', ['10.244.1.1', 'fd00:10:244:1::1']),
      podSpec('a1', 'a1-q', ['10.244.1.2', 'fd00:10:244:1::2']),
      podSpec('a2', 'a2-p', '10.244.2.1'),
      podSpec('b1', 'b1-p', '10.244.3.1'),
    ]);
    // Same-subnet peers: direct. Other subnet: nothing on the node (its default route leads to
    // the router); the router is a plain router here, so it learns the pods' /32s by hand.
    await Promise.all(
      topology.nodes.map((node) => {
        const peers = topology.nodes.filter((n) => n.subnet === node.subnet);
        return ipBatch(node.netns, directRoutes(node, pods.filter((p) => peers.some((n) => n.name === p.node)), peers));
      }),
    );
    await ipBatch(topology.routerNetns ?? '', pods.map((p) => `route add ${hostCidr(p.ip)} via ${topology.node(p.node).ip}`));
  });

  afterAll(async () => {
    await topology?.destroy();
  });

  it('has a router with a leg and the gateway on each subnet', async () => {
    expect(topology.routerNetns).toBeDefined();
    const addrs = (await execIn(topology.routerNetns ?? '', ['ip', '-o', 'addr', 'show'])).stdout;
    expect(addrs).toMatch(/eth0 +inet 172\.16\.30\.1\/24/);
    expect(addrs).toMatch(/eth1 +inet 172\.16\.31\.1\/24/);
    expect(topology.nodes.map((n) => [n.name, n.gateway, n.ipv6, n.gateway6])).toEqual([
      ['a1', '172.16.30.1', 'fd00:30::6', 'fd00:30::1'],
      ['a2', '172.16.30.1', 'fd00:30::7', 'fd00:30::1'],
      ['b1', '172.16.31.1', 'fd00:31::6', 'fd00:31::1'],
    ]);
  });

  it('nodes reach each other across the router, over IPv4 and the IPv6 underlay (one hop: 63)', async () => {
    const [a1, b1] = [topology.node('a1'), topology.node('b1')];
    expect((await ping(a1.netns, b1.ip)).ttl).toBe(63);
    const v6 = await ping(a1.netns, b1.ipv6 ?? '');
    expect(v6.ok, v6.output).toBe(true);
    expect(v6.ttl).toBe(63);
  });

  it('pods: 63 on one node, 62 direct on one subnet, 61 through the router', async () => {
    const results = await pingAll(pods, (p) => p.node);
    const expected = (from: Pod, to: Pod) => (from.node === to.node ? 63 : subnetOf(from) === subnetOf(to) ? 62 : 61);
    for (const r of results) {
      const [from, to] = r.pair.split(' → ').map((s) => pods.find((p) => s.startsWith(`${p.name}@`)) as Pod);
      expect(r.ok, `${r.pair}\n${r.output}`).toBe(true);
      expect(r.ttl, r.pair).toBe(expected(from as Pod, to as Pod));
    }
  });

  it('IPv6 pods route via the cali link-local (fe80::ecee:eeff:feee:eeee) with proxy_ndp set', async () => {
    const [p, q] = [pods[0] as Pod, pods[1] as Pod];
    expect((await execIn(p.netns, ['ip', '-6', 'route', 'show', 'default'])).stdout).toContain('default via fe80::ecee:eeff:feee:eeee dev eth0');
    const node = topology.node(p.node);
    expect((await execIn(node.netns, ['sysctl', '-n', `net.ipv6.conf.${p.iface}.proxy_ndp`, `net.ipv6.conf.${p.iface}.accept_dad`])).stdout.split('\n').filter(Boolean)).toEqual(['1', '0']);
    const v6 = await ping(p.netns, q.ips[1] ?? '');
    expect(v6.ok, v6.output).toBe(true);
    expect(v6.ttl).toBe(63);
  });
});

/** The real kernel, failing on purpose at the n-th call of one kind. */
function failingRunner(kind: 'batch' | 'sysctl', nth: number): LabRunner & { calls: number } {
  const runner = {
    ...kernelRunner,
    calls: 0,
    async batch(netns: Parameters<LabRunner['batch']>[0], lines: readonly string[], options?: { force?: boolean }) {
      if (kind === 'batch' && ++runner.calls === nth) throw new Error(`injected failure in ${netns}`);
      return kernelRunner.batch(netns, lines, options);
    },
    async sysctl(netns: Parameters<LabRunner['sysctl']>[0], settings: Parameters<LabRunner['sysctl']>[1]) {
      if (kind === 'sysctl' && ++runner.calls === nth) throw new Error(`injected failure in ${netns}`);
      return kernelRunner.sysctl(netns, settings);
    },
  };
  return runner;
}

describe('failure and clean-up', () => {
  it('a build that fails halfway removes everything it had made', async () => {
    const prefix = `${RUN}-half`;
    const runner = failingRunner('batch', 3);
    await expect(
      createTopology({ prefix, subnets: ['172.16.30.0/24', '172.16.31.0/24'], nodes: [{ name: 'a' }, { name: 'b', subnet: '172.16.31.0/24' }] }, { runner }),
    ).rejects.toThrow(/injected failure/);
    expect(runner.calls).toBe(4); // the third failed while the fourth ran beside it
    expect(await ours(prefix)).toEqual([]);
  });

  it('pods that fail halfway leave the topology as it was', async () => {
    const runner = failingRunner('sysctl', 2);
    const topology = await createTopology({ prefix: RUN, subnets: ['172.16.30.0/24'], nodes: [{ name: 'a' }] }, { runner });
    try {
      await expect(topology.addPods([podSpec('a', 'x', '10.244.0.1'), podSpec('a', 'y', '10.244.0.2')])).rejects.toThrow(/injected failure/);
      expect(topology.pods).toEqual([]);
      expect((await ours(topology.stem)).sort()).toEqual([`${topology.stem}-n1`, `${topology.stem}-ul`]);
      const pod = await topology.addPod(podSpec('a', 'x', '10.244.0.1', { hostRoute: true }));
      expect((await ping(topology.node('a').netns, pod.ip)).ttl).toBe(64);
    } finally {
      await topology.destroy();
    }
    expect(await ours(topology.stem)).toEqual([]);
  });

  it('destroyByPrefix cleans up after a run that never called destroy (a crash)', async () => {
    const prefix = `${RUN}-crash`;
    const lost = await createTopology({ prefix, subnets: ['172.16.30.0/24', '172.16.31.0/24'], nodes: [{ name: 'a' }] });
    await lost.addPod(podSpec('a', 'p', '10.244.0.1'));
    const removed = await destroyByPrefix(prefix);
    expect(removed.sort()).toEqual([...lost.namespaces].sort());
    expect(await ours(prefix)).toEqual([]);
  });

  it.each([
    ['prefix', { prefix: 'Bad Prefix!', subnets: ['172.16.30.0/24'] }],
    ['subnets[1].cidr', { prefix: RUN, subnets: ['172.16.30.0/24', '172.16.30.128/25'] }],
    ['subnets[0].cidr', { prefix: RUN, subnets: ['172.16.30.1/24'] }],
    ['nodes[0].ip', { prefix: RUN, subnets: ['172.16.30.0/24'], nodes: [{ name: 'a', ip: '172.16.31.5' }] }],
    ['nodes[1].ip', { prefix: RUN, subnets: ['172.16.30.0/24'], nodes: [{ name: 'a', ip: '172.16.30.5' }, { name: 'b', ip: '172.16.30.5' }] }],
    ['nodes[0].ip', { prefix: RUN, subnets: ['172.16.30.0/24'], nodes: [{ name: 'a', ip: '172.16.30.1' }] }],
    ['nodes[1].name', { prefix: RUN, subnets: ['172.16.30.0/24'], nodes: [{ name: 'a' }, { name: 'a' }] }],
    ['nodes[0].subnet', { prefix: RUN, subnets: ['172.16.30.0/24'], nodes: [{ name: 'a', subnet: '10.0.0.0/8' }] }],
    ['mtu', { prefix: RUN, subnets: ['172.16.30.0/24'], mtu: 70000 }],
  ])('a bad spec (%s) is refused before any namespace exists', async (field, spec) => {
    const before = await ours();
    await expect(createTopology(spec)).rejects.toMatchObject({ name: 'TopologySpecError', field });
    expect(await ours()).toEqual(before);
  });

  it('bad pods are refused with the field named, nothing created', async () => {
    const topology = await createTopology({ prefix: RUN, subnets: ['172.16.30.0/24'], nodes: [{ name: 'a' }] });
    try {
      const before = await ours(topology.stem);
      await expect(topology.addPod({ ...podSpec('a', 'p', '10.244.0.1'), iface: 'cali0123456789abc' })).rejects.toBeInstanceOf(TopologySpecError);
      await expect(topology.addPod({ ...podSpec('a', 'p', '10.244.0.1'), iface: 'cali1; reboot' })).rejects.toMatchObject({ field: 'pod.iface' });
      await expect(topology.addPod(podSpec('nope', 'p', '10.244.0.1'))).rejects.toMatchObject({ field: 'pod.node' });
      await expect(topology.addPods([podSpec('a', 'p', '10.244.0.1'), podSpec('a', 'p', '10.244.0.2')])).rejects.toMatchObject({ field: 'pods[1].iface' });
      await expect(topology.addPods([podSpec('a', 'p', '10.244.0.1'), podSpec('a', 'q', '10.244.0.1')])).rejects.toMatchObject({ field: 'pods[1].ip' });
      await expect(topology.setNodeAddress('a', '172.16.31.9')).rejects.toBeInstanceOf(TopologySpecError);
      expect(await ours(topology.stem)).toEqual(before);
    } finally {
      await topology.destroy();
    }
  });
});
