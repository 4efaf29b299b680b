// The loop's incremental passes on a real kernel: after the first full pass, datastore changes,
// drift and pod veths are answered key by key against the kernel view — and the kernel still
// ends exactly where a full pass would put it, foreign routes untouched.
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { followKernelLine } from '../agent/kernel-events.js';
import type { LoopReport } from '../agent/loop-report.js';
import { ReconcileLoop } from '../agent/loop.js';
import { DEFAULT_LOOP_OPTIONS } from '../agent/loop-types.js';
import type { DataplaneConfig } from '../agent/node-plan.js';
import { reconcileOnce } from '../agent/reconciler.js';
import { runOk } from '../kernel/exec.js';
import { IpKernel } from '../kernel/kernel.js';
import { startMonitor } from '../kernel/monitor.js';
import { countOps } from '../kernel/plan.js';
import { MAIN_TABLE } from '../kernel/state.js';
import { VXLAN_DEVICE } from '../routing/devices.js';
import { caliVethLines, scratchNs } from './support/scratch-ns.js';
import { allocated, block, seedCluster, withIpam, workload } from './support/seed-cluster.js';
import { blockObject, StoreSource, workloadObject } from './support/store-source.js';
import { until } from './support/until.js';

const config: DataplaneConfig = { nodeName: 'minikube', proto: 199, table: MAIN_TABLE, vxlan: { vni: 4096, port: 4789 } };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(graceMs = 0, resyncIntervalMs = DEFAULT_LOOP_OPTIONS.resyncIntervalMs) {
  const ns = await scratchNs('incr');
  cleanups.push(() => ns.remove());
  const kernel = new IpKernel(ns.name, { persistent: true });
  cleanups.push(async () => kernel.close());
  const source = new StoreSource(seedCluster({ vxlan: 'Always' }));
  const reports: LoopReport[] = [];
  const loop = new ReconcileLoop(kernel, source, config, pino({ level: 'silent' }), { ...DEFAULT_LOOP_OPTIONS, graceMs, resyncIntervalMs }, {
    onPass: (r) => {
      if (r !== undefined) reports.push(r);
    },
  });
  cleanups.push(() => loop.stop());
  // `deaf` drops the monitor's lines: an event lost on the way, as an overrun would lose it.
  const hearing = { deaf: false };
  const monitor = startMonitor(ns.name, { table: MAIN_TABLE, neighborDevices: [VXLAN_DEVICE] }, (line) => {
    if (!hearing.deaf) followKernelLine(loop, line);
  }, () => undefined);
  cleanups.push(async () => monitor.stop());
  const routes = async () => (await kernel.readRoutes(MAIN_TABLE)).map((r) => `${r.dst} ${r.proto}`).sort();
  const has = async (dst: string, proto = 199) => (await routes()).includes(`${dst} ${proto}`);
  const settled = () => until(() => !loop.status().running, 5000, 'the loop to settle');
  return { ns, kernel, source, loop, reports, routes, has, settled, hearing };
}

/** A loop started on the seed cluster, its first full pass done. */
async function started(...args: Parameters<typeof setup>) {
  const world = await setup(...args);
  world.loop.start();
  await until(() => world.has('10.244.151.0/26'));
  await world.settled();
  return world;
}

describe('incremental passes', () => {
  it('routes changes, repairs drift and follows pod veths key by key, ending where a full pass would', async () => {
    const { ns, kernel, source, reports, has, settled } = await started();
    await new Promise((r) => setTimeout(r, 150)); // the first pass's own echoes have come back
    await settled();
    expect(reports[0]?.mode).toBe('full');
    const fullPasses = () => reports.filter((r) => r.mode === 'full').length;
    const before = reports.length;

    // A new remote block: one key looked at, one route written.
    source.put(blockObject(block('10.244.50.0/26', 'minikube-m02')));
    await until(() => has('10.244.50.0/26'));
    const step = reports.slice(before).find((r) => r.replaced > 0);
    expect(step).toMatchObject({ mode: 'incremental', keys: 1, replaced: 1, removed: 0 });

    // Drift: a route deleted by hand comes back from the monitor's event alone.
    await ns.ip(['route del 10.244.151.0/26']);
    await until(() => has('10.244.151.0/26'), 2000);

    // A foreign route on a key wren then wants is reported, never overwritten.
    await ns.ip(['route add 10.244.60.0/26 dev eth0']);
    await new Promise((r) => setTimeout(r, 50));
    source.put(blockObject(block('10.244.60.0/26', 'minikube-m03')));
    await until(() => reports.at(-1)?.conflicts.some((c) => c.desired.dst === '10.244.60.0/26') === true);
    expect(await has('10.244.60.0/26', 3)).toBe(true);

    // A local pod: IPAM's record of its address first (as Calico's CNI plugin writes it), then the
    // pod; held until its veth exists, then routed, the veth given the pod MTU.
    const web = workload('default', 'web', 'minikube', ['10.244.120.70'], 'cali5555555555e');
    const home = seedCluster({ vxlan: 'Always' }).blocks.find((b) => b.affinityNode === 'minikube');
    if (home === undefined) throw new Error('the seed has no block of minikube');
    source.put(blockObject(allocated(home, web)));
    source.put(workloadObject(web));
    await until(() => reports.at(-1)?.held.some((h) => h.route.dst === '10.244.120.70/32') === true);
    await ns.ip(caliVethLines('cali5555555555e'));
    await until(() => has('10.244.120.70/32'));
    await until(async () => (await kernel.readLinks()).find((l) => l.name === 'cali5555555555e')?.mtu === 1450);
    // The veth goes (the pod is being torn down): its route goes with it, and comes back with a new one.
    await ns.ip(['link del cali5555555555e']);
    await settled();
    await ns.ip(caliVethLines('cali5555555555e'));
    await until(() => has('10.244.120.70/32'));

    // Withdrawals.
    source.remove('IPAMBlock', block('10.244.50.0/26', undefined).name);
    await until(async () => !(await has('10.244.50.0/26')));
    source.remove('Workload', 'default/web');
    await until(async () => !(await has('10.244.120.70/32')));
    await settled();

    // None of this needed a full pass, and a full pass now finds nothing to do.
    expect(fullPasses()).toBe(1);
    const check = await reconcileOnce(new IpKernel(ns.name), source.snapshot(), config, { allowDeletes: true, dryRun: true });
    expect(countOps(check.planned.plan)).toBe(0);
    expect(check.planned.routes.conflicts.map((c) => c.desired.dst)).toEqual(['10.244.60.0/26']);
  });

  it('holds a pod until IPAM records its address, then routes it, and a reused address follows IPAM, all without a full pass', async () => {
    const { ns, kernel, source, reports, has, settled } = await started();
    await ns.ip([...caliVethLines('cali5555555555e'), ...caliVethLines('cali6666666666f')]);
    await settled();
    const before = reports.length;
    const home = seedCluster({ vxlan: 'Always' }).blocks.find((b) => b.affinityNode === 'minikube')!;
    // The pod is written before IPAM's record of its address is read (two watches race).
    const early = workload('default', 'early', 'minikube', ['10.244.120.71'], 'cali5555555555e');
    source.put(workloadObject(early));
    await until(() => reports.at(-1)?.problems.some((p) => p.name === 'default/early' && p.reason === 'not-allocated') === true);
    expect(await has('10.244.120.71/32')).toBe(false);
    source.put(blockObject(allocated(home, early)));
    await until(() => has('10.244.120.71/32'));
    await settled();
    expect(reports.at(-1)?.problems.some((p) => p.name === 'default/early')).toBe(false);
    // The address is given to another pod: the route moves to the new pod's veth.
    const next = workload('default', 'next', 'minikube', ['10.244.120.71'], 'cali6666666666f');
    source.put(workloadObject(next));
    source.put(blockObject(allocated(home, next)));
    await until(async () => (await kernel.readRoutes(MAIN_TABLE)).find((r) => r.dst === '10.244.120.71/32')?.dev === 'cali6666666666f');
    await settled();
    expect(reports.at(-1)?.problems).toContainEqual(expect.objectContaining({ name: 'default/early', reason: 'not-allocated' }));
    expect(reports.slice(before).filter((r) => r.mode === 'full')).toEqual([]);
  });

  it('a resync re-reads the kernel and repairs what the monitor missed, without recomputing routes', async () => {
    const { ns, source, loop, reports, has, settled, hearing } = await started();
    source.put(blockObject(block('10.244.50.0/26', 'minikube-m02')));
    await until(() => has('10.244.50.0/26'));
    await settled();
    // Drift the loop does not hear of.
    hearing.deaf = true;
    await ns.ip(['route del 10.244.50.0/26', 'route add 10.244.77.0/26 dev eth0 proto 199']);
    await new Promise((r) => setTimeout(r, 100));
    hearing.deaf = false;
    expect(await has('10.244.50.0/26')).toBe(false);
    loop.markDirty('resync');
    await until(async () => (await has('10.244.50.0/26')) && !(await has('10.244.77.0/26')));
    await settled();
    expect(reports.find((r) => r.mode === 'resync')).toMatchObject({ replaced: 1, removed: 1 });
    expect(reports.filter((r) => r.mode === 'full')).toHaveLength(1);
  });

  it('falls back to a full pass for what only the whole picture answers, and for a lost tunnel device', async () => {
    const { ns, source, reports, has, settled } = await started();
    const before = reports.length;
    const seed = seedCluster({ vxlan: 'Always' });
    const m03 = seed.nodes.find((n) => n.name === 'minikube-m03');
    // A new tunnel address, as Calico's IPAM and then the node record it.
    const moved = withIpam({ ...seed, nodes: [{ ...m03!, vxlanTunnelAddr: '10.244.151.7' as never }] });
    const m03Block = moved.blocks.find((b) => b.affinityNode === 'minikube-m03');
    source.put(blockObject({ ...m03Block!, allocations: m03Block!.allocations.filter((a) => a.ip !== '10.244.151.0') }));
    source.put({ kind: 'Node', key: 'minikube-m03', value: { ...m03!, vxlanTunnelAddr: '10.244.151.7' as never } });
    await until(() => reports.slice(before).some((r) => r.mode === 'full' && r.replaced > 0));
    await ns.ip(['link del vxlan.calico']);
    await until(async () => await has('10.244.151.0/26') && await has('10.244.205.192/26'), 3000);
    await settled(); // the routes are in the kernel before the pass that wrote them reports
    expect(reports.slice(before).filter((r) => r.mode === 'full').length).toBeGreaterThanOrEqual(2);
  });

  it('spares wren routes on a new pod veth for the grace period, then removes them without a full pass', async () => {
    const graceMs = 600;
    const { ns, reports, has, settled } = await started(graceMs);
    // A veth the CNI plugin is still setting up, with a wren-protocol route no workload asks for.
    await ns.ip([...caliVethLines('cali6666666666f'), 'route add 10.244.120.99/32 dev cali6666666666f proto 199']);
    const appeared = performance.now();
    await settled();
    await new Promise((r) => setTimeout(r, 100));
    expect(await has('10.244.120.99/32')).toBe(true);
    await until(async () => !(await has('10.244.120.99/32')), 3000);
    const waited = performance.now() - appeared;
    expect(waited).toBeGreaterThanOrEqual(graceMs - 50);
    await settled();
    const removal = reports.find((r) => r.removed === 1);
    expect(removal?.mode).toBe('incremental');
    expect(reports.filter((r) => r.mode === 'full')).toHaveLength(1);
  });

  it('takes the echoes of its own neighbour and FDB writes as nothing to do, and restores entries changed by hand without a full pass', async () => {
    const { ns, kernel, reports, settled } = await started();
    await new Promise((r) => setTimeout(r, 150)); // the first pass's neighbour and FDB echoes have come back
    await settled();
    const neighbors = await kernel.readNeighbors(VXLAN_DEVICE);
    expect(neighbors.length).toBeGreaterThan(0);
    expect(reports.filter((r) => r.mode === 'full')).toHaveLength(1);
    const gone = neighbors[0]!;
    await ns.ip([`neigh del ${gone.ip} dev ${VXLAN_DEVICE}`]);
    await until(async () => (await kernel.readNeighbors(VXLAN_DEVICE)).some((n) => n.ip === gone.ip && n.mac === gone.mac), 3000);
    // Made dynamic, with another MAC: wren's permanent entry comes back.
    await settled();
    await ns.ip([`neigh replace ${gone.ip} dev ${VXLAN_DEVICE} lladdr 02:00:00:00:00:01 nud reachable`]);
    await until(async () => (await kernel.readNeighbors(VXLAN_DEVICE)).some((n) => n.ip === gone.ip && n.mac === gone.mac), 3000);
    // An FDB entry deleted by hand, and a stranger's permanent neighbour entry on the device.
    const fdb = (await kernel.readFdb(VXLAN_DEVICE))[0]!;
    await ns.ip([`neigh add 10.244.99.1 dev ${VXLAN_DEVICE} lladdr 02:00:00:00:00:02 nud permanent`]);
    await runOk('bridge', ['-n', ns.name, 'fdb', 'del', fdb.mac, 'dev', VXLAN_DEVICE, 'dst', fdb.dst, 'self']);
    await until(async () => (await kernel.readFdb(VXLAN_DEVICE)).some((f) => f.mac === fdb.mac && f.dst === fdb.dst), 3000);
    await until(async () => !(await kernel.readNeighbors(VXLAN_DEVICE)).some((n) => n.ip === '10.244.99.1'), 3000);
    await settled();
    expect(reports.filter((r) => r.mode === 'full')).toHaveLength(1);
  });

  it('reads the table for the periodic resync outside any pass, then repairs unheard drift from it', async () => {
    const { ns, reports, has, hearing, settled } = await started(0, 400);
    hearing.deaf = true;
    await ns.ip(['route del 10.244.151.0/26']);
    await new Promise((r) => setTimeout(r, 50));
    hearing.deaf = false;
    await until(() => has('10.244.151.0/26'), 3000);
    await settled();
    expect(reports.find((r) => r.replaced === 1)?.mode).toBe('resync');
    expect(reports.filter((r) => r.mode === 'full')).toHaveLength(1);
  });
});
