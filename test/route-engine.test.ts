// The incremental route engine against the full calculation: after any sequence of block,
// affinity and workload changes, `update` must leave exactly the routes, problems and class
// counts that building from the resulting snapshot gives — or refuse, and say so.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatRoute } from '../kernel/format.js';
import { MAIN_TABLE, routeKey } from '../kernel/state.js';
import type { AffinityState, BlockAffinity, ClusterSnapshot, IpamBlock, Workload } from '../routing/cluster.js';
import { RouteEngine, type EngineChange } from '../routing/route-engine.js';
import { block, cidr, iface, ip, node, pool, workload } from './support/seed-cluster.js';

const LOCAL = { name: 'n0', hostIface: iface('eth0') };
const OPTIONS = { proto: 199, table: MAIN_TABLE };
const NODES = ['n0', 'n1', 'n2', 'n3'];
const BASE: ClusterSnapshot = {
  pools: [pool({ vxlan: 'CrossSubnet' })],
  nodes: NODES.map((n, i) => node(n, `172.16.${i < 2 ? 0 : 1}.${10 + i}/24`, { vxlanTunnelAddr: ip(`10.244.200.${i}`) })),
  blocks: [],
  affinities: [],
  workloads: [],
};

/** Everything the engine exposes, in a form two engines can be compared by. */
function picture(engine: RouteEngine) {
  return {
    routes: engine.routes().map((r) => `${formatRoute(r)} ${r.class} ${r.source}`).sort(),
    problems: engine.problems().map((p) => JSON.stringify(p)).sort(),
    counts: engine.countsByClass(),
  };
}

// A small universe so that objects collide: /26 blocks and a /24 over four of them, borrowed
// addresses, workload /32s inside blocks, affinities in every state.
const blockArb: fc.Arbitrary<IpamBlock> = fc
  .record({
    slot: fc.integer({ min: 0, max: 7 }),
    wide: fc.boolean(),
    affinity: fc.option(fc.constantFrom(...NODES), { nil: undefined }),
    borrowed: fc.array(fc.tuple(fc.integer({ min: 1, max: 63 }), fc.option(fc.constantFrom(...NODES), { nil: undefined })), { maxLength: 2 }),
  })
  .map(({ slot, wide, affinity, borrowed }) =>
    wide && slot < 2 ? block(`10.244.${slot}.0/24`, affinity, borrowed) : block(`10.244.${slot % 2}.${64 * (slot % 4)}/26`, affinity, borrowed),
  );
const affinityArb: fc.Arbitrary<BlockAffinity> = fc
  .record({ slot: fc.integer({ min: 0, max: 7 }), node: fc.constantFrom(...NODES), state: fc.constantFrom<AffinityState>('pending', 'confirmed', 'pendingDeletion') })
  .map(({ slot, node: n, state }) => {
    const c = cidr(`10.244.${slot % 2}.${64 * (slot % 4)}/26`);
    return { name: `${n}-${c}`, node: n, cidr: c, state };
  });
const workloadArb: fc.Arbitrary<Workload> = fc
  .record({ id: fc.integer({ min: 0, max: 3 }), node: fc.constantFrom('n0', 'n0', 'n1'), host: fc.integer({ min: 1, max: 70 }) })
  .map(({ id, node: n, host }) => workload('default', `pod${id}`, n, [`10.244.0.${host}`], `cali000000000${id}`));

/** A cluster state: objects by key, as a store holds them. */
interface State {
  blocks: Map<string, IpamBlock>;
  affinities: Map<string, BlockAffinity>;
  workloads: Map<string, Workload>;
}
const stateArb: fc.Arbitrary<State> = fc
  .record({ blocks: fc.array(blockArb, { maxLength: 6 }), affinities: fc.array(affinityArb, { maxLength: 4 }), workloads: fc.array(workloadArb, { maxLength: 3 }) })
  .map(({ blocks, affinities, workloads }) => ({
    blocks: new Map(blocks.map((b) => [b.name, b])),
    affinities: new Map(affinities.map((a) => [a.name, a])),
    workloads: new Map(workloads.map((w) => [w.name, w])),
  }));

function snapshotOf(s: State): ClusterSnapshot {
  return { ...BASE, blocks: [...s.blocks.values()], affinities: [...s.affinities.values()], workloads: [...s.workloads.values()] };
}

function changesBetween(a: State, b: State): EngineChange[] {
  const out: EngineChange[] = [];
  const diff = <T>(kind: 'IPAMBlock' | 'BlockAffinity' | 'Workload', x: Map<string, T>, y: Map<string, T>) => {
    for (const key of new Set([...x.keys(), ...y.keys()])) {
      const before = x.get(key);
      const after = y.get(key);
      if (before !== after) out.push({ kind, before, after } as EngineChange);
    }
  };
  diff('IPAMBlock', a.blocks, b.blocks);
  diff('BlockAffinity', a.affinities, b.affinities);
  diff('Workload', a.workloads, b.workloads);
  return out;
}

function lookupIn(s: State) {
  return (c: string) => [...s.affinities.values()].filter((a) => a.cidr === c);
}

type Mutation =
  | { readonly set: IpamBlock | BlockAffinity | Workload }
  | { readonly drop: 'blocks' | 'affinities' | 'workloads'; readonly index: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  blockArb.map((b) => ({ set: b })),
  affinityArb.map((a) => ({ set: a })),
  workloadArb.map((w) => ({ set: w })),
  fc.record({ drop: fc.constantFrom('blocks' as const, 'affinities' as const, 'workloads' as const), index: fc.nat() }),
);

/** The next state: a copy of `s` with a few objects set (by key) or deleted. */
function mutate(s: State, mutations: readonly Mutation[]): State {
  const next: State = { blocks: new Map(s.blocks), affinities: new Map(s.affinities), workloads: new Map(s.workloads) };
  for (const m of mutations) {
    if ('drop' in m) {
      const map: Map<string, unknown> = next[m.drop];
      const key = [...map.keys()][m.index % Math.max(1, map.size)];
      if (key !== undefined) map.delete(key);
    } else if ('cidr' in m.set && 'state' in m.set) next.affinities.set(m.set.name, m.set);
    else if ('cidr' in m.set) next.blocks.set(m.set.name, m.set as IpamBlock);
    else next.workloads.set(m.set.name, m.set);
  }
  return next;
}

describe('route engine: incremental updates', () => {
  it('leaves exactly what a full build of the same cluster gives, after any change sequence', () => {
    let incremental = 0;
    let refused = 0;
    fc.assert(
      // `prepared`: the indexes built ahead, as the agent does once idle, or by the first update.
      fc.property(stateArb, fc.array(fc.array(mutationArb, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 8 }), fc.boolean(), (start, steps, prepared) => {
        let state = start;
        let engine = RouteEngine.build(snapshotOf(state), LOCAL, OPTIONS);
        if (prepared) engine.prepareForUpdates();
        for (const step of steps) {
          const next = mutate(state, step);
          const touched = engine.update(changesBetween(state, next), lookupIn(next));
          const full = RouteEngine.build(snapshotOf(next), LOCAL, OPTIONS);
          state = next;
          if (touched === undefined) {
            refused += 1;
            engine = full;
            continue;
          }
          incremental += 1;
          expect(picture(engine)).toEqual(picture(full));
        }
      }),
      { numRuns: 500 },
    );
    // The property means something only if most steps were taken incrementally.
    expect(incremental).toBeGreaterThan(refused);
  });

  it.each([
    { name: 'a node change', change: { kind: 'Node' } as const },
    { name: 'a pool change', change: { kind: 'IPPool' } as const },
    { name: 'an IPv6 block', change: { kind: 'IPAMBlock', after: block('fd00:10::/122', 'n1') } as const },
  ])('refuses $name (only a full build can answer it)', ({ change }) => {
    const engine = RouteEngine.build(BASE, LOCAL, OPTIONS);
    expect(engine.update([change], () => undefined)).toBeUndefined();
  });

  it('refuses a block that overlaps one it holds, and any block change while overlaps exist', () => {
    const s = { ...BASE, blocks: [block('10.244.0.0/26', 'n1')] };
    expect(RouteEngine.build(s, LOCAL, OPTIONS).update([{ kind: 'IPAMBlock', after: block('10.244.0.0/24', 'n2') }], () => undefined)).toBeUndefined();
    expect(RouteEngine.build(s, LOCAL, OPTIONS).update([{ kind: 'IPAMBlock', after: block('10.244.0.32/27', 'n2') }], () => undefined)).toBeUndefined();
    const overlapping = { ...BASE, blocks: [block('10.244.0.0/26', 'n1'), block('10.244.0.0/24', 'n2')] };
    expect(RouteEngine.build(overlapping, LOCAL, OPTIONS).update([{ kind: 'IPAMBlock', after: block('10.244.9.0/26', 'n2') }], () => undefined)).toBeUndefined();
  });

  it('touches only the keys of the object that changed', () => {
    const blocks = Array.from({ length: 1000 }, (_, i) => block(`10.244.${Math.floor(i / 4)}.${64 * (i % 4)}/26`, NODES[1 + (i % 3)]));
    const engine = RouteEngine.build({ ...BASE, blocks }, LOCAL, OPTIONS);
    const added = block('10.244.250.0/26', 'n1');
    const touched = engine.update([{ kind: 'IPAMBlock', after: added }], () => undefined);
    expect(touched).toEqual(new Set(['10.244.250.0/26']));
    expect(engine.winner('10.244.250.0/26')).toMatchObject({ class: 'direct', via: '172.16.0.11', source: `IPAMBlock/${added.name}` });
    expect(engine.countsByClass().direct).toBe(1 + blocks.filter((b) => b.affinityNode === 'n1').length);
  });

  it('brings the next candidate back when the winner of a shared key goes', () => {
    const borrowed = block('10.244.0.0/26', 'n1', [[5, 'n2']]);
    const pod = workload('default', 'web', 'n0', ['10.244.0.5'], 'cali0000000000a');
    const engine = RouteEngine.build({ ...BASE, blocks: [borrowed], workloads: [pod] }, LOCAL, OPTIONS);
    expect(engine.winner(routeKey({ dst: cidr('10.244.0.5/32'), table: MAIN_TABLE, metric: 0 }))).toMatchObject({ class: 'workload' });
    expect(engine.problems()).toHaveLength(1);
    engine.update([{ kind: 'Workload', before: pod }], () => undefined);
    expect(engine.winner('10.244.0.5/32')).toMatchObject({ class: 'vxlan', source: `IPAMBlock/${borrowed.name}` });
    expect(engine.problems()).toEqual([]);
  });
});
