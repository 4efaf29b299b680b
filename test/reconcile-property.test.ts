// Property: whatever the cluster and however it changes, after every pass the namespace's
// wren-owned routes are exactly the model's (less the ones waiting for a device), and a second
// pass writes nothing. Runs on a real kernel, so the sizes are kept small.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataplaneConfig } from '../agent/node-plan.js';
import { reconcileOnce } from '../agent/reconciler.js';
import { IpKernel } from '../kernel/kernel.js';
import { countOps, routeSpec } from '../kernel/plan.js';
import { MAIN_TABLE } from '../kernel/state.js';
import type { ClusterSnapshot, EncapMode } from '../routing/cluster.js';
import { block, node, pool, workload } from './support/seed-cluster.js';
import { caliVethLines, scratchNs, type ScratchNs } from './support/scratch-ns.js';

const NODES = ['a', 'b', 'c', 'd'];
const ADDRESSES = ['172.16.30.6/24', '172.16.30.7/24', '172.16.31.8/24', '172.16.30.9/24'];
const IFACES = ['cali00000000000', 'cali00000000001', 'cali00000000002'];
const config: DataplaneConfig = { nodeName: 'a', proto: 199, table: MAIN_TABLE, vxlan: { vni: 4096, port: 4789 } };

const snapshotArb: fc.Arbitrary<ClusterSnapshot> = fc
  .record({
    vxlan: fc.constantFrom<EncapMode>('Always', 'CrossSubnet', 'Never'),
    nodeCount: fc.integer({ min: 1, max: 4 }),
    blocks: fc.uniqueArray(
      fc.record({ index: fc.integer({ min: 0, max: 40 }), affinity: fc.option(fc.integer({ min: 0, max: 3 })), borrowed: fc.array(fc.tuple(fc.integer({ min: 1, max: 63 }), fc.integer({ min: 0, max: 3 })), { maxLength: 3 }) }),
      { selector: (b) => b.index, maxLength: 8 },
    ),
    pods: fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 1, max: 250 })), { selector: (p) => p[0], maxLength: 3 }),
  })
  .map(({ vxlan, nodeCount, blocks, pods }) => {
    const names = NODES.slice(0, nodeCount);
    return {
      pools: [pool({ vxlan })],
      nodes: names.map((name, i) => node(name, ADDRESSES[i] ?? '', { vxlanTunnelAddr: `10.250.0.${i + 1}` as never })),
      blocks: blocks.map((b) => {
        const affinity = b.affinity === null ? undefined : names[b.affinity % nodeCount];
        const owners = b.borrowed.map(([ordinal, owner]): [number, string] => [ordinal, names[owner % nodeCount] ?? 'a']);
        return block(`10.244.${b.index}.0/26`, affinity, affinity === undefined && owners.length === 0 ? [] : owners);
      }),
      affinities: [],
      workloads: pods.map(([i, host]) => workload('ns', `pod${i}`, 'a', [`10.245.0.${host}`], IFACES[i] ?? '')),
    };
  });

let ns: ScratchNs;
beforeAll(async () => {
  ns = await scratchNs('prop');
  await ns.ip(IFACES.slice(0, 2).flatMap(caliVethLines)); // the third pod's veth never appears
});
afterAll(async () => {
  await ns?.remove();
});

describe('reconcile property', () => {
  it('owned routes equal the model after every change; the next pass is a no-op', async () => {
    const kernel = new IpKernel(ns.name);
    await fc.assert(
      fc.asyncProperty(fc.array(snapshotArb, { minLength: 1, maxLength: 3 }), async (sequence) => {
        for (const snapshot of sequence) {
          const report = await reconcileOnce(kernel, snapshot, config, { allowDeletes: true });
          expect(report.failures).toEqual([]);
          const held = new Set(report.planned.routes.held.map((h) => h.route.dst));
          const want = report.desired.routes.filter((r) => !held.has(r.dst)).map(routeSpec).sort();
          const have = (await kernel.readRoutes(MAIN_TABLE)).filter((r) => r.proto === 199).map(routeSpec).sort();
          expect(have).toEqual(want);
          const again = await reconcileOnce(kernel, snapshot, config, { allowDeletes: true });
          expect(countOps(again.planned.plan)).toBe(0);
        }
      }),
      { numRuns: 25 },
    );
  }, 120_000);
});
