// lab/topology's host outside the cluster: its spec checked before anything exists (only a
// documentation address, never a real one; no clash with a node or subnet), and on the real
// kernel, behind the underlay's gateway (one subnet) or the router (two), reached by the nodes
// through their default route over IPv4 and IPv6, with no way back to a pod's address.
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { externalHostLines, externalUpstreamLines, resolveExternal, type ExternalSpec } from '../lab/topology/external.js';
import type { LabRunner, NetnsName, Subnet } from '../lab/topology/index.js';
import { createTopology, destroyByPrefix, execIn, kernelRunner, ping, Topology, TopologySpecError } from '../lab/topology/index.js';
import { resolveSubnets } from '../lab/topology/resolve.js';
import { namespacesUnder, podSpec } from './support/topology-kit.js';

/** Unique per run: the clean-up below can never take another run's namespaces. */
const RUN = `wren-t-topx-${randomBytes(2).toString('hex')}`;

afterAll(async () => {
  await destroyByPrefix(RUN);
  expect(await namespacesUnder(RUN)).toEqual([]);
});

const context = (subnets: Subnet[], nodes: string[] = ['node-1']) => ({
  netns: 'x-ex' as NetnsName,
  upstreamNetns: 'x-ul' as NetnsName,
  subnets,
  nodes: nodes.map((name) => ({ name })),
  mtu: 1500,
});
const v4 = resolveSubnets(['172.16.30.0/24']);

describe('resolveExternal', () => {
  it.each<[string, ExternalSpec, Subnet[], object]>([
    ['defaults', {}, v4, { name: 'outside', ip: '203.0.113.10', cidr: '203.0.113.10/24', gateway: '203.0.113.1', upstreamPort: 'ext0' }],
    ['TEST-NET-1', { name: 'world', ip: '192.0.2.77' }, v4, { name: 'world', ip: '192.0.2.77', cidr: '192.0.2.77/24', gateway: '192.0.2.1' }],
    ['TEST-NET-2', { ip: '198.51.100.254' }, v4, { cidr: '198.51.100.254/24', gateway: '198.51.100.1' }],
    ['IPv6 underlay', {}, resolveSubnets([{ cidr: '172.16.30.0/24', ipv6: 'fd00:30::/64' }]), { ipv6: '2001:db8::a', cidr6: '2001:db8::a/64', gateway6: '2001:db8::1' }],
  ])('%s', (_, spec, subnets, expected) => {
    const host = resolveExternal(spec, context(subnets));
    expect(host).toMatchObject(expected);
    if (!subnets.some((s) => s.ipv6)) expect(host.ipv6).toBeUndefined();
  });

  it.each<[string, ExternalSpec, Subnet[], RegExp]>([
    ['a real public address', { ip: '8.8.8.8' }, v4, /external\.ip: 8\.8\.8\.8 is not a documentation address/],
    ['a private address', { ip: '10.0.0.10' }, v4, /not a documentation address/],
    ['the upstream .1', { ip: '203.0.113.1' }, v4, /upstream \(203\.0\.113\.1\)/],
    ['the network address', { ip: '203.0.113.0' }, v4, /network, broadcast/],
    ['the broadcast address', { ip: '203.0.113.255' }, v4, /network, broadcast/],
    ['IPv6', { ip: '2001:db8::10' }, v4, /is not an IPv4 address/],
    ['text after the address', { ip: '203.0.113.10 dev lo' }, v4, /is not an IPv4 address/],
    ['a prefix', { ip: '203.0.113.10/24' }, v4, /is not an IPv4 address/],
    ['an upper-case name', { name: 'Outside' }, v4, /external\.name: "Outside" is not a lower-case DNS label/],
    ['a name with a line break', { name: 'out\nside' }, v4, /not a lower-case DNS label/],
    ['a node subnet on the segment', {}, resolveSubnets(['203.0.113.0/24']), /overlaps the node subnet 203\.0\.113\.0\/24/],
  ])('refuses %s', (_, spec, subnets, message) => {
    expect(() => resolveExternal(spec, context(subnets))).toThrow(TopologySpecError);
    expect(() => resolveExternal(spec, context(subnets))).toThrow(message);
  });

  it("refuses a node's name", () => {
    expect(() => resolveExternal({ name: 'node-1' }, context(v4))).toThrow(/node-1 is already a node's name/);
  });

  it('lines: the link born in the upstream, the host routing everything back to it', () => {
    const host = resolveExternal({}, context(resolveSubnets([{ cidr: '172.16.30.0/24', ipv6: 'fd00:30::/64' }])));
    expect(externalUpstreamLines(host)).toEqual([
      'link add ext0 mtu 1500 type veth peer name eth0 mtu 1500 netns x-ex',
      'link set ext0 up',
      'addr add 203.0.113.1/24 dev ext0',
      'addr add 2001:db8::1/64 dev ext0 nodad',
    ]);
    expect(externalHostLines(host)).toEqual([
      'link set lo up',
      'link set eth0 up',
      'addr add 203.0.113.10/24 dev eth0',
      'route add default via 203.0.113.1 dev eth0',
      'addr add 2001:db8::a/64 dev eth0 nodad',
      'route add default via 2001:db8::1 dev eth0',
    ]);
  });
});

describe('on the real kernel', () => {
  it('one subnet: behind the underlay gateway, one hop from every node, no way back to a pod', async () => {
    const topology = await createTopology({ prefix: RUN, subnets: ['172.16.30.0/24'], nodes: [{ name: 'a' }, { name: 'b' }], external: {} });
    try {
      const outside = topology.external!;
      expect(outside).toMatchObject({ name: 'outside', ip: '203.0.113.10', netns: `${topology.stem}-ex`, upstreamNetns: topology.underlayNetns });
      expect(topology.namespaces).toContain(outside.netns);
      for (const node of topology.nodes) {
        const there = await ping(node.netns, outside.ip);
        expect(there.ok, there.output).toBe(true);
        expect(there.ttl).toBe(63);
        expect((await ping(outside.netns, node.ip)).ttl).toBe(63);
      }
      // A pod's address is the cluster's alone: the outside's upstream has no route to it.
      const pod = await topology.addPod(podSpec('a', 'p', '10.244.0.5', { hostRoute: true }));
      const back = await ping(outside.netns, pod.ip, { timeoutMs: 500 });
      expect(back.received).toBe(0);
      expect((await execIn(topology.underlayNetns, ['ip', 'route', 'get', pod.ip])).stderr).toMatch(/Network is unreachable/);
    } finally {
      await topology.destroy();
    }
    expect(await namespacesUnder(topology.stem)).toEqual([]);
  });

  it('two subnets: behind the router, over IPv4 and IPv6; the underlay still forwards nothing', async () => {
    const topology = await createTopology({
      prefix: RUN,
      subnets: [{ cidr: '172.16.30.0/24', ipv6: 'fd00:30::/64' }, { cidr: '172.16.31.0/24', ipv6: 'fd00:31::/64' }],
      nodes: [{ name: 'a', subnet: '172.16.30.0/24' }, { name: 'b', subnet: '172.16.31.0/24' }],
      external: { name: 'internet', ip: '198.51.100.20' },
    });
    try {
      const outside = topology.external!;
      expect(outside.upstreamNetns).toBe(topology.routerNetns);
      for (const node of topology.nodes) {
        for (const ip of [outside.ip, outside.ipv6!]) {
          const there = await ping(node.netns, ip);
          expect(there.ok, `${node.name} → ${ip}\n${there.output}`).toBe(true);
          expect(there.ttl).toBe(63);
        }
      }
      expect((await execIn(topology.underlayNetns, ['sysctl', '-n', 'net.ipv4.ip_forward'])).stdout.trim()).toBe('0');
      // Saved and picked up again by another process (`wren lab`), it is the same host.
      expect(Topology.restore(topology.toState()).external).toEqual(outside);
    } finally {
      await topology.destroy();
    }
    expect(await namespacesUnder(topology.stem)).toEqual([]);
  });

  it('a build that fails at the outside host removes it with the rest', async () => {
    const prefix = `${RUN}-fail`;
    let batches = 0;
    const runner: LabRunner = {
      ...kernelRunner,
      async batch(netns, lines, options) {
        // underlay, node, outside's upstream, outside: the last one fails.
        if (++batches === 4) throw new Error(`injected failure in ${netns}`);
        return kernelRunner.batch(netns, lines, options);
      },
    };
    await expect(createTopology({ prefix, subnets: ['172.16.30.0/24'], nodes: [{ name: 'a' }], external: {} }, { runner })).rejects.toThrow(/injected failure in .*-ex/);
    expect(await namespacesUnder(prefix)).toEqual([]);
  });

  it('a clashing spec fails before any namespace exists', async () => {
    const prefix = `${RUN}-bad`;
    await expect(createTopology({ prefix, subnets: ['172.16.30.0/24'], nodes: [{ name: 'outside' }], external: {} })).rejects.toThrow(/outside is already a node's name/);
    expect(await namespacesUnder(prefix)).toEqual([]);
  });
});
