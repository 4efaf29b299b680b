// lab/topology on the real kernel with two subnets joined by a router namespace: legs and
// gateways on each subnet, the IPv6 underlay, pods one, two and three hops apart, and IPv6 pods
// routed via the cali link-local as Calico does. Routes between nodes are added by hand.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostCidr } from '../kernel/values.js';
import type { Pod, Topology } from '../lab/topology/index.js';
import { createTopology, destroyByPrefix, execIn, ipBatch, ping } from '../lab/topology/index.js';
import { directRoutes, namespacesUnder, pingAll, podSpec } from './support/topology-kit.js';

/** Unique per run: the clean-up below can never take another run's namespaces. */
const RUN = `wren-t-topr-${randomBytes(2).toString('hex')}`;

afterAll(async () => {
  await destroyByPrefix(RUN);
  expect(await namespacesUnder(RUN)).toEqual([]);
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
