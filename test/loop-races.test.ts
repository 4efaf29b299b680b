// Two moments of the reconcile loop where an event could be lost, both found by the
// real-API-server test under load, both made certain here with the kernel double.
//
// Before start(): the agent creates the loop, and its kernel monitor and NAT watch feed it, while
// the node is still registering (agent/node-setup.ts). Routing starts once the node is registered:
// its tunnel address is part of what it routes. An event before then is noted, runs no pass and
// writes nothing, and is part of the first pass after start(). (The agent once answered /readyz
// 200 before its Node had its annotations: a link event had run a pass before registration.)
//
// A pod's veth that appears while a full pass is writing devices: the pass planned with the links
// it read first (no veth: the pod's route is held until its device exists), then re-reads the
// links because it created vxlan.calico. The veth is in that second read, so the events it causes
// find no link change to answer, and the route stayed held until the agent restarted.
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { followKernelLine } from '../agent/kernel-events.js';
import { ReconcileLoop } from '../agent/loop.js';
import type { PassTrigger } from '../agent/loop-types.js';
import type { DataplaneConfig } from '../agent/node-plan.js';
import type { Plan } from '../kernel/plan.js';
import { MAIN_TABLE, type Link } from '../kernel/state.js';
import { KernelDouble } from './support/kernel-double.js';
import { MemorySource } from './support/memory-source.js';
import { block, cidr, iface, node, pool, seedCluster } from './support/seed-cluster.js';
import { StoreSource } from './support/store-source.js';
import { until } from './support/until.js';

const config: DataplaneConfig = { nodeName: 'minikube', proto: 199, table: MAIN_TABLE, vxlan: { vni: 4096, port: 4789 } };
const eth0: Link = { name: iface('eth0'), index: 2, kind: 'veth', mtu: 1500, up: true, addresses: [cidr('172.16.30.10/24')] };
const POD_IFACE = iface('califba6dd09590');
const nodes = [node('minikube', '172.16.30.10/24'), node('node-1', '172.16.30.11/24')];
const cluster = { pools: [pool()], nodes, blocks: nodes.map((n, i) => block(`10.244.${i}.0/26`, n.name)), affinities: [], workloads: [] };

const loops: ReconcileLoop[] = [];
afterEach(async () => {
  for (const loop of loops.splice(0)) await loop.stop();
});

describe('the reconcile loop before start()', () => {
  it('notes every kind of event without a pass or a write, and folds them into the first pass after start()', async () => {
    const double = new KernelDouble({ links: [eth0] });
    const passes: string[][] = [];
    const loop = new ReconcileLoop(double, new MemorySource(cluster), config, pino({ level: 'silent' }), { resyncIntervalMs: 600_000, graceMs: 0, retryInitialMs: 20, retryMaxMs: 160 }, {
      onPass: (_report, _error, trigger: PassTrigger) => passes.push([...trigger.reasons].sort()),
    });
    loops.push(loop);
    loop.linkEvent();
    loop.markDirty('monitor-overrun');
    loop.markDirty('kernel-nat');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(passes).toEqual([]);
    expect(loop.status()).toMatchObject({ running: false, passes: 0 });
    expect(loop.status().lastSuccessAt).toBeUndefined(); // so /readyz says 503
    expect(double.counts()).toMatchObject({ applies: 0, processes: 0, reads: 0 });

    loop.start();
    await until(() => passes.length > 0 && !loop.status().running, 10_000, 'the first pass');
    expect(passes).toEqual([['kernel-link', 'kernel-nat', 'monitor-overrun', 'start']]);
    expect(double.routes(MAIN_TABLE).filter((r) => r.proto === 199).map((r) => r.dst as string).sort()).toEqual(['10.244.0.0/26', '10.244.1.0/26']);
  });

  it('runs nothing once stopped, even if it was never started', async () => {
    const double = new KernelDouble({ links: [eth0] });
    const loop = new ReconcileLoop(double, new MemorySource(cluster), config, pino({ level: 'silent' }));
    await loop.stop();
    loop.markDirty('kernel');
    loop.start();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(loop.status()).toMatchObject({ running: false, passes: 0 });
    expect(double.counts()).toMatchObject({ applies: 0, reads: 0 });
  });
});

describe('a held route whose device appears during a full pass', () => {
  it('is routed by the pass its link events cause, not left held', async () => {
    const double = new KernelDouble({ links: [{ ...eth0, addresses: [cidr('172.16.30.8/24')] }] });
    const apply = double.apply.bind(double);
    let vethAdded = false;
    // The CNI plugin makes the pod's veth just after wren's device batch, before the pass re-reads the links.
    double.apply = async (plan: Plan) => {
      const result = await apply(plan);
      if (!vethAdded && plan.some((p) => p.name === 'setup' && p.ops.some((op) => op.op === 'vxlan-add'))) {
        vethAdded = true;
        double.addVeth(POD_IFACE, iface('pfba6dd09590'));
      }
      return result;
    };
    const loop = new ReconcileLoop(double, new StoreSource(seedCluster({ vxlan: 'Always' })), { ...config, nodeName: 'minikube-m03' }, pino({ level: 'silent' }), { resyncIntervalMs: 600_000, graceMs: 0, retryInitialMs: 20, retryMaxMs: 160 });
    loops.push(loop);
    double.onMonitorLine((line) => followKernelLine(loop, line));
    loop.start();

    const podRoute = () => double.routes(MAIN_TABLE).find((r) => r.dst === '10.244.151.1/32');
    await until(() => vethAdded && podRoute() !== undefined, 5_000, 'the pod routed');
    expect(podRoute()).toMatchObject({ dev: POD_IFACE, proto: 199, scope: 'link' });
    await until(() => !loop.status().running, 5_000, 'an idle loop');
    expect(loop.status().lastReport?.held ?? []).toEqual([]);
  });
});
