// The kernel double holds to the real adapter: the same plan, applied to IpKernel in a scratch
// namespace (persistent batch sessions, as the agent runs it) and to a double built from that
// namespace's state, returns the same ApplyResult — or rejects with the same message — and leaves
// the same routes, links, neighbours and FDB entries. Then its fault switches and counters.
import { afterEach, describe, expect, it } from 'vitest';
import { runOk } from '../kernel/exec.js';
import { IpKernel, type ApplyResult } from '../kernel/kernel.js';
import type { Op, Plan } from '../kernel/plan.js';
import { MAIN_TABLE, type Link, type Route } from '../kernel/state.js';
import type { Mac } from '../kernel/values.js';
import { parseRouteEvent } from '../kernel/monitor-route.js';
import { KernelDouble } from './support/kernel-double.js';
import { caliVethLines, scratchNs } from './support/scratch-ns.js';
import { cidr, iface, ip } from './support/seed-cluster.js';

const VX = iface('vxlan.calico');
const mac = (s: string) => s as Mac;
const route = (dst: string, extra: Partial<Route> = {}): Route => ({ dst: cidr(dst), table: MAIN_TABLE, metric: 0, type: 'unicast', onlink: false, scope: 'global', proto: 199, ...extra });
const blackhole = (dst: string) => route(dst, { type: 'blackhole' });
const viaVxlan = (dst: string, gw: string) => route(dst, { dev: VX, via: ip(gw), onlink: true });
const onVeth = (dst: string, dev: string) => route(dst, { dev: iface(dev), scope: 'link' });
const replace = (r: Route): Op => ({ op: 'route-replace', route: r });
const vxlanAdd: Op[] = [
  { op: 'vxlan-add', spec: { name: VX, vni: 4096, port: 4789, local: ip('172.16.30.6'), parent: iface('eth0'), mac: mac('66:00:00:00:00:01'), mtu: 1450 }, reason: 'missing' },
  { op: 'addr-add', dev: VX, cidr: cidr('10.244.1.0/32') },
  { op: 'link-up', name: VX },
];
const neigh = (addr: string, m: string): Op => ({ op: 'neigh-replace', neighbor: { dev: VX, ip: ip(addr), mac: mac(m) } });
const fdb = (m: string, dst: string): Op => ({ op: 'fdb-replace', fdb: { dev: VX, mac: mac(m), dst: ip(dst) } });
const plan = (p: { setup?: Op[]; fdb?: Op[]; routes?: Op[]; teardown?: Op[] }): Plan => [
  { name: 'setup', tool: 'ip', ops: p.setup ?? [] },
  { name: 'fdb', tool: 'bridge', ops: p.fdb ?? [] },
  { name: 'routes', tool: 'ip', ops: p.routes ?? [] },
  { name: 'teardown', tool: 'ip', ops: p.teardown ?? [] },
];

interface Scenario {
  readonly name: string;
  /** `ip -batch` lines run on the namespace before its state is read. */
  readonly before: string[];
  readonly plans: Plan[];
  /** What the real adapter answers to the first plan: that many refused lines, or a rejection. */
  readonly first: number | 'rejected';
  /** Veth pairs among the links made before. */
  readonly peers?: Record<string, string>;
}

const scenarios: Scenario[] = [
  {
    name: 'a VXLAN node from nothing, one workload route through a veth that does not exist',
    first: 1,
    before: [],
    plans: [plan({ setup: vxlanAdd, fdb: [fdb('66:00:00:00:00:0a', '172.16.30.7')], routes: [neigh('10.244.2.0', '66:00:00:00:00:0a'), ...[blackhole('10.244.1.0/26'), viaVxlan('10.244.2.0/26', '10.244.2.0'), onVeth('10.244.1.5/32', 'cali0000000000a')].map(replace)] })],
  },
  {
    name: 'a route through a veth that is down, a gateway off every subnet without onlink, one on eth0\'s subnet',
    first: 2,
    before: ['link add cali000000000b1 type veth peer name p000000000b1'],
    plans: [plan({ routes: [onVeth('10.244.1.6/32', 'cali000000000b1'), route('10.244.3.0/26', { dev: iface('eth0'), via: ip('10.9.9.9') }), route('10.244.4.0/26', { dev: iface('eth0'), via: ip('172.16.30.8') }), route('10.244.5.0/26', { dev: iface('eth0'), via: ip('172.16.30.9'), onlink: true })].map(replace) })],
  },
  {
    name: 'deletes that match nothing: no route, another proto, not a blackhole',
    first: 3,
    before: ['route add 10.244.7.0/26 dev eth0 proto 3', 'route add 10.244.8.0/26 dev eth0 proto 199'],
    plans: [plan({ routes: [route('10.244.6.0/26'), route('10.244.7.0/26'), blackhole('10.244.8.0/26'), route('10.244.8.0/26')].map((r) => ({ op: 'route-delete' as const, route: r })) })],
  },
  {
    name: 'FDB entries for a multicast and an all-zero MAC, and a delete of an entry that is not there',
    first: 3,
    before: ['link add vxlan.calico type vxlan id 4096 local 172.16.30.6 dev eth0 dstport 4789 nolearning', 'link set vxlan.calico up'],
    plans: [plan({ fdb: [fdb('01:00:5e:00:00:01', '172.16.30.7'), fdb('00:00:00:00:00:00', '172.16.30.7'), fdb('66:00:00:00:00:0b', '172.16.30.8'), { op: 'fdb-delete', fdb: { dev: VX, mac: mac('66:00:00:00:00:0c'), dst: ip('172.16.30.9') } }] })],
  },
  {
    name: 'a neighbour delete that finds nothing is no failure (a flush, not `neigh del`, which ends the batch): the lines after it run',
    first: 1,
    before: ['link add vxlan.calico type vxlan id 4096 local 172.16.30.6 dev eth0 dstport 4789 nolearning', 'link set vxlan.calico up'],
    plans: [
      plan({ routes: [{ op: 'route-replace', route: blackhole('10.244.1.0/26') }, { op: 'route-replace', route: onVeth('10.244.1.7/32', 'cali0000000000c') }, { op: 'neigh-delete', neighbor: { dev: VX, ip: ip('10.244.9.0'), mac: mac('66:00:00:00:00:0d') } }, { op: 'route-replace', route: blackhole('10.244.1.64/26') }], teardown: [{ op: 'link-delete', name: VX, reason: 'test' }] }),
      plan({ routes: [{ op: 'route-replace', route: blackhole('10.244.1.128/26') }] }),
    ],
  },
  {
    name: 'device operations on devices that are not there, and a device that already is',
    first: 6,
    before: ['link add vxlan.calico type vxlan id 4096 local 172.16.30.6 dev eth0 dstport 4789 nolearning'],
    plans: [plan({ setup: [vxlanAdd[0] as Op, { op: 'link-mtu', name: iface('cali0000000000d'), mtu: 1450 }, { op: 'link-up', name: iface('cali0000000000d') }, { op: 'addr-add', dev: iface('cali0000000000d'), cidr: cidr('10.244.1.0/32') }, { op: 'addr-delete', dev: iface('eth0'), cidr: cidr('10.244.1.0/32') }, { op: 'link-mtu', name: VX, mtu: 1400 }], teardown: [{ op: 'link-delete', name: iface('cali0000000000d'), reason: 'test' }] })],
  },
  {
    name: 'deleting a device takes its routes, neighbours and FDB entries',
    first: 0,
    before: [...caliVethLines('cali0000000000e'), 'link add vxlan.calico type vxlan id 4096 local 172.16.30.6 dev eth0 dstport 4789 nolearning', 'link set vxlan.calico up', 'route add 10.244.1.8/32 dev cali0000000000e proto 199 scope link', 'route add 10.244.2.0/26 via 10.244.2.0 dev vxlan.calico proto 199 onlink', 'neigh replace 10.244.2.0 lladdr 66:00:00:00:00:0a dev vxlan.calico nud permanent'],
    plans: [plan({ teardown: [{ op: 'link-delete', name: iface('cali0000000000e'), reason: 'test' }, { op: 'link-delete', name: VX, reason: 'test' }] })],
    peers: { cali0000000000e: 'p0000000000e' },
  },
];

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** What both kernels are compared on: wren's routes and everything on its devices, link-local addresses aside. */
async function observed(kernel: IpKernel | KernelDouble) {
  const links = (await kernel.readLinks()).filter((l) => l.name !== 'lo');
  const vx = links.some((l) => l.name === VX);
  return {
    routes: (await kernel.readRoutes(MAIN_TABLE)).filter((r) => r.proto === 199).sort((a, b) => a.dst.localeCompare(b.dst)),
    links: links.map((l: Link) => ({ name: l.name, kind: l.kind, mtu: l.mtu, up: l.up, addresses: l.addresses.filter((a) => !a.startsWith('fe80:')) })).sort((a, b) => a.name.localeCompare(b.name)),
    neighbors: vx ? await kernel.readNeighbors(VX) : [],
    fdb: vx ? await kernel.readFdb(VX) : [],
  };
}

async function outcome(kernel: IpKernel | KernelDouble, p: Plan): Promise<ApplyResult | string> {
  return kernel.apply(p).catch((error: unknown) => `rejected: ${(error as Error).message}`);
}

describe('kernel double against the real adapter', () => {
  it.each(scenarios)('$name', async ({ before, plans, first, peers }) => {
    const ns = await scratchNs('double');
    cleanups.push(() => ns.remove());
    if (before.length > 0) await ns.ip(before);
    const real = new IpKernel(ns.name, { persistent: true });
    cleanups.push(async () => real.close());
    const double = new KernelDouble({ routes: await real.readRoutes(MAIN_TABLE), links: await real.readLinks(), neighbors: [], fdb: [] }, { peers });
    for (const [i, p] of plans.entries()) {
      const want = await outcome(real, p);
      if (i === 0) expect(typeof want === 'string' ? 'rejected' : want.failures.length).toBe(first);
      expect(await outcome(double, p)).toEqual(want);
    }
    expect(await observed(double)).toEqual(await observed(real));
  });
});

/**
 * A namespace with vxlan.calico and IPv6 disabled on it, and the real adapter over it. `ip neigh`
 * ends its whole batch, -force or not, when the kernel refuses an entry: an IPv6 neighbour here.
 */
async function vxlanWithoutIpv6(label: string, persistent: boolean): Promise<IpKernel> {
  const ns = await scratchNs(label);
  cleanups.push(() => ns.remove());
  await ns.ip(['link add vxlan.calico type vxlan id 4096 local 172.16.30.6 dev eth0 dstport 4789 nolearning', 'link set vxlan.calico up']);
  await runOk('ip', ['netns', 'exec', ns.name, 'sysctl', '-qw', 'net/ipv6/conf/vxlan.calico/disable_ipv6=1']);
  const real = new IpKernel(ns.name, { persistent });
  cleanups.push(async () => real.close());
  return real;
}

describe('the real adapter, when an ip -batch process dies mid-batch', () => {
  it.each([{ mode: 'persistent (the agent)', persistent: true }, { mode: 'one-shot (wren apply)', persistent: false }])('$mode rejects rather than count lines that never ran', async ({ persistent }) => {
    const real = await vxlanWithoutIpv6('death', persistent);
    const dying = plan({ routes: [replace(onVeth('10.244.1.7/32', 'cali0000000000c')), { op: 'neigh-replace', neighbor: { dev: VX, ip: ip('fd00:10::9'), mac: mac('66:00:00:00:00:0d') } }, replace(blackhole('10.244.1.64/26'))] });
    await expect(real.apply(dying)).rejects.toThrow(/ip .*batch/);
    expect((await real.readRoutes(MAIN_TABLE)).filter((r) => r.proto === 199)).toEqual([]);
    // A batch that only refuses lines still answers line by line.
    const refusing = await real.apply(plan({ routes: [replace(onVeth('10.244.1.7/32', 'cali0000000000c')), replace(blackhole('10.244.1.64/26'))] }));
    expect(refusing.failures.map((f) => f.error)).toEqual(['Cannot find device "cali0000000000c"']);
    expect(refusing.applied).toBe(1);
  });
});

describe('the real adapter, when the kernel refuses a neighbour', () => {
  it.each([{ mode: 'persistent (the agent)', persistent: true }, { mode: 'one-shot (wren apply)', persistent: false }])('$mode reports that line alone, and the rest of the pass lands', async ({ persistent }) => {
    const real = await vxlanWithoutIpv6('neighref', persistent);
    const refused: Op = { op: 'neigh-replace', neighbor: { dev: VX, ip: ip('fd00:10::9'), mac: mac('66:00:00:00:00:0d') } };
    const result = await real.apply([
      { name: 'neighbors', tool: 'ip', ops: [refused, neigh('10.244.2.0', '66:00:00:00:00:0a')] },
      { name: 'routes', tool: 'ip', ops: [replace(blackhole('10.244.1.64/26'))] },
    ]);
    expect(result.failures.map((f) => [f.phase, f.line, f.error])).toEqual([['neighbors', 'neigh replace fd00:10::9 lladdr 66:00:00:00:00:0d dev vxlan.calico nud permanent', expect.stringMatching(/IPv6 is disabled/)]]);
    expect((await real.readNeighbors(VX)).map((n) => n.ip)).toEqual(['10.244.2.0']);
    expect((await real.readRoutes(MAIN_TABLE)).filter((r) => r.proto === 199).map((r) => r.dst)).toEqual(['10.244.1.64/26']);
  });
});

describe('kernel double', () => {
  const eth0: Link = { name: iface('eth0'), index: 2, kind: 'veth', mtu: 1500, up: true, addresses: [cidr('172.16.30.6/24')] };
  const routes = (n: number): Plan => plan({ routes: Array.from({ length: n }, (_, i) => replace(blackhole(`10.244.${i}.0/26`))) });

  it('fail-next refuses exactly the next N matching lines, with the given text, then lets them through', async () => {
    const double = new KernelDouble({ links: [eth0] });
    const fault = double.failNext((op) => op.op === 'route-replace' && op.route.dst === '10.244.1.0/26', 'RTNETLINK answers: Invalid argument', 2);
    for (let pass = 0; pass < 3; pass++) {
      const result = await double.apply(routes(3));
      expect(result.failures.map((f) => [f.line, f.error])).toEqual(pass < 2 ? [['route replace blackhole 10.244.1.0/26 table 254 metric 0 proto 199', 'RTNETLINK answers: Invalid argument']] : []);
      expect(result.applied).toBe(pass < 2 ? 2 : 3);
    }
    expect(fault).toMatchObject({ hits: 2, remaining: 0 });
    expect(double.routes().map((r) => r.dst)).toContain('10.244.1.0/26');
  });

  it('kill-mid-batch applies the lines before it, none after, and rejects as a dying session does', async () => {
    const double = new KernelDouble({ links: [eth0] });
    const fault = double.killMidBatch(2);
    await expect(double.apply(routes(5))).rejects.toThrow('ip -batch ended (exit SIGKILL) before finishing a batch');
    expect(double.routes().map((r) => r.dst)).toEqual(['10.244.0.0/26', '10.244.1.0/26']);
    expect(fault.hits).toBe(1);
    expect((await double.apply(routes(5))).applied).toBe(5);
  });

  it('a failed read throws for routes and links, and reads as empty for neighbours, as the adapter does', async () => {
    const double = new KernelDouble({ links: [eth0] });
    const routesFault = double.failNextRead('routes');
    await expect(double.readRoutes(MAIN_TABLE)).rejects.toThrow(/ip -N -j -4 route show table 254 failed \(exit 1\)/);
    expect(await double.readRoutes(MAIN_TABLE)).toEqual([]);
    double.failNextRead('links');
    await expect(double.readLinks()).rejects.toThrow(/addr show failed/);
    await double.apply(plan({ setup: vxlanAdd, routes: [neigh('10.244.2.0', '66:00:00:00:00:0a')] }));
    double.failNextRead('neighbors');
    expect(await double.readNeighbors(VX)).toEqual([]);
    expect(await double.readNeighbors(VX)).toHaveLength(1);
    expect(routesFault.hits).toBe(1);
  });

  it('counts what it applied, so a second identical plan shows what a kernel would redo', async () => {
    const double = new KernelDouble({ links: [eth0] });
    await double.apply(routes(3));
    expect(double.counts()).toMatchObject({ applied: { 'route-replace': 3 }, refused: 0, applies: 1, processes: 1 });
    double.resetCounts();
    expect(double.appliedTotal()).toBe(0);
  });

  it('echoes every route it writes as a monitor line that parses back to the same route', async () => {
    const double = new KernelDouble({ links: [eth0] });
    await double.apply(plan({ setup: vxlanAdd }));
    const lines: string[] = [];
    double.onMonitorLine((line) => lines.push(line));
    const written = [blackhole('10.244.1.0/26'), viaVxlan('10.244.2.0/26', '10.244.2.0'), route('10.244.3.0/26', { dev: iface('eth0'), via: ip('172.16.30.8'), table: 100, metric: 5 })];
    await double.apply(plan({ routes: written.map(replace) }));
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.map((l) => parseRouteEvent(l)?.route)).toEqual(written);
    expect((await double.readRouteListing(MAIN_TABLE)).toString()).toBe(`${lines.slice(0, 2).map((l) => l.slice('[ROUTE]'.length)).join('\n')}\n`);
  });
});
