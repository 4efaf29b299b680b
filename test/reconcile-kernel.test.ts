// The reconciler against a real kernel, in throwaway namespaces (root only).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatRoute } from '../kernel/format.js';
import { IpKernel } from '../kernel/kernel.js';
import { countOps } from '../kernel/plan.js';
import { MAIN_TABLE } from '../kernel/state.js';
import type { DataplaneConfig } from '../agent/node-plan.js';
import { readKernel, reconcileOnce } from '../agent/reconciler.js';
import type { ClusterSnapshot } from '../routing/cluster.js';
import type { IfaceName } from '../kernel/values.js';
import { sortRoutes } from '../routing/desired-routes.js';
import { derivedVtepMac } from '../tunnels/vtep-mac.js';
import { caliVethLines, scratchNs, type ScratchNs } from './support/scratch-ns.js';
import { seedCluster, withIpam, workload } from './support/seed-cluster.js';

const PROTO = 199;
const config: DataplaneConfig = { nodeName: 'minikube', proto: PROTO, table: MAIN_TABLE, vxlan: { vni: 4096, port: 4789 } };
const opened: ScratchNs[] = [];
const kernels: IpKernel[] = [];

afterEach(async () => {
  for (const k of kernels.splice(0)) k.close();
  await Promise.all(opened.splice(0).map((ns) => ns.remove()));
});

const VXLAN = 'vxlan.calico' as IfaceName;
let persistent = false;
async function namespace(label: string): Promise<{ ns: ScratchNs; kernel: IpKernel }> {
  const ns = await scratchNs(label);
  opened.push(ns);
  const kernel = new IpKernel(ns.name, { persistent });
  kernels.push(kernel);
  return { ns, kernel };
}

async function ownedRoutes(kernel: IpKernel): Promise<string[]> {
  const routes = await kernel.readRoutes(MAIN_TABLE);
  return sortRoutes(routes.filter((r) => r.proto === PROTO)).map(formatRoute);
}

async function pass(kernel: IpKernel, snapshot: ClusterSnapshot) {
  return reconcileOnce(kernel, snapshot, config, { allowDeletes: true });
}

describe.each([
  { mode: 'one ip process per batch', persistent: false },
  { mode: 'batches streamed into long-lived ip processes', persistent: true },
])('reconcile on a real kernel: $mode', (mode) => {
  beforeEach(() => {
    persistent = mode.persistent;
  });

  it('programs VXLAN routes, device, neighbours and FDB; a second pass writes nothing', async () => {
    const { kernel } = await namespace('vxlan');
    const snapshot = seedCluster({ vxlan: 'Always' });
    const first = await pass(kernel, snapshot);
    expect(first.failures).toEqual([]);
    expect(await ownedRoutes(kernel)).toEqual([
      'blackhole 10.244.120.64/26 proto 199',
      '10.244.151.0/26 via 10.244.151.0 dev vxlan.calico proto 199 onlink',
      '10.244.205.192/26 via 10.244.205.192 dev vxlan.calico proto 199 onlink',
    ]);
    const state = await readKernel(kernel, MAIN_TABLE);
    const device = state.links.find((l) => l.name === 'vxlan.calico');
    expect(device).toMatchObject({
      kind: 'vxlan',
      mtu: 1450,
      up: true,
      mac: derivedVtepMac('minikube'),
      vxlan: { vni: 4096, port: 4789, local: '172.16.30.6', parent: 'eth0', learning: false },
    });
    expect(device?.addresses.filter((a) => !a.startsWith('fe80:'))).toEqual(['10.244.120.64/32']);
    expect(state.neighbors.map((n) => `${n.ip} ${n.mac}`).sort()).toEqual([
      `10.244.151.0 ${derivedVtepMac('minikube-m03')}`,
      `10.244.205.192 ${derivedVtepMac('minikube-m02')}`,
    ]);
    expect(state.fdb.map((f) => `${f.mac} ${f.dst}`).sort()).toEqual(
      [`${derivedVtepMac('minikube-m03')} 172.16.30.8`, `${derivedVtepMac('minikube-m02')} 172.16.30.7`].sort(),
    );

    const second = await pass(kernel, snapshot);
    expect(countOps(second.planned.plan)).toBe(0);
    expect(second.applied).toBeUndefined();
  });

  it('follows changes: a node removed and a node IP moved', async () => {
    const { kernel } = await namespace('change');
    const snapshot = seedCluster({ vxlan: 'Always' });
    await pass(kernel, snapshot);
    const moved: ClusterSnapshot = {
      ...snapshot,
      nodes: snapshot.nodes.filter((n) => n.name !== 'minikube-m03').map((n) => (n.name === 'minikube-m02' ? { ...n, ipv4: { ip: '172.16.30.9' as never, cidr: '172.16.30.9/24' as never } } : n)),
      blocks: snapshot.blocks.filter((b) => b.affinityNode !== 'minikube-m03'),
    };
    const report = await pass(kernel, moved);
    expect(report.failures).toEqual([]);
    expect(await ownedRoutes(kernel)).toEqual([
      'blackhole 10.244.120.64/26 proto 199',
      '10.244.205.192/26 via 10.244.205.192 dev vxlan.calico proto 199 onlink',
    ]);
    const state = await readKernel(kernel, MAIN_TABLE);
    expect(state.neighbors.map((n) => n.ip)).toEqual(['10.244.205.192']);
    expect(state.fdb.map((f) => `${f.mac} ${f.dst}`)).toEqual([`${derivedVtepMac('minikube-m02')} 172.16.30.9`]);
    expect(countOps((await pass(kernel, moved)).planned.plan)).toBe(0);
  });

  it('never touches foreign routes, and reports a foreign route on a key it wants', async () => {
    const { ns, kernel } = await namespace('foreign');
    await ns.ip(['route add 10.99.0.0/24 via 172.16.30.1 dev eth0 proto static', 'route add 10.244.151.0/26 via 172.16.30.1 dev eth0']);
    const report = await pass(kernel, seedCluster({}));
    expect(report.planned.routes.conflicts.map((c) => c.desired.dst)).toEqual(['10.244.151.0/26']);
    const all = (await kernel.readRoutes(MAIN_TABLE)).map(formatRoute);
    expect(all).toContain('10.99.0.0/24 via 172.16.30.1 dev eth0 proto 4');
    expect(all).toContain('10.244.151.0/26 via 172.16.30.1 dev eth0 proto 3');
    expect(all).toContain('10.244.205.192/26 via 172.16.30.7 dev eth0 proto 199 onlink');
    // Removing everything from the cluster withdraws wren's routes only.
    await pass(kernel, { pools: [], nodes: [], blocks: [], affinities: [], workloads: [] });
    const left = (await kernel.readRoutes(MAIN_TABLE)).map(formatRoute);
    expect(left.filter((r) => r.includes('proto 199'))).toEqual([]);
    expect(left).toContain('10.99.0.0/24 via 172.16.30.1 dev eth0 proto 4');
    expect(left).toContain('10.244.151.0/26 via 172.16.30.1 dev eth0 proto 3');
  });

  it('holds a pod route until its veth exists, and adopts the CNI plugin route', async () => {
    const { ns, kernel } = await namespace('held');
    const snapshot: ClusterSnapshot = withIpam({
      ...seedCluster({}),
      workloads: [workload('default', 'web', 'minikube', ['10.244.120.65'], 'cali1111111111a'), workload('default', 'db', 'minikube', ['10.244.120.66'], 'cali2222222222b')],
    });
    const first = await pass(kernel, snapshot);
    expect(first.planned.routes.held.map((h) => h.reason).sort()).toEqual(['device cali1111111111a does not exist', 'device cali2222222222b does not exist']);
    expect(first.failures).toEqual([]);
    // The CNI plugin creates one veth and its route (no protocol); the other veth appears bare.
    await ns.ip([...caliVethLines('cali1111111111a'), ...caliVethLines('cali2222222222b'), 'route add 10.244.120.65/32 dev cali1111111111a scope link']);
    const second = await pass(kernel, snapshot);
    expect(second.failures).toEqual([]);
    expect(second.planned.routes.held).toEqual([]);
    const owned = await ownedRoutes(kernel);
    expect(owned).toContain('10.244.120.65 dev cali1111111111a proto 199 scope link');
    expect(owned).toContain('10.244.120.66 dev cali2222222222b proto 199 scope link');
  });

  it("withdraws an address's old pod route when the address is reused before the new veth appears", async () => {
    const { ns, kernel } = await namespace('reuse');
    await ns.ip(caliVethLines('cali1111111111a'));
    const old: ClusterSnapshot = withIpam({ ...seedCluster({}), workloads: [workload('default', 'web', 'minikube', ['10.244.120.65'], 'cali1111111111a')] });
    await pass(kernel, old);
    expect(await ownedRoutes(kernel)).toContain('10.244.120.65 dev cali1111111111a proto 199 scope link');
    // The address now belongs to a pod whose veth the CNI plugin has not created yet.
    const reused: ClusterSnapshot = withIpam({ ...seedCluster({}), workloads: [workload('default', 'db', 'minikube', ['10.244.120.65'], 'cali2222222222b')] });
    const report = await pass(kernel, reused);
    expect(report.planned.routes.held.map((h) => h.reason)).toEqual(['device cali2222222222b does not exist']);
    expect((await ownedRoutes(kernel)).filter((r) => r.startsWith('10.244.120.65 '))).toEqual([]);
    await ns.ip(caliVethLines('cali2222222222b'));
    await pass(kernel, reused);
    expect(await ownedRoutes(kernel)).toContain('10.244.120.65 dev cali2222222222b proto 199 scope link');
    expect(countOps((await pass(kernel, reused)).planned.plan)).toBe(0);
  });

  it('reads hand back the same objects while the kernel prints the same, and fresh ones after a change', async () => {
    const { ns, kernel } = await namespace('reread');
    await pass(kernel, seedCluster({ vxlan: 'Always' }));
    const [links, neighbors, fdb] = [await kernel.readLinks(), await kernel.readNeighbors(VXLAN), await kernel.readFdb(VXLAN)];
    expect(neighbors.length).toBeGreaterThan(0);
    expect(await kernel.readLinks()).toBe(links);
    expect(await kernel.readNeighbors(VXLAN)).toBe(neighbors);
    expect(await kernel.readFdb(VXLAN)).toBe(fdb);
    await ns.ip(['link set dev vxlan.calico mtu 1400', `neigh del ${neighbors[0]?.ip ?? ''} dev vxlan.calico`]);
    const after = await kernel.readLinks();
    expect(after).not.toBe(links);
    expect(after.find((l) => l.name === VXLAN)?.mtu).toBe(1400);
    expect((await kernel.readNeighbors(VXLAN)).map((n) => n.ip)).toEqual(neighbors.slice(1).map((n) => n.ip));
    await ns.ip(['link del vxlan.calico']);
    expect(await kernel.readNeighbors(VXLAN)).toEqual([]);
    expect(await kernel.readFdb(VXLAN)).toEqual([]);
  });

  it('sets the pod MTU on the host side of local workloads', async () => {
    const { ns, kernel } = await namespace('mtu');
    await ns.ip(caliVethLines('cali4444444444d'));
    const snapshot: ClusterSnapshot = withIpam({ ...seedCluster({ vxlan: 'Always' }), workloads: [workload('default', 'web', 'minikube', ['10.244.120.68'], 'cali4444444444d')] });
    const report = await pass(kernel, snapshot);
    expect(report.desired.mtus.pod).toBe(1450);
    expect((await kernel.readLinks()).find((l) => l.name === 'cali4444444444d')?.mtu).toBe(1450);
    expect(countOps((await pass(kernel, snapshot)).planned.plan)).toBe(0);
  });

  it('a failing batch line leaves the rest applied and is reported with its line', async () => {
    const { ns, kernel } = await namespace('fail');
    await ns.ip(caliVethLines('cali3333333333c'));
    const snapshot: ClusterSnapshot = withIpam({ ...seedCluster({}), workloads: [workload('default', 'web', 'minikube', ['10.244.120.67'], 'cali3333333333c')] });
    const stale = await readKernel(kernel, MAIN_TABLE);
    await ns.ip(['link del cali3333333333c']); // gone between the read and the write
    const report = await reconcileOnce(kernel, snapshot, config, { allowDeletes: true }, stale);
    expect(report.failures).toHaveLength(1);
    expect(report.failures[0]?.line).toContain('10.244.120.67/32 dev cali3333333333c');
    expect(await ownedRoutes(kernel)).toEqual([
      'blackhole 10.244.120.64/26 proto 199',
      '10.244.151.0/26 via 172.16.30.8 dev eth0 proto 199 onlink',
      '10.244.205.192/26 via 172.16.30.7 dev eth0 proto 199 onlink',
    ]);
    // A fresh read sees the truth: the route is held, nothing fails.
    const next = await pass(kernel, snapshot);
    expect(next.failures).toEqual([]);
    expect(next.planned.routes.held.map((h) => h.route.dst)).toEqual(['10.244.120.67/32']);
  });

  it('recreates a VXLAN device with the wrong VNI and fixes a wrong MTU in place', async () => {
    const { ns, kernel } = await namespace('device');
    await ns.ip(['link add vxlan.calico mtu 1400 type vxlan id 7 local 172.16.30.6 dev eth0 dstport 4789 nolearning']);
    const report = await pass(kernel, seedCluster({ vxlan: 'Always' }));
    expect(report.planned.plan[0]?.ops).toContainEqual(expect.objectContaining({ op: 'link-delete', reason: 'VNI 7, want 4096' }));
    const after = (await readKernel(kernel, MAIN_TABLE)).links.find((l) => l.name === 'vxlan.calico');
    expect(after?.vxlan?.vni).toBe(4096);
    // A new VNI re-creates the device, which takes its routes along: the same pass writes them again.
    const renumbered = await reconcileOnce(kernel, seedCluster({ vxlan: 'Always' }), { ...config, vxlan: { vni: 5000, port: 4789 } }, { allowDeletes: true });
    expect(renumbered.failures).toEqual([]);
    expect(await ownedRoutes(kernel)).toHaveLength(3);
    expect((await readKernel(kernel, MAIN_TABLE)).neighbors).toHaveLength(2);
    await pass(kernel, seedCluster({ vxlan: 'Always' }));
    await ns.ip(['link set vxlan.calico mtu 1300']);
    const fix = await pass(kernel, seedCluster({ vxlan: 'Always' }));
    expect(fix.planned.plan[0]?.ops).toEqual([{ op: 'link-mtu', name: 'vxlan.calico', mtu: 1450 }]);
    expect(countOps((await pass(kernel, seedCluster({ vxlan: 'Always' }))).planned.plan)).toBe(0);
  });
});

describe('IPv6 on a real kernel', () => {
  it('programs vxlan-v6.calico (MTU − 70), /128 pod routes and v6 block routes', async () => {
    const ns = await scratchNs('v6');
    opened.push(ns);
    await ns.ip(['addr add fd00:30::6/64 dev eth0 nodad', ...caliVethLines('cali6666666666f')]);
    const v6node = (name: string, ip: string, vtep: string) => ({ name, ipv6: { ip: ip as never, cidr: `${ip}/64` as never }, vxlanTunnelAddrV6: vtep as never });
    const snapshot: ClusterSnapshot = withIpam({
      pools: [{ name: 'v6', cidr: 'fd00:10::/48' as never, blockSize: 122, ipipMode: 'Never', vxlanMode: 'Always', disabled: false }],
      nodes: [v6node('minikube', 'fd00:30::6', 'fd00:10::'), v6node('peer', 'fd00:30::7', 'fd00:10:0:1::')],
      blocks: [
        { name: 'fd00-10---122', cidr: 'fd00:10::/122' as never, affinityNode: 'minikube', allocations: [] },
        { name: 'fd00-10-0-1---122', cidr: 'fd00:10:0:1::/122' as never, affinityNode: 'peer', allocations: [] },
      ],
      affinities: [],
      workloads: [workload('default', 'web', 'minikube', ['fd00:10::5'], 'cali6666666666f')],
    });
    const kernel = new IpKernel(ns.name);
    const report = await reconcileOnce(kernel, snapshot, config, { allowDeletes: true });
    expect(report.failures).toEqual([]);
    const state = await readKernel(kernel, MAIN_TABLE);
    expect(state.links.find((l) => l.name === 'vxlan-v6.calico')).toMatchObject({ kind: 'vxlan', mtu: 1430, mac: derivedVtepMac('minikube', 6), vxlan: { vni: 4096, local: 'fd00:30::6', parent: 'eth0' } });
    expect(sortRoutes(state.routes.filter((r) => r.proto === PROTO)).map(formatRoute)).toEqual([
      'blackhole fd00:10::/122 proto 199 metric 1024',
      'fd00:10::5 dev cali6666666666f proto 199 metric 1024',
      'fd00:10:0:1::/122 via fd00:10:0:1:: dev vxlan-v6.calico proto 199 metric 1024 onlink',
    ]);
    expect(state.neighbors.map((n) => `${n.dev} ${n.ip} ${n.mac}`)).toEqual([`vxlan-v6.calico fd00:10:0:1:: ${derivedVtepMac('peer', 6)}`]);
    expect(state.fdb.map((f) => `${f.mac} ${f.dst}`)).toEqual([`${derivedVtepMac('peer', 6)} fd00:30::7`]);
    expect(countOps((await reconcileOnce(kernel, snapshot, config, { allowDeletes: true })).planned.plan)).toBe(0);
  });
});
