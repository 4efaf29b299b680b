import { describe, expect, it } from 'vitest';
import { parseFdb, parseLinks, parseNeighbors, parseRoutes } from '../kernel/parse.js';
import { renderOp, routeSpec, type Op } from '../kernel/plan.js';
import type { Route } from '../kernel/state.js';
import type { Cidr, IfaceName, IpAddr, Mac } from '../kernel/values.js';
import { cidrContains, cidrsOverlap, parseCidr, parseIfaceName, parseIp, parseMac } from '../kernel/values.js';

const route = (over: Partial<Route>): Route => ({
  dst: '10.244.0.0/26' as Cidr,
  table: 254,
  metric: 0,
  type: 'unicast',
  onlink: false,
  scope: 'global',
  proto: 199,
  ...over,
});

describe('validated values refuse anything that could inject a command', () => {
  it.each([
    ['eth0', 'eth0'],
    ['vxlan.calico', 'vxlan.calico'],
    ['calic440f455693', 'calic440f455693'],
    ['cali0123456789ab', undefined], // 16 characters: longer than IFNAMSIZ allows
    ['eth0 ; reboot', undefined],
    ['eth0\nroute flush table main', undefined],
    ['-force', undefined],
    ['', undefined],
    ['a/b', undefined],
  ])('interface %j → %j', (text, want) => {
    expect(parseIfaceName(text)).toBe(want);
  });

  it.each([
    ['10.244.0.0/26', true, '10.244.0.0/26'],
    ['10.244.0.1/26', true, undefined],
    ['10.244.0.1/26', false, '10.244.0.1/26'],
    ['10.244.0.0/33', true, undefined],
    ['010.244.0.0/26', true, undefined],
    ['10.244.0.0/26 dev lo', true, undefined],
    ['10.244.0.0/26\nroute flush', true, undefined],
    ['FD00:10:0:0::/64', true, 'fd00:10::/64'],
    ['fd00::1/64', true, undefined],
    ['default', true, undefined],
  ])('prefix %j (strict %j) → %j', (text, strict, want) => {
    expect(parseCidr(text, strict)).toBe(want);
  });

  it.each([
    ['172.16.30.7', '172.16.30.7'],
    ['256.1.1.1', undefined],
    ['1.2.3.4 ', undefined],
    ['FD00::0001', 'fd00::1'],
    ['::ffff:1.2.3.4', '::ffff:102:304'],
  ])('address %j → %j', (text, want) => {
    expect(parseIp(text)).toBe(want);
  });

  it.each([
    ['66:07:02:C1:CC:60', '66:07:02:c1:cc:60'],
    ['66:07:02:c1:cc', undefined],
    ['66-07-02-c1-cc-60', undefined],
    ['66:07:02:c1:cc:60 dev eth0', undefined],
  ])('MAC %j → %j', (text, want) => {
    expect(parseMac(text)).toBe(want);
  });

  it('prefix arithmetic', () => {
    expect(cidrContains('172.16.30.0/24' as Cidr, '172.16.30.9' as IpAddr)).toBe(true);
    expect(cidrContains('172.16.30.0/24' as Cidr, '172.16.31.9' as IpAddr)).toBe(false);
    expect(cidrContains('fd00::/64' as Cidr, 'fd00::9' as IpAddr)).toBe(true);
    expect(cidrsOverlap('10.0.0.0/24' as Cidr, '10.0.0.64/26' as Cidr)).toBe(true);
    expect(cidrsOverlap('10.0.0.0/26' as Cidr, '10.0.0.64/26' as Cidr)).toBe(false);
  });
});

describe('batch lines', () => {
  const dev = 'vxlan.calico' as IfaceName;
  it.each<{ name: string; op: Op; line: string }>([
    { name: 'blackhole', op: { op: 'route-replace', route: route({ type: 'blackhole' }) }, line: 'route replace blackhole 10.244.0.0/26 table 254 metric 0 proto 199' },
    { name: 'workload', op: { op: 'route-replace', route: route({ dst: '10.244.0.5/32' as Cidr, dev: 'calic440f455693' as IfaceName, scope: 'link' }) }, line: 'route replace 10.244.0.5/32 dev calic440f455693 table 254 metric 0 proto 199 scope link' },
    { name: 'vxlan', op: { op: 'route-replace', route: route({ dev, via: '10.244.1.0' as IpAddr, onlink: true }) }, line: 'route replace 10.244.0.0/26 via 10.244.1.0 dev vxlan.calico table 254 metric 0 proto 199 onlink' },
    { name: 'delete keeps the ownership mark', op: { op: 'route-delete', route: route({ dev, via: '10.244.1.0' as IpAddr, onlink: true }) }, line: 'route del 10.244.0.0/26 table 254 metric 0 proto 199' },
    { name: 'neighbour', op: { op: 'neigh-replace', neighbor: { dev, ip: '10.244.1.0' as IpAddr, mac: '66:00:00:00:00:01' as Mac } }, line: 'neigh replace 10.244.1.0 lladdr 66:00:00:00:00:01 dev vxlan.calico nud permanent' },
    { name: 'fdb', op: { op: 'fdb-replace', fdb: { dev, mac: '66:00:00:00:00:01' as Mac, dst: '172.16.30.7' as IpAddr } }, line: 'fdb replace 66:00:00:00:00:01 dev vxlan.calico dst 172.16.30.7 self permanent' },
    {
      name: 'vxlan device',
      op: { op: 'vxlan-add', reason: 'missing', spec: { name: dev, vni: 4096, port: 4789, local: '172.16.30.6' as IpAddr, parent: 'eth0' as IfaceName, mac: '66:07:02:c1:cc:60' as Mac, mtu: 1450 } },
      line: 'link add vxlan.calico mtu 1450 address 66:07:02:c1:cc:60 type vxlan id 4096 local 172.16.30.6 dev eth0 dstport 4789 nolearning',
    },
  ])('$name', ({ op, line }) => {
    expect(renderOp(op)).toBe(line);
    expect(renderOp(op)).not.toMatch(/[\n;]/);
  });

  it('renders identically every time', () => {
    const r = route({ dev, via: '10.244.1.0' as IpAddr, onlink: true });
    expect(routeSpec(r)).toBe(routeSpec({ ...r }));
  });
});

describe('reading iproute2 JSON', () => {
  it('routes: types, boot protocol, host routes, onlink, IPv6 metric', () => {
    const v4 = '[{"type":"6","dst":"10.0.0.0/26","protocol":"199","flags":[]},{"dst":"10.0.2.0/26","gateway":"1.2.3.4","dev":"lo","protocol":"199","flags":["onlink"]},{"dst":"10.0.3.1","dev":"cali1","protocol":"199","scope":"253","flags":[]},{"dst":"default","gateway":"172.16.30.1","dev":"eth0","flags":[]},{"type":"7","dst":"10.9.0.0/16","flags":[]}]';
    expect(parseRoutes(v4, 4, 254)).toEqual([
      route({ dst: '10.0.0.0/26' as Cidr, type: 'blackhole' }),
      route({ dst: '10.0.2.0/26' as Cidr, via: '1.2.3.4' as IpAddr, dev: 'lo' as IfaceName, onlink: true }),
      route({ dst: '10.0.3.1/32' as Cidr, dev: 'cali1' as IfaceName, scope: 'link' }),
      route({ dst: '0.0.0.0/0' as Cidr, via: '172.16.30.1' as IpAddr, dev: 'eth0' as IfaceName, proto: 3 }),
      route({ dst: '10.9.0.0/16' as Cidr, type: 'other', proto: 3 }),
    ]);
    const v6 = '[{"type":"6","dst":"fd00::/122","dev":"lo","protocol":"199","metric":1024,"flags":[],"pref":"medium"}]';
    expect(parseRoutes(v6, 6, 254)).toEqual([route({ dst: 'fd00::/122' as Cidr, type: 'blackhole', dev: 'lo' as IfaceName, metric: 1024 })]);
  });

  it('links with VXLAN details and addresses', () => {
    const text = JSON.stringify([
      { ifindex: 4, ifname: 'vxlan.calico', flags: ['BROADCAST', 'UP'], mtu: 1450, address: '66:07:02:c1:cc:60', linkinfo: { info_kind: 'vxlan', info_data: { id: 4096, local: '172.16.30.7', link: 'eth0', port: 4789, learning: false } }, addr_info: [{ family: 'inet', local: '10.244.0.1', prefixlen: 32 }] },
    ]);
    expect(parseLinks(text)).toEqual([
      { name: 'vxlan.calico', index: 4, kind: 'vxlan', mtu: 1450, up: true, mac: '66:07:02:c1:cc:60', vxlan: { vni: 4096, port: 4789, local: '172.16.30.7', parent: 'eth0', learning: false }, addresses: ['10.244.0.1/32'] },
    ]);
  });

  it('neighbours and FDB: only the permanent entries wren writes', () => {
    const dev = 'vxlan.calico' as IfaceName;
    expect(parseNeighbors('[{"dst":"10.244.1.1","lladdr":"66:00:00:00:00:01","state":["PERMANENT"]},{"dst":"10.244.1.2","lladdr":"66:00:00:00:00:02","state":["STALE"]}]', dev)).toEqual([
      { dev, ip: '10.244.1.1', mac: '66:00:00:00:00:01' },
    ]);
    expect(parseFdb('[{"mac":"66:00:00:00:00:01","dst":"172.16.30.8","flags":["self"],"state":"permanent"},{"mac":"aa:00:00:00:00:01","flags":["self"],"state":""}]', dev)).toEqual([
      { dev, mac: '66:00:00:00:00:01', dst: '172.16.30.8' },
    ]);
  });
});
