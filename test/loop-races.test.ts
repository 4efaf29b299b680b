// Two moments of the reconcile loop where an event could be lost, both found by the
// real-API-server test under load, both made certain here with the kernel double.
//
// Before start(): the agent creates the loop, and its kernel monitor and NAT watch feed it, while
// the node is still registering (agent/node-setup.ts). Routing starts once the node is registered:
// its tunnel address is part of what it routes. An event before then is noted, runs no pass and
// writes nothing, and is part of the first pass after start(). (The agent once answered /readyz
// 200 before its Node had its annotations: a link event had run a pass before registration.)
//
// A pod's veth that appears (or is re-created) while a full pass is writing devices: the pass
// planned with the links it read first (no veth: the pod's route is held until its device exists;
// or the old veth, with its route), then re-reads the links because it created vxlan.calico. The
// veth is as it is now in that second read, so the events it causes find no link change to
// answer, and the route stayed held (or missing) until the agent restarted.
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { followKernelLine } from '../agent/kernel-events.js';
import { ReconcileLoop } from '../agent/loop.js';
import { AgentMetrics } from '../agent/metrics.js';
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
    const metrics = new AgentMetrics();
    const loop = new ReconcileLoop(double, new MemorySource(cluster), config, pino({ level: 'silent' }), { resyncIntervalMs: 600_000, graceMs: 0, retryInitialMs: 20, retryMaxMs: 160 }, {
      onPass: (report, error, trigger: PassTrigger) => {
        passes.push([...trigger.reasons].sort());
        metrics.onPass(report, error, trigger);
      },
    });
    loops.push(loop);
    // What the agent's monitor and watches deliver: a route, a neighbour, a link, an overrun, NAT.
    followKernelLine(loop, '[ROUTE]10.244.9.0/26 via 172.16.30.99 dev eth0 proto 199 onlink ');
    followKernelLine(loop, '[NEIGH]10.244.1.0 dev vxlan.calico lladdr 66:aa:bb:cc:dd:01 PERMANENT');
    followKernelLine(loop, '[LINK]3: cali0123456789a: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500');
    loop.markDirty('monitor-overrun');
    loop.markDirty('kernel-nat');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(passes).toEqual([]);
    expect(loop.status()).toMatchObject({ started: false, running: false, passes: 0 }); // so /readyz says 503
    expect(loop.status().lastSuccessAt).toBeUndefined();
    expect(double.counts()).toMatchObject({ applies: 0, processes: 0, reads: 0 });

    const started = performance.now();
    loop.start();
    await until(() => passes.length > 0 && !loop.status().running, 10_000, 'the first pass');
    expect(passes).toEqual([['kernel', 'kernel-link', 'kernel-nat', 'monitor-overrun', 'start']]);
    expect(loop.status().started).toBe(true);
    // Not drift repaired, and timed from start(), not from the events (300 ms before it).
    expect(await metrics.registry.getSingleMetricAsString('wren_repairs_total')).toMatch(/^wren_repairs_total 0$/m);
    const timed = await metrics.registry.getSingleMetricAsString('wren_event_to_kernel_seconds');
    const sum = Number(/^wren_event_to_kernel_seconds_sum (\S+)$/m.exec(timed)?.[1] ?? 'Infinity');
    expect(sum).toBeLessThanOrEqual((performance.now() - started) / 1000);
    expect(double.routes(MAIN_TABLE).filter((r) => r.proto === 199).map((r) => r.dst as string).sort()).toEqual(['10.244.0.0/26', '10.244.1.0/26']);
  });

  it('runs nothing once stopped, even if it was never started: start() then neither watches the source nor sets a timer', async () => {
    const double = new KernelDouble({ links: [eth0] });
    const source = new MemorySource(cluster);
    let watched = 0;
    const onChange = source.onChange.bind(source);
    source.onChange = (listener) => {
      watched += 1;
      return onChange(listener);
    };
    const loop = new ReconcileLoop(double, source, config, pino({ level: 'silent' }), { resyncIntervalMs: 20, graceMs: 0, retryInitialMs: 20, retryMaxMs: 160 });
    await loop.stop();
    loop.markDirty('kernel');
    loop.start();
    source.set(cluster);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(loop.status()).toMatchObject({ running: false, passes: 0 });
    expect(double.counts()).toMatchObject({ applies: 0, reads: 0 });
    expect(watched).toBe(0);
  });
});

const PEER = iface('pfba6dd09590');
const VETH_CASES = [
  { name: 'a pod veth that appears: its held route', before: false, during: (double: KernelDouble) => double.addVeth(POD_IFACE, PEER) },
  {
    name: 'a pod veth re-created (its routes went with the old one): its route',
    before: true,
    during: (double: KernelDouble) => {
      double.deleteLink(POD_IFACE);
      double.addVeth(POD_IFACE, PEER);
    },
  },
];

describe('a pod veth that changes while a full pass writes devices', () => {
  it.each(VETH_CASES)('$name is written by the pass its link events cause', async ({ before, during }) => {
    const double = new KernelDouble({ links: [{ ...eth0, addresses: [cidr('172.16.30.8/24')] }] });
    if (before) double.addVeth(POD_IFACE, PEER);
    const apply = double.apply.bind(double);
    let changed = false;
    // The CNI plugin acts just after wren's device batch, before the pass re-reads the links.
    double.apply = async (plan: Plan) => {
      const result = await apply(plan);
      if (!changed && plan.some((p) => p.name === 'setup' && p.ops.some((op) => op.op === 'vxlan-add'))) {
        changed = true;
        during(double);
      }
      return result;
    };
    const loop = new ReconcileLoop(double, new StoreSource(seedCluster({ vxlan: 'Always' })), { ...config, nodeName: 'minikube-m03' }, pino({ level: 'silent' }), { resyncIntervalMs: 600_000, graceMs: 0, retryInitialMs: 20, retryMaxMs: 160 });
    loops.push(loop);
    double.onMonitorLine((line) => followKernelLine(loop, line));
    loop.start();

    const podRoute = () => double.routes(MAIN_TABLE).find((r) => r.dst === '10.244.151.1/32');
    await until(() => changed && podRoute() !== undefined, 5_000, 'the pod routed');
    expect(podRoute()).toMatchObject({ dev: POD_IFACE, proto: 199, scope: 'link' });
    await until(() => !loop.status().running, 5_000, 'an idle loop');
    expect(loop.status().lastReport?.held ?? []).toEqual([]);
  });
});
