// The dataplane's managers (agent/dataplane/), each as the pass uses it: the wanted state and the
// kernel's in, batch lines out (rendered with kernel/plan.ts), then the kernel's answer and its
// events back in. VXLAN: the device and its entries, echoes against drift, a held device. tunl0.
// The pod MTU on workload veths. And what a fresh read of the links means (`linkEffects`).
import { describe, expect, it } from 'vitest';
import { LinkTable, linkEffects, type LinkEffects } from '../agent/dataplane/link-table.js';
import { IpipManager } from '../agent/dataplane/ipip-manager.js';
import { VxlanManager } from '../agent/dataplane/vxlan-manager.js';
import { WorkloadMtuManager } from '../agent/dataplane/workload-mtu.js';
import { PHASES } from '../agent/dataplane/manager.js';
import type { OpFailure } from '../kernel/kernel.js';
import type { NeighborEvent } from '../kernel/monitor-events.js';
import { parseRouteEvent } from '../kernel/monitor-route.js';
import { renderOp, type Op } from '../kernel/plan.js';
import { RouteTable } from '../kernel/route-table/route-table.js';
import { MAIN_TABLE, routeKey, type FdbEntry, type Link, type Neighbor, type VxlanInfo } from '../kernel/state.js';
import type { Mac } from '../kernel/values.js';
import { isDefaultWorkloadIface } from '../routing/workload-iface.js';
import { desiredIpip, type DesiredIpip } from '../tunnels/ipip.js';
import { desiredVxlan, type DesiredVxlan } from '../tunnels/vxlan.js';
import { cidr, iface, ip, seedCluster } from './support/seed-cluster.js';

const VX = iface('vxlan.calico');
const MACS: Record<string, Mac> = { minikube: '66:00:00:00:00:01' as Mac, 'minikube-m02': '66:00:00:00:00:02' as Mac, 'minikube-m03': '66:00:00:00:00:03' as Mac };
const base = seedCluster({ vxlan: 'Always', ipip: 'Always' });
const cluster = { ...base, nodes: base.nodes.map((n) => ({ ...n, vxlanMac: MACS[n.name] })) };
/** This node (minikube, 172.16.30.6) wants vxlan.calico and, for m02 and m03, a neighbour and an FDB entry each. */
const WANTED = desiredVxlan(cluster, { name: 'minikube', hostIface: iface('eth0') }, 4, { vni: 4096, port: 4789 }, 1450);
const HELD: DesiredVxlan = { ...WANTED, spec: undefined, hold: true, neighbors: [], fdb: [] };
const UNWANTED: DesiredVxlan = { ...WANTED, spec: undefined, neighbors: [], fdb: [] };

const link = (name: string, index: number, extra: Partial<Link> = {}): Link => ({ name: iface(name), index, kind: 'veth', mtu: 1500, up: true, addresses: [], ...extra });
const eth0 = link('eth0', 2, { addresses: [cidr('172.16.30.6/24')] });
const vxlanInfo: VxlanInfo = { vni: 4096, port: 4789, local: ip('172.16.30.6'), parent: iface('eth0'), learning: false };
const device = (info: Partial<VxlanInfo> = {}, extra: Partial<Link> = {}) =>
  link('vxlan.calico', 5, { kind: 'vxlan', mtu: 1450, mac: MACS.minikube, vxlan: { ...vxlanInfo, ...info }, addresses: [cidr('10.244.120.64/32')], ...extra });
const ALL = { neighbors: WANTED.neighbors, fdb: WANTED.fdb };
const NONE = { neighbors: [] as Neighbor[], fdb: [] as FdbEntry[] };
const M02 = WANTED.neighbors[0]!;
const STRAY: Neighbor = { dev: VX, ip: ip('10.244.9.9'), mac: '66:00:00:00:00:09' as Mac };
const event = (n: Neighbor, extra: Partial<NeighborEvent> = {}): NeighborEvent => ({ dev: n.dev, ip: n.ip, mac: n.mac, fdb: false, deleted: false, permanent: true, ...extra });

const CREATE = [
  'link add vxlan.calico mtu 1450 address 66:00:00:00:00:01 type vxlan id 4096 local 172.16.30.6 dev eth0 dstport 4789 nolearning',
  'addr replace 10.244.120.64/32 dev vxlan.calico',
  'link set dev vxlan.calico up',
];
const ENTRIES = [
  'fdb replace 66:00:00:00:00:02 dev vxlan.calico dst 172.16.30.7 self permanent',
  'fdb replace 66:00:00:00:00:03 dev vxlan.calico dst 172.16.30.8 self permanent',
  'neigh replace 10.244.205.192 lladdr 66:00:00:00:00:02 dev vxlan.calico nud permanent',
  'neigh replace 10.244.151.0 lladdr 66:00:00:00:00:03 dev vxlan.calico nud permanent',
];

interface VxlanCase {
  readonly name: string;
  readonly desired: DesiredVxlan;
  readonly links: Link[];
  /** The entries a full read finds on the device. */
  readonly kernel: { neighbors: Neighbor[]; fdb: FdbEntry[] };
  /** The first plan's lines: setup, FDB, neighbours, stale neighbours, teardown. */
  readonly first: string[];
  /** Whether the kernel refused one of its entry lines. */
  readonly refused?: boolean;
  /** Monitor events after it, each with whether it is drift. */
  readonly events?: { entry: NeighborEvent; drift: boolean }[];
  /** The devices to re-read then, what the re-read finds, and the next plan's lines. */
  readonly toRead: string[];
  readonly reread?: { neighbors: Neighbor[]; fdb: FdbEntry[] };
  readonly then: string[];
}

const VXLAN_CASES: VxlanCase[] = [
  { name: 'a missing device is created, and every entry written on it', desired: WANTED, links: [eth0], kernel: NONE, first: [...CREATE, ...ENTRIES], toRead: [], then: [] },
  { name: 'a device and entries as wanted: nothing to write', desired: WANTED, links: [eth0, device()], kernel: ALL, first: [], toRead: [], then: [] },
  { name: 'another VNI: the device is re-created and every entry rewritten, though the kernel had them', desired: WANTED, links: [eth0, device({ vni: 4097 })], kernel: ALL, first: ['link del vxlan.calico', ...CREATE, ...ENTRIES], toRead: [], then: [] },
  { name: 'another MTU: fixed in place, the entries kept', desired: WANTED, links: [eth0, device({}, { mtu: 1500 })], kernel: ALL, first: ['link set dev vxlan.calico mtu 1450'], toRead: [], then: [] },
  {
    name: 'the echo of its own entries is not drift',
    desired: WANTED,
    links: [eth0],
    kernel: NONE,
    first: [...CREATE, ...ENTRIES],
    events: [...WANTED.neighbors.map((n) => ({ entry: event(n), drift: false })), ...WANTED.fdb.map((f) => ({ entry: { dev: f.dev, ip: f.dst, mac: f.mac, fdb: true, deleted: false, permanent: true }, drift: false }))],
    toRead: [],
    then: [],
  },
  { name: "the kernel's own entry for an address it does not want is nothing", desired: WANTED, links: [eth0, device()], kernel: ALL, first: [], events: [{ entry: event(STRAY, { permanent: false, mac: undefined }), drift: false }], toRead: [], then: [] },
  {
    name: 'a neighbour deleted by hand is drift: the device is re-read and the neighbour rewritten',
    desired: WANTED,
    links: [eth0, device()],
    kernel: ALL,
    first: [],
    events: [{ entry: event(M02, { deleted: true }), drift: true }],
    toRead: ['vxlan.calico'],
    reread: { ...ALL, neighbors: WANTED.neighbors.slice(1) },
    then: ['neigh replace 10.244.205.192 lladdr 66:00:00:00:00:02 dev vxlan.calico nud permanent'],
  },
  {
    name: 'a permanent neighbour it did not write is drift: re-read and removed',
    desired: WANTED,
    links: [eth0, device()],
    kernel: ALL,
    first: [],
    events: [{ entry: event(STRAY), drift: true }],
    toRead: ['vxlan.calico'],
    reread: { ...ALL, neighbors: [...WANTED.neighbors, STRAY] },
    then: ['neigh flush to 10.244.9.9 dev vxlan.calico nud all'],
  },
  { name: 'a refused entry line leaves the entries to be re-read', desired: WANTED, links: [eth0, device()], kernel: NONE, first: ENTRIES, refused: true, toRead: ['vxlan.calico'], reread: ALL, then: [] },
  { name: 'a held device (its VTEP unknown) is left exactly as it is, entries and all', desired: HELD, links: [eth0, device({ vni: 1 })], kernel: { neighbors: [STRAY], fdb: [] }, first: [], toRead: [], then: [] },
  { name: 'no pool uses VXLAN: the device goes, after the routes', desired: UNWANTED, links: [eth0, device()], kernel: ALL, first: ['link del vxlan.calico'], toRead: [], then: [] },
];

/** What the manager yields now, in the plan's order (agent/dataplane/dataplane.ts). */
function vxlanLines(manager: VxlanManager, links: LinkTable): string[] {
  const part = manager.pending({ allowDeletes: true, links, before: {} });
  return PHASES.flatMap((p) => part[p.name] ?? []).map(renderOp);
}

/** The kernel's answer to a plan of entry lines: all accepted, or one refused. */
const ENTRY_REFUSAL: OpFailure = { phase: 'neighbors', op: { op: 'link-up', name: iface('vxlan.calico') }, line: 'neigh replace …', error: 'RTNETLINK answers: Invalid argument', code: 'EINVAL' };

describe('VXLAN manager', () => {
  it.each(VXLAN_CASES)('$name', ({ desired, links, kernel, first, refused, events, toRead, reread, then }) => {
    const manager = new VxlanManager();
    const table = new LinkTable();
    table.set(links);
    manager.reset(kernel);
    manager.setDesired([desired]);
    expect(vxlanLines(manager, table)).toEqual(first);
    manager.applied([], refused === true ? [ENTRY_REFUSAL] : []);
    for (const { entry, drift } of events ?? []) expect(manager.observe(entry)).toBe(drift);
    expect(manager.takeDevicesToRead()).toEqual(toRead);
    expect(manager.takeDevicesToRead()).toEqual([]); // taken: only new drift asks again
    if (reread !== undefined) for (const dev of toRead) manager.setEntries(iface(dev), reread);
    expect(vxlanLines(manager, table)).toEqual(then);
    // Nothing changed on either side since: nothing more.
    expect(vxlanLines(manager, table)).toEqual([]);
  });
});

const IPIP: DesiredIpip = desiredIpip(cluster, 'minikube', 1480);
const tunl0 = (extra: Partial<Link> = {}) => link('tunl0', 7, { kind: 'ipip', mtu: 1480, addresses: [cidr('10.244.120.64/32')], ...extra });

describe('IPIP manager', () => {
  it.each([
    { name: 'no pool uses IPIP: tunl0 is left alone', desired: desiredIpip(seedCluster({}), 'minikube', 1480), links: [eth0, tunl0({ mtu: 1500, addresses: [cidr('10.9.9.9/32')] })], ops: [] },
    { name: 'missing: created with its MTU and address, and up', desired: IPIP, links: [eth0], ops: ['link add tunl0 type ipip', 'link set dev tunl0 mtu 1480', 'addr replace 10.244.120.64/32 dev tunl0', 'link set dev tunl0 up'] },
    { name: 'as wanted: nothing to write', desired: IPIP, links: [eth0, tunl0()], ops: [] },
    {
      name: 'another MTU, a stray address, down: fixed in place',
      desired: IPIP,
      links: [eth0, tunl0({ mtu: 1500, up: false, addresses: [cidr('10.9.9.9/32')] })],
      ops: ['link set dev tunl0 mtu 1480', 'addr replace 10.244.120.64/32 dev tunl0', 'addr del 10.9.9.9/32 dev tunl0', 'link set dev tunl0 up'],
    },
  ])('$name; decided again only when the links are read again', ({ desired, links, ops }) => {
    const manager = new IpipManager();
    const table = new LinkTable();
    table.set(links);
    manager.setDesired(desired);
    expect(manager.deviceOps(table).setup.map(renderOp)).toEqual(ops);
    expect(manager.deviceOps(table).setup).toEqual([]);
    manager.linksRead();
    expect(manager.deviceOps(table).setup.map(renderOp)).toEqual(ops);
  });
});

describe('workload MTU manager', () => {
  it.each([
    { name: 'a routed pod veth with another MTU gets the pod MTU', link: link('cali1', 10, { mtu: 1500 }), ops: ['link set dev cali1 mtu 1450'] },
    { name: 'a routed pod veth at the pod MTU: nothing', link: link('cali1', 10, { mtu: 1450 }), ops: [] },
    { name: 'a pod veth no local workload is routed through: left alone', link: link('cali2', 11), ops: [] },
    { name: 'the host interface, even named like a workload and routed: never', link: link('calihost', 3, { addresses: [cidr('172.16.30.6/24')] }), ops: [] },
    { name: "a device that is not a workload's: never", link: link('vxlan.calico', 5, { kind: 'vxlan' }), ops: [] },
  ])('$name', ({ link: l, ops }) => {
    const manager = new WorkloadMtuManager(isDefaultWorkloadIface);
    const table = new LinkTable();
    table.set([eth0, l]);
    expect(manager.ops(table)).toEqual([]); // nothing wanted before the first full pass
    const routed = new Set(['cali1', 'calihost', 'vxlan.calico']);
    manager.setDesired({ mtu: 1450, hostIface: iface('calihost'), routed: (name) => routed.has(name) });
    const written: Op[] = manager.ops(table);
    expect(written.map(renderOp)).toEqual(ops);
    // Once the kernel took it, the next pass writes nothing; a refusal is written again.
    const refusing = new LinkTable();
    refusing.set([eth0, l]);
    refusing.applied(written, written.map((op) => ({ phase: 'setup', op, line: renderOp(op), error: 'RTNETLINK answers: Invalid argument', code: 'EINVAL' })));
    expect(manager.ops(refusing).map(renderOp)).toEqual(ops);
    table.applied(written, []);
    expect(manager.ops(table)).toEqual([]);
  });
});

const POD1 = '10.244.120.65 dev cali1 proto 199 scope link';
const POD2 = '10.244.120.66 dev cali2 proto 199 scope link';
const REMOTE = '10.244.205.192/26 via 172.16.30.7 dev eth0 proto 199 onlink';
const cali1 = link('cali1', 10);
const cali2 = link('cali2', 11);
const vx = device();

describe('link effects: what a fresh read of the links means', () => {
  it.each<{ name: string; before: Link[]; after: Link[]; effects: LinkEffects; dropped: string[] }>([
    { name: 'a pod veth gone: its routes dropped, nothing more', before: [eth0, cali1, cali2], after: [eth0, cali2], effects: { full: false, changed: false }, dropped: ['10.244.120.65/32'] },
    { name: 'a pod veth down: its routes dropped', before: [eth0, cali1, cali2], after: [eth0, { ...cali1, up: false }, cali2], effects: { full: false, changed: true }, dropped: ['10.244.120.65/32'] },
    { name: 'a pod veth re-created: its old routes dropped, the new one may take held routes', before: [eth0, cali1, cali2], after: [eth0, { ...cali1, index: 20 }, cali2], effects: { full: false, changed: true }, dropped: ['10.244.120.65/32'] },
    { name: 'a new pod veth: held routes may go in now', before: [eth0, cali1], after: [eth0, cali1, cali2], effects: { full: false, changed: true }, dropped: [] },
    { name: 'an IPv6 link-local address on a pod veth says nothing', before: [eth0, cali1], after: [eth0, { ...cali1, addresses: [cidr('fe80::1/64')] }], effects: { full: false, changed: false }, dropped: [] },
    { name: 'another device without addresses comes: nothing', before: [eth0], after: [eth0, link('dummy0', 30, { kind: undefined })], effects: { full: false, changed: false }, dropped: [] },
    { name: 'the host interface gets another address: full pass', before: [eth0, cali1], after: [{ ...eth0, addresses: [cidr('172.16.30.99/24')] }, cali1], effects: { full: true, why: 'eth0 changed' }, dropped: [] },
    { name: 'the host interface goes down: full pass', before: [eth0, cali1], after: [{ ...eth0, up: false }, cali1], effects: { full: true, why: 'eth0 went away or down' }, dropped: [] },
    { name: 'vxlan.calico re-created by someone: full pass', before: [eth0, vx], after: [eth0, { ...vx, index: 40 }], effects: { full: true, why: 'vxlan.calico went away or down' }, dropped: [] },
    { name: 'tunl0 appears: full pass', before: [eth0], after: [eth0, tunl0()], effects: { full: true, why: 'tunl0 changed' }, dropped: [] },
    { name: "a veth named like a pod's but holding a host address is the host's: full pass when it goes", before: [eth0, link('cali9', 12, { addresses: [cidr('10.0.0.1/24')] })], after: [eth0], effects: { full: true, why: 'cali9 went away or down' }, dropped: [] },
  ])('$name', ({ before, after, effects, dropped }) => {
    const links = new LinkTable();
    links.set(before);
    const routes = new RouteTable(MAIN_TABLE, { proto: 199, isWorkloadIface: isDefaultWorkloadIface });
    const held = [POD1, POD2, REMOTE].map((line) => parseRouteEvent(line)!.route).filter((r) => before.some((l) => l.name === r.dev));
    routes.reset(held);
    expect(linkEffects(links, after, routes, iface('eth0'), isDefaultWorkloadIface)).toEqual(effects);
    expect(held.filter((r) => routes.actual(routeKey(r)) === undefined).map((r) => r.dst)).toEqual(dropped);
    if (!effects.full) expect(links.all).toEqual(after);
  });
});
