// The meaning checks followed change by change (Admission.changes, then the engine's update)
// against the whole picture checked afresh (Admission.admit, then a build): after any sequence of
// block, affinity and workload changes — IPAM records appearing before or after their pods,
// addresses reused, blocks of the wrong size or name, pods on the wrong interface — both must give
// the same routes and the same problems.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatRoute } from '../kernel/format.js';
import { MAIN_TABLE } from '../kernel/state.js';
import type { Cidr } from '../kernel/values.js';
import { nthAddress } from '../kernel/values.js';
import { Admission } from '../routing/admission.js';
import type { AffinityState, Allocation, BlockAffinity, ClusterSnapshot, IpamBlock, Workload } from '../routing/cluster.js';
import type { HostSpace } from '../routing/forbidden-space.js';
import { RouteEngine, type EngineChange } from '../routing/route-engine.js';
import { isDefaultWorkloadIface } from '../routing/workload-iface.js';
import { cidr, iface, ip, node, pool, workload } from './support/seed-cluster.js';

const LOCAL = { name: 'n0', hostIface: iface('eth0') };
const OPTIONS = { proto: 199, table: MAIN_TABLE };
const NODES = ['n0', 'n1', 'n2', 'n3'];
const HOST: HostSpace = { addresses: [{ cidr: '172.16.0.10/24' as Cidr, dev: 'eth0' }], gateways: [ip('172.16.0.1')] };
const SETTINGS = { forbiddenCidrs: [], isWorkloadIface: isDefaultWorkloadIface };
const BASE: ClusterSnapshot = {
  pools: [pool({ vxlan: 'Always' })],
  nodes: NODES.map((n, i) => node(n, `172.16.0.${10 + i}/24`)),
  blocks: [],
  affinities: [],
  workloads: [],
};

const blockArb: fc.Arbitrary<IpamBlock> = fc
  .record({
    slot: fc.integer({ min: 0, max: 3 }),
    shape: fc.constantFrom('ok', 'ok', 'ok', 'wide', 'unnamed'),
    affinity: fc.option(fc.constantFrom(...NODES), { nil: undefined }),
    owners: fc.array(fc.record({ ordinal: fc.integer({ min: 1, max: 3 }), node: fc.option(fc.constantFrom(...NODES), { nil: undefined }), pod: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }) }), { maxLength: 3 }),
  })
  .map(({ slot, shape, affinity, owners }) => {
    const c = cidr(shape === 'wide' ? '10.244.0.0/24' : `10.244.0.${64 * slot}/26`);
    const seen = new Set<number>();
    const allocations: Allocation[] = owners
      .filter((o) => !seen.has(o.ordinal) && seen.add(o.ordinal) !== undefined)
      .map((o) => ({ ip: nthAddress(c, o.ordinal), ...(o.node === undefined ? {} : { node: o.node }), ...(o.pod === undefined ? {} : { namespace: 'default', pod: `pod${o.pod}` }) }));
    const name = shape === 'unnamed' ? `b${slot}` : c.replace(/[./]/g, '-');
    return { name, cidr: c, ...(affinity === undefined ? {} : { affinityNode: affinity }), allocations };
  });
const affinityArb: fc.Arbitrary<BlockAffinity> = fc
  .record({ slot: fc.integer({ min: 0, max: 3 }), node: fc.constantFrom(...NODES), state: fc.constantFrom<AffinityState>('pending', 'confirmed') })
  .map(({ slot, node: n, state }) => ({ name: `${n}-${slot}`, node: n, cidr: cidr(`10.244.0.${64 * slot}/26`), state }));
const workloadArb: fc.Arbitrary<Workload> = fc
  .record({ id: fc.integer({ min: 0, max: 3 }), node: fc.constantFrom('n0', 'n0', 'n1'), host: fc.constantFrom(1, 2, 3, 65, 66, 67, 200), onEth0: fc.boolean() })
  .map(({ id, node: n, host, onEth0 }) => workload('default', `pod${id}`, n, [`10.244.0.${host}`], onEth0 && id === 3 ? 'eth0' : `cali000000000${id}`));

interface State {
  blocks: Map<string, IpamBlock>;
  affinities: Map<string, BlockAffinity>;
  workloads: Map<string, Workload>;
}
const stateArb = fc
  .record({ blocks: fc.array(blockArb, { maxLength: 5 }), affinities: fc.array(affinityArb, { maxLength: 3 }), workloads: fc.array(workloadArb, { maxLength: 4 }) })
  .map(({ blocks, affinities, workloads }): State => ({
    blocks: new Map(blocks.map((b) => [b.name, b])),
    affinities: new Map(affinities.map((a) => [a.name, a])),
    workloads: new Map(workloads.map((w) => [w.name, w])),
  }));
const mutationArb = fc.oneof(
  blockArb.map((b) => (s: State) => void s.blocks.set(b.name, b)),
  affinityArb.map((a) => (s: State) => void s.affinities.set(a.name, a)),
  workloadArb.map((w) => (s: State) => void s.workloads.set(w.name, w)),
  fc.record({ kind: fc.constantFrom('blocks' as const, 'affinities' as const, 'workloads' as const), index: fc.nat() }).map(({ kind, index }) => (s: State) => {
    const key = [...s[kind].keys()][index % Math.max(1, s[kind].size)];
    if (key !== undefined) s[kind].delete(key);
  }),
);

const snapshotOf = (s: State): ClusterSnapshot => ({ ...BASE, blocks: [...s.blocks.values()], affinities: [...s.affinities.values()], workloads: [...s.workloads.values()] });

function changesBetween(a: State, b: State): EngineChange[] {
  const out: EngineChange[] = [];
  const diff = <T>(kind: 'IPAMBlock' | 'BlockAffinity' | 'Workload', x: Map<string, T>, y: Map<string, T>) => {
    for (const key of new Set([...x.keys(), ...y.keys()])) if (x.get(key) !== y.get(key)) out.push({ kind, before: x.get(key), after: y.get(key) } as EngineChange);
  };
  diff('IPAMBlock', a.blocks, b.blocks);
  diff('BlockAffinity', a.affinities, b.affinities);
  diff('Workload', a.workloads, b.workloads);
  return out;
}

function full(s: State) {
  const { admission, snapshot } = Admission.admit(snapshotOf(s), LOCAL.name, HOST, SETTINGS);
  return { admission, engine: RouteEngine.build(snapshot, LOCAL, OPTIONS) };
}

function picture({ admission, engine }: ReturnType<typeof full>) {
  return {
    routes: engine.routes().map((r) => `${formatRoute(r)} ${r.class} ${r.source}`).sort(),
    problems: [...admission.problems(), ...engine.problems()].map((p) => JSON.stringify(p)).sort(),
  };
}

describe('meaning checks, change by change', () => {
  it('leave exactly what checking the whole picture afresh gives, after any change sequence', () => {
    let incremental = 0;
    let refused = 0;
    fc.assert(
      fc.property(stateArb, fc.array(fc.array(mutationArb, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 8 }), fc.constantFrom('kept', 'reversed'), (start, steps, order) => {
        let state = start;
        let current = full(state);
        for (const step of steps) {
          const next: State = { blocks: new Map(state.blocks), affinities: new Map(state.affinities), workloads: new Map(state.workloads) };
          for (const mutation of step) mutation(next);
          // In any order: a store's journal lists changes by key, not blocks first.
          const changes = changesBetween(state, next);
          const admitted = current.admission.changes(order === 'reversed' ? changes.reverse() : changes);
          const lookup = (c: string) => [...next.affinities.values()].filter((a) => a.cidr === c);
          const touched = admitted === undefined ? undefined : current.engine.update(admitted, lookup);
          const fresh = full(next);
          state = next;
          if (touched === undefined) {
            refused += 1;
            current = fresh;
            continue;
          }
          incremental += 1;
          expect(picture(current)).toEqual(picture(fresh));
        }
      }),
      { numRuns: 500 },
    );
    expect(incremental).toBeGreaterThan(refused);
  });
});
