import { describe, expect, it } from 'vitest';
import type { Link } from '../kernel/state.js';
import type { Cidr, IpAddr, Mac } from '../kernel/values.js';
import { planIpip, planVxlan, vxlanIncompatibility } from '../tunnels/device-plan.js';
import { detectHostMtu, detectNodeAddress, interfaceCarrying } from '../tunnels/host-facts.js';
import { desiredIpip } from '../tunnels/ipip.js';
import { computeMtus, MtuError } from '../tunnels/mtu.js';
import { diffEntries } from '../tunnels/neighbor-diff.js';
import { desiredVxlan } from '../tunnels/vxlan.js';
import { derivedVtepMac } from '../tunnels/vtep-mac.js';
import { iface, seedCluster } from './support/seed-cluster.js';

describe('VTEP MAC derivation (Felix vtepMACForHost)', () => {
  it.each([
    { name: 'node-a', family: 4 as const, mac: '66:07:02:c1:cc:60' },
    { name: 'node-a', family: 6 as const, mac: derivedVtepMac('node-a-v6') },
  ])('$name IPv$family → $mac', ({ name, family, mac }) => {
    expect(derivedVtepMac(name, family)).toBe(mac);
  });
});

describe('MTU', () => {
  it.each([
    { name: 'VXLAN on 1500', input: { hostMtu: 1500, enabled: ['vxlan4' as const] }, tunnels: { vxlan4: 1450 }, pod: 1450 },
    { name: 'IPIP on 1500', input: { hostMtu: 1500, enabled: ['ipip' as const] }, tunnels: { ipip: 1480 }, pod: 1480 },
    { name: 'VXLAN v6 on 9000', input: { hostMtu: 9000, enabled: ['vxlan6' as const] }, tunnels: { vxlan6: 8930 }, pod: 8930 },
    { name: 'both families: pod takes the smallest', input: { hostMtu: 1500, enabled: ['vxlan4' as const, 'vxlan6' as const] }, tunnels: { vxlan4: 1450, vxlan6: 1430 }, pod: 1430 },
    { name: 'WireGuard v4/v6', input: { hostMtu: 1500, enabled: ['wireguard4' as const, 'wireguard6' as const] }, tunnels: { wireguard4: 1440, wireguard6: 1420 }, pod: 1420 },
    { name: 'no encapsulation: pods get the host MTU', input: { hostMtu: 1460, enabled: [] }, tunnels: {}, pod: 1460 },
    { name: 'an override below the ceiling wins', input: { hostMtu: 1500, enabled: ['vxlan4' as const], overrides: { vxlan4: 1400 } }, tunnels: { vxlan4: 1400 }, pod: 1400 },
  ])('$name', ({ input, tunnels, pod }) => {
    const mtus = computeMtus(input);
    expect(mtus.tunnels).toEqual(tunnels);
    expect(mtus.pod).toBe(pod);
  });

  it.each([
    { name: 'host MTU 0', input: { hostMtu: 0, enabled: [] }, message: 'host MTU: 0 is outside 68..65535' },
    { name: 'overhead leaves nothing', input: { hostMtu: 100, enabled: ['vxlan4' as const] }, message: 'vxlan4 MTU (host 100 − 50): 50 is outside 68..65535' },
    { name: 'override above host − overhead', input: { hostMtu: 1500, enabled: ['vxlan4' as const], overrides: { vxlan4: 1480 } }, message: 'vxlan4 MTU override: 1480 exceeds the host MTU 1500 minus the 50-byte vxlan4 overhead (1450); the kernel would refuse it' },
    { name: 'IPv6 below 1280', input: { hostMtu: 1300, enabled: ['vxlan6' as const] }, message: 'vxlan6 MTU (host 1300 − 70): 1230 is outside 1280..65535' },
  ])('refuses $name', ({ input, message }) => {
    expect(() => computeMtus(input)).toThrow(MtuError);
    expect(() => computeMtus(input)).toThrow(message);
  });
});

const link = (over: Partial<Link>): Link => ({ name: iface('x'), index: 1, mtu: 1500, up: true, addresses: [], ...over });

describe('host facts', () => {
  const links = [
    link({ name: iface('lo'), mtu: 65536, addresses: ['127.0.0.1/8' as Cidr] }),
    link({ name: iface('eth0'), mtu: 9000, addresses: ['172.16.30.6/24' as Cidr] }),
    link({ name: iface('ens5'), mtu: 1400 }),
    link({ name: iface('wg0'), mtu: 1280, addresses: ['10.9.0.1/24' as Cidr] }),
  ];
  it('finds the interface that carries the node address, and its MTU', () => {
    expect(interfaceCarrying(links, '172.16.30.6' as IpAddr)?.name).toBe('eth0');
    expect(detectHostMtu(links, '172.16.30.6' as IpAddr)).toBe(9000);
  });
  it('with a pattern, takes the smallest matching up interface', () => {
    expect(detectHostMtu(links, '172.16.30.6' as IpAddr, /^(eth|ens)/)).toBe(1400);
  });

  it.each([
    { name: 'the interface of the default route', routes: [{ dst: '0.0.0.0/0', dev: 'wg0' }], want: '10.9.0.1/24' },
    { name: 'without a default route, the first plain interface', routes: [], want: '172.16.30.6/24' },
    { name: 'no IPv6 anywhere', routes: [], family: 6 as const, want: undefined },
  ])('node address: $name', ({ routes, family, want }) => {
    const r = routes.map((x) => ({ dst: x.dst as Cidr, dev: iface(x.dev), table: 254, metric: 0, type: 'unicast' as const, onlink: false, scope: 'global' as const, proto: 4 }));
    expect(detectNodeAddress(links, r, family ?? 4)).toBe(want);
  });
});

const vxlanLink = (over: Partial<Link> = {}, vx: Partial<NonNullable<Link['vxlan']>> = {}): Link =>
  link({
    name: iface('vxlan.calico'),
    kind: 'vxlan',
    mtu: 1450,
    mac: derivedVtepMac('minikube'),
    addresses: ['10.244.120.64/32' as Cidr, 'fe80::1/64' as Cidr],
    vxlan: { vni: 4096, port: 4789, local: '172.16.30.6' as IpAddr, parent: iface('eth0'), learning: false, ...vx },
    ...over,
  });

describe('VXLAN device', () => {
  const want = desiredVxlan(seedCluster({ vxlan: 'Always' }), { name: 'minikube', hostIface: iface('eth0') }, 4, { vni: 4096, port: 4789 }, 1450);

  it('wants one neighbour and one FDB entry per remote VTEP', () => {
    expect(want.neighbors.map((n) => `${n.ip} ${n.mac}`)).toEqual([`10.244.205.192 ${derivedVtepMac('minikube-m02')}`, `10.244.151.0 ${derivedVtepMac('minikube-m03')}`]);
    expect(want.fdb.map((f) => `${f.mac} ${f.dst}`)).toEqual([`${derivedVtepMac('minikube-m02')} 172.16.30.7`, `${derivedVtepMac('minikube-m03')} 172.16.30.8`]);
  });

  it.each([
    { name: 'identical', have: vxlanLink(), reason: undefined },
    { name: 'VNI', have: vxlanLink({}, { vni: 1 }), reason: 'VNI 1, want 4096' },
    { name: 'port', have: vxlanLink({}, { port: 8472 }), reason: 'port 8472, want 4789' },
    { name: 'source', have: vxlanLink({}, { local: '172.16.30.99' as IpAddr }), reason: 'source address 172.16.30.99, want 172.16.30.6' },
    { name: 'underlay', have: vxlanLink({}, { parent: iface('eth1') }), reason: 'underlay device eth1, want eth0' },
    { name: 'learning', have: vxlanLink({}, { learning: true }), reason: 'learning is on, want off' },
    { name: 'MAC', have: vxlanLink({ mac: '66:00:00:00:00:01' as Mac }), reason: `MAC 66:00:00:00:00:01, want ${derivedVtepMac('minikube')}` },
    { name: 'kind', have: link({ name: iface('vxlan.calico'), kind: 'bridge' }), reason: 'is a bridge device, not vxlan' },
  ])('incompatibility: $name', ({ have, reason }) => {
    expect(vxlanIncompatibility(want.spec!, have)).toBe(reason);
  });

  it.each([
    { name: 'missing → create, address, up', have: undefined, ops: ['vxlan-add', 'addr-add', 'link-up'] },
    { name: 'in order → nothing', have: vxlanLink(), ops: [] },
    { name: 'MTU, stray address, down → fixed in place', have: vxlanLink({ mtu: 1500, up: false, addresses: ['10.244.120.64/32' as Cidr, '10.1.1.1/32' as Cidr] }), ops: ['link-mtu', 'addr-delete', 'link-up'] },
    { name: 'wrong VNI → delete and create', have: vxlanLink({}, { vni: 9 }), ops: ['link-delete', 'vxlan-add', 'addr-add', 'link-up'] },
  ])('plan: $name', ({ have, ops }) => {
    expect(planVxlan(want.spec, want.device, have).setup.map((o) => o.op)).toEqual(ops);
  });

  it('no VXLAN pool: the device goes, after routes (teardown), and only if it is a VXLAN device', () => {
    expect(planVxlan(undefined, iface('vxlan.calico'), vxlanLink()).teardown).toEqual([{ op: 'link-delete', name: 'vxlan.calico', reason: 'no IP pool uses VXLAN' }]);
    expect(planVxlan(undefined, iface('vxlan.calico'), link({ name: iface('vxlan.calico'), kind: 'bridge' })).teardown).toEqual([]);
  });

  it('neighbours and FDB entries reconcile both ways', () => {
    const dev = iface('vxlan.calico');
    const stale = { dev, ip: '10.9.9.9' as IpAddr, mac: '66:00:00:00:00:09' as Mac };
    const moved = { ...want.fdb[0]!, dst: '172.16.30.99' as IpAddr };
    const ops = diffEntries(want, { neighbors: [want.neighbors[0]!, stale], fdb: [moved, { dev, mac: stale.mac, dst: '172.16.30.9' as IpAddr }] }, true);
    expect(ops.neighReplace.map((o) => o.op === 'neigh-replace' && o.neighbor.ip)).toEqual(['10.244.151.0']);
    expect(ops.neighDelete.map((o) => o.op === 'neigh-delete' && o.neighbor.ip)).toEqual(['10.9.9.9']);
    expect(ops.fdb.map((o) => o.op)).toEqual(['fdb-replace', 'fdb-replace', 'fdb-delete']);
    expect(diffEntries(want, { neighbors: [stale], fdb: [] }, false).neighDelete).toEqual([]);
  });
});

describe('IPIP device', () => {
  const want = desiredIpip(seedCluster({ ipip: 'Always' }), 'minikube', 1480);
  it.each([
    { name: 'missing → create, MTU, address, up', have: undefined, ops: ['ipip-add', 'link-mtu', 'addr-add', 'link-up'] },
    { name: 'the fallback tunl0, down and bare → configured in place', have: link({ name: iface('tunl0'), kind: 'ipip', mtu: 1480, up: false }), ops: ['addr-add', 'link-up'] },
    { name: 'in order → nothing', have: link({ name: iface('tunl0'), kind: 'ipip', mtu: 1480, addresses: ['10.244.120.64/32' as Cidr] }), ops: [] },
  ])('$name', ({ have, ops }) => {
    expect(planIpip(want, have).setup.map((o) => o.op)).toEqual(ops);
  });
  it('no IPIP pool: tunl0 is left alone', () => {
    expect(planIpip(desiredIpip(seedCluster({ vxlan: 'Always' }), 'minikube', 1480), link({ name: iface('tunl0') }))).toEqual({ setup: [], teardown: [], ready: [] });
  });
  it('an IPIP pool without a tunnel address on this node is reported', () => {
    const snapshot = seedCluster({ ipip: 'Always' });
    const bare = { ...snapshot, nodes: snapshot.nodes.map((n) => ({ ...n, ipipTunnelAddr: undefined })) };
    expect(desiredIpip(bare, 'minikube', 1480).problems).toEqual([expect.objectContaining({ field: 'spec.bgp.ipv4IPIPTunnelAddr' })]);
  });
});
