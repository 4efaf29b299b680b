// lab/topology on the real kernel: clusters of node namespaces on an underlay, pods wired the
// way Calico's CNI plugin wires them. The routes between nodes are wren's job, so these tests
// add them by hand with plain `ip route` to prove the plumbing carries traffic. TTLs are read
// from ping's own output: 64 leaves a pod, each routing hop takes one. Two subnets and a router:
// topology-router.test.ts; failures and clean-up: topology-failures.test.ts.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostCidr } from '../kernel/values.js';
import type { Pod, Topology } from '../lab/topology/index.js';
import { createTopology, destroyByPrefix, execIn, ipBatch, linkCounters, ping } from '../lab/topology/index.js';
import { directRoutes, namespacesUnder, pingAll, podSpec } from './support/topology-kit.js';

/** Unique per run: the clean-up below can never take another run's namespaces. */
const RUN = `wren-t-topo-${randomBytes(2).toString('hex')}`;
const ours = (prefix = RUN) => namespacesUnder(prefix);

afterAll(async () => {
  await destroyByPrefix(RUN);
  expect(await ours()).toEqual([]);
});

const SEED = [
  { name: 'minikube', ip: '172.16.30.6', pods: ['10.244.120.65', '10.244.120.66'] },
  { name: 'minikube-m02', ip: '172.16.30.7', pods: ['10.244.205.193', '10.244.205.194'] },
  { name: 'minikube-m03', ip: '172.16.30.8', pods: ['10.244.151.1', '10.244.151.2'] },
] as const;

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
