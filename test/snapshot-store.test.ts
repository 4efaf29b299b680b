import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ParseResult } from '../calico/objects/api.js';
import { parseObject } from '../calico/objects/parse-object.js';
import { SnapshotStore, type StoreChange } from '../agent/snapshot-store.js';
import type { ObjectProblem } from '../routing/cluster.js';
import { rawAffinity, rawBlock, rawNode, rawPod, rawPool } from './fixtures/raw-objects.js';

function harness() {
  const problems: ObjectProblem[] = [];
  const changes: StoreChange[] = [];
  const store = new SnapshotStore((p) => problems.push(p));
  store.onChange((c) => changes.push(c));
  return { store, problems, changes };
}

const seedItems = (JSON.parse(readFileSync(new URL('./fixtures/seed-ipip-cluster.json', import.meta.url), 'utf8')) as { items: unknown[] }).items;
const seedOf = (kind: string) => seedItems.filter((item) => (item as { kind: string }).kind === kind).map((item) => parseObject(item));
const badBlock = () => parseObject(rawBlock({ allocations: [0] }));

describe('SnapshotStore: watch events', () => {
  it('adds, then ignores the same value again without a change', () => {
    const { store, changes } = harness();
    expect(store.apply(parseObject(rawPool()))).toBe(true);
    const first = store.snapshot();
    expect(store.apply(parseObject(rawPool()))).toBe(false);
    expect(changes).toEqual([{ kind: 'IPPool', added: 1, updated: 0, removed: 0 }]);
    expect(store.snapshot()).toBe(first);
    expect(first.pools.map((p) => p.name)).toEqual(['default-ipv4-ippool']);
  });

  it('caches the snapshot until a change, then builds a new one', () => {
    const { store } = harness();
    store.upsertRaw(rawPool());
    const before = store.snapshot();
    expect(store.snapshot()).toBe(before);
    store.upsertRaw(rawPool({ blockSize: 28 }));
    const after = store.snapshot();
    expect(after).not.toBe(before);
    expect(after.pools[0]?.blockSize).toBe(28);
    expect(before.pools[0]?.blockSize).toBe(26);
  });

  it('reports an update as one', () => {
    const { store, changes } = harness();
    store.upsertRaw(rawNode());
    store.upsertRaw(rawNode({ 'projectcalico.org/IPv4Address': '172.16.30.70/24' }));
    expect(changes.at(-1)).toEqual({ kind: 'Node', added: 0, updated: 1, removed: 0 });
    expect(store.snapshot().nodes).toEqual([{ name: 'minikube-m02', ipv4: { ip: '172.16.30.70', cidr: '172.16.30.70/24' } }]);
  });

  it('drops the last good value of an object that turns invalid, and reports it once', () => {
    const { store, problems, changes } = harness();
    store.upsertRaw(rawBlock());
    expect(store.apply(badBlock())).toBe(true);
    expect(store.apply(badBlock())).toBe(false);
    expect(store.snapshot().blocks).toEqual([]);
    expect(changes.at(-1)).toEqual({ kind: 'IPAMBlock', added: 0, updated: 0, removed: 1 });
    expect(problems).toEqual([{ kind: 'IPAMBlock', name: '10-244-205-192-26', field: 'spec.allocations', message: expect.stringMatching(/has 1 entries/), reason: 'invalid' }]);
    expect(store.invalidCount).toBe(1);
    expect(store.problems()).toEqual(problems);
  });

  it('reports a different problem of the same object', () => {
    const { store, problems } = harness();
    store.apply(badBlock());
    store.apply(parseObject(rawBlock({ cidr: 'x' })));
    expect(problems.map((p) => p.field)).toEqual(['spec.allocations', 'spec.cidr']);
    expect(store.invalidCount).toBe(1);
  });

  it('takes a fixed object back, and reports the problem again if it returns', () => {
    const { store, problems } = harness();
    store.apply(badBlock());
    expect(store.apply(parseObject(rawBlock()))).toBe(true);
    expect(store.invalidCount).toBe(0);
    expect(store.problems()).toEqual([]);
    expect(store.snapshot().blocks).toHaveLength(1);
    store.apply(badBlock());
    expect(problems).toHaveLength(2);
  });

  it('keeps a node whose annotation is bad, reporting the dropped field once and not counting it invalid', () => {
    const { store, problems } = harness();
    const raw = rawNode({ 'projectcalico.org/IPv4Address': '172.16.30.7/24', 'projectcalico.org/VXLANTunnelMACAddr': 'nope' });
    store.upsertRaw(raw);
    store.upsertRaw(raw);
    expect(store.snapshot().nodes).toHaveLength(1);
    expect(problems.map((p) => p.field)).toEqual(['metadata.annotations["projectcalico.org/VXLANTunnelMACAddr"]']);
    expect(store.invalidCount).toBe(0);
    expect(store.problems()).toHaveLength(1);
    store.upsertRaw(rawNode());
    expect(store.problems()).toEqual([]);
  });

  it('removes a workload whose pod has finished (ignored under its key)', () => {
    const { store, changes } = harness();
    store.upsertRaw(rawPod());
    expect(store.snapshot().workloads).toHaveLength(1);
    const result = store.upsertRaw(rawPod({ status: { phase: 'Succeeded' } }));
    expect(result.status).toBe('ignored');
    expect(store.snapshot().workloads).toEqual([]);
    expect(changes.at(-1)).toEqual({ kind: 'Workload', added: 0, updated: 0, removed: 1 });
  });

  it('does nothing for an ignored result without a key', () => {
    const { store, changes } = harness();
    expect(store.apply({ status: 'ignored', reason: 'a Service' })).toBe(false);
    expect(changes).toEqual([]);
  });

  it('removes by key; removing what is not there changes nothing', () => {
    const { store, changes } = harness();
    store.upsertRaw(rawPod());
    expect(store.remove('Workload', 'default/nginx')).toBe(true);
    expect(store.remove('Workload', 'default/nginx')).toBe(false);
    expect(store.snapshot().workloads).toEqual([]);
    expect(changes.map((c) => c.removed)).toEqual([0, 1]);
  });

  it('forgets an invalid object once it is deleted', () => {
    const { store } = harness();
    store.apply(badBlock());
    expect(store.remove('IPAMBlock', '10-244-205-192-26')).toBe(false);
    expect(store.invalidCount).toBe(0);
    expect(store.problems()).toEqual([]);
  });

  it('stops calling a listener that unsubscribed', () => {
    const store = new SnapshotStore();
    const heard: StoreChange[] = [];
    const off = store.onChange((c) => heard.push(c));
    store.upsertRaw(rawPool());
    off();
    store.upsertRaw(rawNode());
    expect(heard).toHaveLength(1);
  });
});

describe('SnapshotStore: relists', () => {
  function seeded() {
    const h = harness();
    for (const kind of ['IPPool', 'IPAMBlock', 'BlockAffinity', 'Node'] as const) h.store.replaceKind(kind, seedOf(kind));
    h.store.replaceKind('Workload', seedOf('Pod'));
    h.changes.length = 0;
    return h;
  }

  it('builds the seed cluster from one relist per kind', () => {
    const { store } = seeded();
    const snapshot = store.snapshot();
    expect([snapshot.pools.length, snapshot.nodes.length, snapshot.blocks.length, snapshot.affinities.length, snapshot.workloads.length]).toEqual([1, 3, 3, 3, 2]);
    expect(snapshot.workloads.map((w) => w.iface)).toEqual(['calic440f455693', 'califba6dd09590']);
  });

  it.each([
    { name: 'blocks', kind: 'IPAMBlock', source: 'IPAMBlock', unchanged: 3 },
    { name: 'nodes', kind: 'Node', source: 'Node', unchanged: 3 },
    { name: 'pods (the host-network one is ignored)', kind: 'Workload', source: 'Pod', unchanged: 2 },
  ] as const)('a relist of the same $name changes nothing and emits nothing', ({ kind, source, unchanged }) => {
    const { store, changes } = seeded();
    const before = store.snapshot();
    expect(store.replaceKind(kind, seedOf(source))).toEqual({ kind, added: 0, updated: 0, removed: 0, unchanged, invalid: 0 });
    expect(changes).toEqual([]);
    expect(store.snapshot()).toBe(before);
  });

  it('counts what a relist added, updated and removed, in one change', () => {
    const { store, changes } = seeded();
    const nodes = seedOf('Node').filter((r) => r.status === 'ok' && r.object.key !== 'minikube-m03');
    const updated = parseObject(rawNode({ 'projectcalico.org/IPv4Address': '172.16.30.77/24' }, 'minikube-m02'));
    const added = parseObject(rawNode({ 'projectcalico.org/IPv4Address': '172.16.30.9/24' }, 'minikube-m04'));
    const counts = store.replaceKind('Node', [...nodes.filter((r) => r.status === 'ok' && r.object.key !== 'minikube-m02'), updated, added]);
    expect(counts).toEqual({ kind: 'Node', added: 1, updated: 1, removed: 1, unchanged: 1, invalid: 0 });
    expect(changes).toEqual([{ kind: 'Node', added: 1, updated: 1, removed: 1 }]);
    expect(store.snapshot().nodes.map((n) => [n.name, n.ipv4?.ip])).toEqual([
      ['minikube', '172.16.30.6'],
      ['minikube-m02', '172.16.30.77'],
      ['minikube-m04', '172.16.30.9'],
    ]);
  });

  it('drops and counts objects that relist invalid, reporting each problem once across relists', () => {
    const { store, problems, changes } = seeded();
    const relist = (): ParseResult[] => [...seedOf('IPAMBlock').slice(0, 2), parseObject(rawBlock({ allocations: [0] }))];
    expect(store.replaceKind('IPAMBlock', relist())).toEqual({ kind: 'IPAMBlock', added: 0, updated: 0, removed: 1, unchanged: 2, invalid: 1 });
    expect(store.replaceKind('IPAMBlock', relist())).toEqual({ kind: 'IPAMBlock', added: 0, updated: 0, removed: 0, unchanged: 2, invalid: 1 });
    expect(problems).toHaveLength(1);
    expect(changes).toHaveLength(1);
    expect(store.invalidCount).toBe(1);
    // Gone from the datastore: no longer counted.
    store.replaceKind('IPAMBlock', seedOf('IPAMBlock').slice(0, 2));
    expect(store.invalidCount).toBe(0);
    expect(store.problems()).toEqual([]);
  });

  it('leaves other kinds alone', () => {
    const { store } = seeded();
    store.replaceKind('Workload', []);
    expect(store.snapshot().workloads).toEqual([]);
    expect(store.snapshot().nodes).toHaveLength(3);
  });

  it('refuses results of another kind', () => {
    const { store } = seeded();
    expect(() => store.replaceKind('Node', seedOf('IPPool'))).toThrow(/replaceKind\(Node\) was given a IPPool/);
  });
});

describe('SnapshotStore: affinities by block CIDR', () => {
  const cidr = '10.244.205.192/26';
  const onOld = () => parseObject(rawAffinity({ node: 'minikube-m02' }, 'minikube-m02-10-244-205-192-26'));
  const onNew = () => parseObject(rawAffinity({ node: 'minikube-m03', state: 'pending' }, 'minikube-m03-10-244-205-192-26'));
  const nodesOf = (store: SnapshotStore) => (store.affinitiesOf(cidr) ?? []).map((a) => `${a.node} ${a.state}`).sort();

  it('follows one, two and back to one affinity on a CIDR, by watch events and by relist', () => {
    const { store } = harness();
    expect(store.affinitiesOf(cidr)).toBeUndefined();
    store.apply(onOld());
    expect(nodesOf(store)).toEqual(['minikube-m02 confirmed']);
    store.apply(onNew()); // a block moving between nodes names both for a while
    expect(nodesOf(store)).toEqual(['minikube-m02 confirmed', 'minikube-m03 pending']);
    store.apply(parseObject(rawAffinity({ node: 'minikube-m03' }, 'minikube-m03-10-244-205-192-26')));
    expect(nodesOf(store)).toEqual(['minikube-m02 confirmed', 'minikube-m03 confirmed']);
    store.remove('BlockAffinity', 'minikube-m02-10-244-205-192-26');
    expect(nodesOf(store)).toEqual(['minikube-m03 confirmed']);
    store.apply(parseObject(rawAffinity({ node: 'minikube-m03' }, 'minikube-m03-10-244-205-192-26', 'projectcalico.org/v3')));
    expect(nodesOf(store)).toEqual(['minikube-m03 confirmed']);
    store.remove('BlockAffinity', 'minikube-m03-10-244-205-192-26');
    expect(store.affinitiesOf(cidr)).toBeUndefined();
    store.replaceKind('BlockAffinity', [onOld(), onNew()]);
    expect(nodesOf(store)).toEqual(['minikube-m02 confirmed', 'minikube-m03 pending']);
    store.replaceKind('BlockAffinity', [onNew()]);
    expect(nodesOf(store)).toEqual(['minikube-m03 pending']);
  });
});
