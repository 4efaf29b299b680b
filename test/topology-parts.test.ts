// lab/topology's pure parts, no root needed: spec validation and addressing, the exact lines
// and sysctls a pod and a node are made of, ping and counter parsing, name rules.
import { describe, expect, it } from 'vitest';
import { parseLinkCounters, parsePing, TopologySpecError } from '../lab/topology/index.js';
import { caliSysctls, hostRouteLines, nodeLines, podLines, podVethLines } from '../lab/topology/lines.js';
import type { NetnsName } from '../lab/topology/names.js';
import { ifaceNames, underPrefix } from '../lab/topology/names.js';
import { resolveNode, resolvePod, resolveSubnets } from '../lab/topology/resolve.js';
import type { TopologyNode } from '../lab/topology/types.js';

const subnets = resolveSubnets([{ cidr: '172.16.30.0/24', ipv6: 'fd00:30::/64' }, '172.16.31.0/24']);
const ctx = (existing: TopologyNode[] = [], id = 1) => ({ subnets, existing, mtu: 1500, netns: `t-n${id}` as NetnsName, id });

describe('addressing', () => {
  it('gateways default to the first host; IPv6 node addresses mirror the IPv4 host part', () => {
    expect(subnets.map((s) => [s.cidr, s.gateway, s.ipv6?.gateway, s.bridge])).toEqual([
      ['172.16.30.0/24', '172.16.30.1', 'fd00:30::1', 'br0'],
      ['172.16.31.0/24', '172.16.31.1', undefined, 'br1'],
    ]);
    expect(resolveNode({ name: 'm02', ip: '172.16.30.7' }, 'nodes[0]', ctx())).toMatchObject({
      ip: '172.16.30.7', cidr: '172.16.30.7/24', gateway: '172.16.30.1', ipv6: 'fd00:30::7', cidr6: 'fd00:30::7/64', gateway6: 'fd00:30::1', underlayPort: 'nd1',
    });
  });

  it('without an address a node takes the lowest free host, skipping the gateway and taken ones', () => {
    const first = resolveNode({ name: 'a', subnet: '172.16.31.0/24' }, 'nodes[0]', ctx());
    const second = resolveNode({ name: 'b', subnet: '172.16.31.0/24' }, 'nodes[1]', ctx([first], 2));
    expect([first.ip, second.ip, first.ipv6]).toEqual(['172.16.31.2', '172.16.31.3', undefined]);
  });

  it.each([
    ['nodes[0].ip', { name: 'a', ip: '172.16.30.255' }],
    ['nodes[0].ip', { name: 'a', ip: '172.16.30.0' }],
    ['nodes[0].ip', { name: 'a', ip: 'fd00:30::5' }],
    ['nodes[0].ipv6', { name: 'a', subnet: '172.16.31.0/24', ipv6: 'fd00:31::5' }],
    ['nodes[0].mtu', { name: 'a', mtu: 1000 }],
    ['nodes[0].name', { name: '' }],
  ])('refuses %s in %j', (field, spec) => {
    expect(() => resolveNode(spec, 'nodes[0]', ctx())).toThrow(expect.objectContaining({ name: 'TopologySpecError', field }));
  });

  it('refuses subnets that overlap, have host bits, or are too small', () => {
    expect(() => resolveSubnets(['10.0.0.0/8', '10.1.0.0/16'])).toThrow(TopologySpecError);
    expect(() => resolveSubnets(['172.16.30.0/31'])).toThrow(/no room/);
    expect(() => resolveSubnets([{ cidr: '172.16.30.0/24', gateway: '172.16.31.1' }])).toThrow(/not in 172.16.30.0\/24/);
    expect(() => resolveSubnets([])).toThrow(/at least one/);
  });
});

describe('what a pod is made of (Calico CNI)', () => {
  const node = resolveNode({ name: 'm02', ip: '172.16.30.7' }, 'nodes[0]', ctx());
  const pod = resolvePod(
    { node: 'm02', namespace: 'default', name: 'nginx', ip: ['fd00:10::5', '10.244.205.193'], iface: 'calic440f455693', mtu: 1450 },
    'pod',
    { node, existing: [], netns: 't-p1' as NetnsName },
  );

  it('keeps IPv4 first and the node MTU unless told', () => {
    expect(pod).toMatchObject({ ip: '10.244.205.193', ips: ['10.244.205.193', 'fd00:10::5'], mtu: 1450 });
  });

  it('host side: ee:ee:… veth created with its pod end inside the pod namespace, then up', () => {
    expect(podVethLines(pod)).toEqual([
      'link add calic440f455693 mtu 1450 address ee:ee:ee:ee:ee:ee type veth peer name eth0 mtu 1450 netns t-p1',
      'link set calic440f455693 up',
    ]);
    expect(hostRouteLines(pod)).toEqual(['route replace 10.244.205.193/32 dev calic440f455693 scope link', 'route replace fd00:10::5/128 dev calic440f455693 scope link']);
  });

  it('pod side: /32 and /128, the 169.254.1.1 link route, defaults via it and via cali’s link-local', () => {
    expect(podLines(pod)).toEqual([
      'link set lo up',
      'link set eth0 up',
      'addr add 10.244.205.193/32 dev eth0',
      'route add 169.254.1.1 dev eth0 scope link',
      'route add default via 169.254.1.1 dev eth0',
      'addr add fd00:10::5/128 dev eth0 nodad',
      'route add default via fe80::ecee:eeff:feee:eeee dev eth0',
    ]);
  });

  it('sysctls on the cali side, IPv6 ones because the pod has IPv6', () => {
    expect(caliSysctls(pod).map((s) => `${s.key}=${s.value}`)).toEqual([
      'net/ipv4/conf/calic440f455693/proxy_arp=1',
      'net/ipv4/neigh/calic440f455693/proxy_delay=0',
      'net/ipv4/conf/calic440f455693/forwarding=1',
      'net/ipv4/conf/calic440f455693/route_localnet=1',
      'net/ipv6/conf/calic440f455693/proxy_ndp=1',
      'net/ipv6/conf/calic440f455693/accept_dad=0',
      'net/ipv6/conf/calic440f455693/accept_ra=0',
      'net/ipv6/conf/calic440f455693/forwarding=1',
    ]);
  });

  it('refuses a name that is not an interface name, and two addresses of one family', () => {
    const bad = (spec: object) => () => resolvePod({ node: 'm02', namespace: 'd', name: 'p', ip: '10.0.0.1', iface: 'cali1', ...spec }, 'pod', { node, existing: [pod], netns: 't-p2' as NetnsName });
    expect(bad({ iface: 'cali 1' })).toThrow(expect.objectContaining({ field: 'pod.iface' }));
    expect(bad({ iface: 'calic440f455693' })).toThrow(/already has/);
    expect(bad({ ip: ['10.0.0.1', '10.0.0.2'] })).toThrow(expect.objectContaining({ field: 'pod.ip' }));
    expect(bad({ ip: '10.244.205.193' })).toThrow(/already a pod's address/);
  });

  it('node: address, default route via the gateway (which is what lets proxy ARP answer)', () => {
    expect(nodeLines(node)).toEqual([
      'link set lo up',
      'link set eth0 up',
      'addr add 172.16.30.7/24 dev eth0',
      'addr add fd00:30::7/64 dev eth0 nodad',
      'route add default via 172.16.30.1 dev eth0',
      'route add default via fd00:30::1 dev eth0',
    ]);
  });
});

describe('parsing', () => {
  it('ping: replies and TTLs', () => {
    const out = [
      'PING 10.244.151.1 (10.244.151.1) 56(84) bytes of data.',
      '64 bytes from 10.244.151.1: icmp_seq=1 ttl=62 time=0.081 ms',
      '64 bytes from 10.244.151.1: icmp_seq=2 ttl=62 time=0.050 ms',
      '',
      '--- 10.244.151.1 ping statistics ---',
      '2 packets transmitted, 2 received, 0% packet loss, time 1001ms',
    ].join('\n');
    expect(parsePing(out, 2, 0)).toMatchObject({ ok: true, transmitted: 2, received: 2, ttl: 62, ttls: [62, 62], reportedMtu: undefined });
  });

  it('ping: a router’s "Frag needed" and the local "message too long" both give the MTU', () => {
    const remote = [
      'PING 10.244.151.1 (10.244.151.1) 1472(1500) bytes of data.',
      'From 172.16.30.1 icmp_seq=1 Frag needed and DF set (mtu = 1400)',
      '',
      '--- 10.244.151.1 ping statistics ---',
      '1 packets transmitted, 0 received, +1 errors, 100% packet loss, time 0ms',
    ].join('\n');
    expect(parsePing(remote, 1, 1)).toMatchObject({ ok: false, transmitted: 1, received: 0, ttl: undefined, reportedMtu: 1400 });
    expect(parsePing('ping: local error: message too long, mtu=1450\n', 1, 1)).toMatchObject({ ok: false, transmitted: 0, reportedMtu: 1450 });
    expect(parsePing('ping: connect: Network is unreachable\n', 1, 2)).toMatchObject({ ok: false, transmitted: 0, received: 0 });
  });

  it('link counters from `ip -j -s link`', () => {
    const json = JSON.stringify([{ ifname: 'eth0', stats64: { rx: { bytes: 980, packets: 10 }, tx: { bytes: 490, packets: 5 } } }]);
    expect(parseLinkCounters(json)).toEqual({ rxPackets: 10, txPackets: 5, rxBytes: 980, txBytes: 490 });
    expect(parseLinkCounters('[{"ifname":"eth0"}]')).toBeUndefined();
  });
});

describe('names', () => {
  it('generated interface names fit IFNAMSIZ for any realistic counter', () => {
    expect([ifaceNames.nodePort(99999), ifaceNames.routerLeg(3), ifaceNames.bridge(12)]).toEqual(['nd99999', 'eth3', 'br12']);
  });

  it('a prefix matches whole components only', () => {
    expect(underPrefix('wren-t-topo-1a2b-ff00aa-n1', 'wren-t-topo-1a2b')).toBe(true);
    expect(underPrefix('wren-t-topo-1a2bc-ff00aa-n1', 'wren-t-topo-1a2b')).toBe(false);
  });
});
