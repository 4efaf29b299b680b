// What `wren lab verify` expects of each pair, from the lab's shape alone (pure): the path the
// source node's kernel should choose and the TTL the reply should arrive with — with `--bgp` and
// no encapsulation, pods on different subnets go through the router (the fabric, TTL 61).
import { describe, expect, it } from 'vitest';
import { Lab } from '../lab/lab.js';
import type { LabState } from '../lab/state.js';
import { expectPath, expectTtl, type Path } from '../lab/verify.js';

const A = '172.16.30.0/24';
const B = '172.16.31.0/24';

function lab(encap: LabState['encap'], crossSubnet: boolean, bgp: boolean): Lab {
  const node = (name: string, subnet: string) => ({ name, subnet, netns: `wl-t-${name}`, ip: '', cidr: '', gateway: '', iface: 'eth0', mtu: 1500, underlayPort: 'nd1' });
  const state = {
    kind: 'wren-lab',
    version: 1,
    name: 't',
    encap,
    crossSubnet,
    topology: { stem: 'wl-t', subnets: [], mtu: 1500, nodes: [node('a1', A), node('a2', A), node('b1', crossSubnet ? B : A)], pods: [], made: [], nextNodeId: 4, nextPodId: 1 },
    agents: {},
    pods: [],
    ...(bgp ? { bgp: { router: { netns: 'wl-t-rt', asNumber: 64513, dir: '/run/wren-lab/t/_router/bird' } } } : {}),
  } as unknown as LabState;
  return new Lab(state);
}

describe('wren lab verify expectations', () => {
  it.each<[LabState['encap'], boolean, boolean, string, string, Path, number]>([
    ['none', true, true, 'a1', 'a1', 'local', 63],
    ['none', true, true, 'a1', 'a2', 'direct', 62],
    ['none', true, true, 'a1', 'b1', 'fabric', 61],
    ['none', true, true, 'b1', 'a2', 'fabric', 61],
    ['none', true, false, 'a1', 'b1', 'direct', 62],
    ['none', false, false, 'a1', 'b1', 'direct', 62],
    ['vxlan', true, true, 'a1', 'b1', 'vxlan', 62],
    ['vxlan', true, true, 'a1', 'a2', 'direct', 62],
    ['vxlan', false, false, 'a1', 'a2', 'vxlan', 62],
    ['ipip', true, false, 'a1', 'b1', 'ipip', 62],
  ])('%s, cross-subnet %s, bgp %s: %s → %s goes %s, TTL %i', (encap, crossSubnet, bgp, from, to, path, ttl) => {
    const expected = expectPath(lab(encap, crossSubnet, bgp), from, to);
    expect(expected).toBe(path);
    expect(expectTtl(expected)).toBe(ttl);
  });
});
