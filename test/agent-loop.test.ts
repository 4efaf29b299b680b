// The reconcile loop on a real kernel: gated on sync, coalescing, repairing drift through
// `ip monitor`, retrying after failures, and leaving every route in place when stopped.
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ReconcileLoop } from '../agent/loop.js';
import { DEFAULT_LOOP_OPTIONS, type PassTrigger } from '../agent/loop-types.js';
import type { DataplaneConfig } from '../agent/node-plan.js';
import { IpKernel } from '../kernel/kernel.js';
import { startMonitor } from '../kernel/monitor.js';
import { MAIN_TABLE } from '../kernel/state.js';
import { EMPTY_SNAPSHOT } from '../routing/cluster.js';
import { MemorySource } from './support/memory-source.js';
import { caliVethLines, scratchNs, type ScratchNs } from './support/scratch-ns.js';
import { seedCluster, withIpam, workload } from './support/seed-cluster.js';
import { until } from './support/until.js';

const config: DataplaneConfig = { nodeName: 'minikube', proto: 199, table: MAIN_TABLE, vxlan: { vni: 4096, port: 4789 } };
const quiet = pino({ level: 'silent' });
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(synced: boolean) {
  const ns: ScratchNs = await scratchNs('loop');
  cleanups.push(() => ns.remove());
  const kernel = new IpKernel(ns.name, { persistent: true }); // as the agent runs it
  cleanups.push(async () => kernel.close());
  const source = new MemorySource(seedCluster({ vxlan: 'Always' }), synced);
  const passes: PassTrigger[] = [];
  const loop = new ReconcileLoop(kernel, source, config, quiet, { ...DEFAULT_LOOP_OPTIONS, retryInitialMs: 20 }, { onPass: (_r, _e, t) => passes.push(t) });
  cleanups.push(() => loop.stop());
  const owned = async (): Promise<string[]> => (await kernel.readRoutes(MAIN_TABLE)).filter((r) => r.proto === 199).map((r) => r.dst).sort();
  return { ns, kernel, source, loop, passes, owned };
}

describe('reconcile loop', () => {
  it('does nothing before the datastore is in sync, then converges', async () => {
    const { source, loop, passes, owned } = await setup(false);
    loop.start();
    await new Promise((r) => setTimeout(r, 100));
    expect(passes).toHaveLength(0);
    expect(await owned()).toEqual([]);
    source.set(seedCluster({ vxlan: 'Always' }), true);
    await until(async () => (await owned()).length === 3);
    expect(await owned()).toEqual(['10.244.120.64/26', '10.244.151.0/26', '10.244.205.192/26']);
  });

  it('coalesces a burst of events into few passes and lands the last state', async () => {
    const { source, loop, passes, owned } = await setup(true);
    loop.start();
    // Settled too: the first pass's routes reach the kernel before the pass reports.
    await until(async () => (await owned()).length === 3 && !loop.status().running);
    const before = passes.length;
    const base = seedCluster({ vxlan: 'Always' });
    for (let i = 0; i < 50; i++) source.set({ ...base, blocks: base.blocks.slice(0, 1 + (i % 3)) });
    source.set({ ...base, blocks: base.blocks.slice(0, 1) });
    await until(async () => (await owned()).length === 1 && !loop.status().running);
    expect(passes.length - before).toBeLessThanOrEqual(2);
  });

  it('repairs an owned route deleted by hand, through ip monitor', async () => {
    const { ns, kernel, loop, owned } = await setup(true);
    loop.start();
    const monitor = startMonitor(ns.name, { table: MAIN_TABLE, neighborDevices: ['vxlan.calico'] }, () => loop.markDirty('kernel'), () => undefined);
    cleanups.push(async () => monitor.stop());
    await until(async () => (await owned()).length === 3);
    await new Promise((r) => setTimeout(r, 100)); // the monitor is listening
    await ns.ip(['route del 10.244.151.0/26']);
    const ms = await until(async () => (await owned()).includes('10.244.151.0/26'));
    expect(ms).toBeLessThan(500);
    await ns.ip(['link del vxlan.calico']);
    await until(async () => (await kernel.readLinks()).some((l) => l.name === 'vxlan.calico') && (await owned()).length === 3);
  });

  it('a pod veth re-created under the same name gets its route back (new ifindex)', async () => {
    const { ns, source, loop, owned } = await setup(true);
    const withPod = withIpam({ ...seedCluster({ vxlan: 'Always' }), workloads: [workload('default', 'web', 'minikube', ['10.244.120.70'], 'cali5555555555e')] });
    source.set(withPod);
    await ns.ip(caliVethLines('cali5555555555e'));
    loop.start();
    const monitor = startMonitor(ns.name, { table: MAIN_TABLE, neighborDevices: [] }, () => loop.markDirty('kernel'), () => undefined);
    cleanups.push(async () => monitor.stop());
    await until(async () => (await owned()).includes('10.244.120.70/32'));
    await new Promise((r) => setTimeout(r, 100));
    await ns.ip(['link del cali5555555555e', ...caliVethLines('cali5555555555e')]);
    await until(async () => (await owned()).includes('10.244.120.70/32'));
    expect(loop.status().lastError).toBeUndefined();
  });

  it('stopping leaves every route in place', async () => {
    const { loop, owned } = await setup(true);
    loop.start();
    await until(async () => (await owned()).length === 3);
    await loop.stop();
    expect(await owned()).toHaveLength(3);
  });

  // An empty picture cannot be a whole cluster: withdrawing everything it does not imply would
  // wipe the node's routing. The uninstall path is `wren cleanup`, never an emptied datastore.
  it.each([
    { what: 'an empty synced cluster', picture: () => EMPTY_SNAPSHOT, says: 'the cluster has no IPPool' },
    { what: 'a cluster without this node', picture: () => ({ ...seedCluster({ vxlan: 'Always' }), nodes: seedCluster({ vxlan: 'Always' }).nodes.filter((n) => n.name !== 'minikube') }), says: 'node "minikube" is not in the cluster' },
  ])('$what is refused: routes stay, the loop says why, and resumes when the cluster is whole', async ({ picture, says }) => {
    const { source, loop, passes, owned } = await setup(true);
    loop.start();
    await until(async () => (await owned()).length === 3 && !loop.status().running);
    const before = passes.length;
    source.set(picture(), true);
    await until(async () => loop.status().clusterRefused !== undefined);
    expect(loop.status().clusterRefused).toBe(says);
    await new Promise((r) => setTimeout(r, 200));
    expect(await owned()).toEqual(['10.244.120.64/26', '10.244.151.0/26', '10.244.205.192/26']);
    expect(passes.length).toBe(before);
    const base = seedCluster({ vxlan: 'Always' });
    source.set({ ...base, blocks: base.blocks.slice(0, 2) }, true);
    await until(async () => (await owned()).length === 2);
    expect(loop.status().clusterRefused).toBeUndefined();
  });
});
