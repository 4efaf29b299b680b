import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSnapshotText } from '../calico/objects/snapshot-file.js';
import { renderSnapshotFile } from '../calico/objects/snapshot-render.js';
import type { IfaceName } from '../kernel/values.js';
import type { ClusterSnapshot } from '../routing/cluster.js';
import { desiredRoutes } from '../routing/desired-routes.js';
import { rawBlock, rawNode, rawPod, rawPool } from './fixtures/raw-objects.js';
import { SEED_NODES, seedCluster } from './support/seed-cluster.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const SEED_YAML = fixture('seed-ipip-cluster.yaml');
const SEED_JSON = fixture('seed-ipip-cluster.json');

describe('the seed cluster dump (kubectl get … -A -o yaml)', () => {
  const parsed = parseSnapshotText(SEED_YAML);

  it('loads without problems; the calico-node pod (host network) is ignored', () => {
    expect(parsed.problems).toEqual([]);
    expect(parsed.ignored).toBe(1);
  });

  it('has the three nodes, three blocks, three confirmed affinities and two workloads of the seed', () => {
    const { snapshot } = parsed;
    expect(snapshot.nodes.map((n) => [n.name, n.ipv4?.cidr, n.ipipTunnelAddr])).toEqual([
      ['minikube', '172.16.30.6/24', '10.244.120.64'],
      ['minikube-m02', '172.16.30.7/24', '10.244.205.192'],
      ['minikube-m03', '172.16.30.8/24', '10.244.151.0'],
    ]);
    // Read for every node, each block keeps what the meaning checks need: its tunnel address and
    // its pods' addresses, with the pod each was given to.
    expect(snapshot.blocks.map((b) => [b.cidr, b.affinityNode, b.allocations.map((a) => `${a.ip} ${a.handle?.slice(0, 20)} ${a.pod ?? '-'}`)])).toEqual([
      ['10.244.120.64/26', 'minikube', ['10.244.120.64 ipip-tunnel-addr-min -']],
      ['10.244.151.0/26', 'minikube-m03', ['10.244.151.0 ipip-tunnel-addr-min -', '10.244.151.1 k8s-pod-network.e711 nginx-manual']],
      ['10.244.205.192/26', 'minikube-m02', ['10.244.205.192 ipip-tunnel-addr-min -', '10.244.205.193 k8s-pod-network.6b67 nginx']],
    ]);
    expect(snapshot.affinities.map((a) => [a.node, a.cidr, a.state])).toEqual([
      ['minikube', '10.244.120.64/26', 'confirmed'],
      ['minikube-m02', '10.244.205.192/26', 'confirmed'],
      ['minikube-m03', '10.244.151.0/26', 'confirmed'],
    ]);
    expect(snapshot.workloads.map((w) => [w.name, w.node, w.ips, w.iface])).toEqual([
      ['nginx', 'minikube-m02', ['10.244.205.193'], 'calic440f455693'],
      ['nginx-manual', 'minikube-m03', ['10.244.151.1'], 'califba6dd09590'],
    ]);
    expect(snapshot.pools).toEqual([{ name: 'default-ipv4-ippool', cidr: '10.244.0.0/16', blockSize: 26, ipipMode: 'Always', vxlanMode: 'Never', disabled: false, natOutgoing: true, created: expect.stringMatching(/^2022-/) }]);
  });

  it('is the cluster the routing tests build by hand (test/support/seed-cluster.ts), and routes as it does', () => {
    const seed = seedCluster({ ipip: 'Always', nat: true });
    const blocks = (s: ClusterSnapshot) => s.blocks.map((b) => ({ ...b, allocations: b.allocations.filter((a) => a.node !== b.affinityNode) })).sort((a, b) => (a.name < b.name ? -1 : 1));
    expect(parsed.snapshot.pools.map(({ created: _, ...p }) => p)).toEqual(seed.pools);
    // The dump knows when each node was made, its labels and each pod's container; the hand-built seed does not.
    expect(parsed.snapshot.nodes.map(({ created: _, labels: __, ...n }) => n)).toEqual(seed.nodes);
    expect(parsed.snapshot.workloads.map(({ containerId: _, source: __, ...w }) => w)).toEqual(seed.workloads);
    expect(blocks(parsed.snapshot)).toEqual(blocks(seed));
    for (const name of SEED_NODES) {
      const local = { name, hostIface: 'eth0' as IfaceName };
      const [fromDump, fromSeed] = [desiredRoutes(parsed.snapshot, local), desiredRoutes(seed, local)];
      expect({ routes: fromDump.routes, problems: fromDump.problems }).toEqual({ routes: fromSeed.routes, problems: fromSeed.problems });
    }
  });

  it('reads the same from the -o json dump', () => {
    expect(parseSnapshotText(SEED_JSON)).toEqual(parsed);
  });
});

describe('file shapes', () => {
  const pool = rawPool();
  const node = rawNode();
  const expected = { pools: 1, nodes: 1 };
  const counts = (s: ClusterSnapshot) => ({ pools: s.pools.length, nodes: s.nodes.length });
  it.each([
    { name: 'a JSON array', text: JSON.stringify([pool, node]) },
    { name: 'multi-document YAML, with empty documents', text: `---\n${JSON.stringify(pool)}\n---\n---\n${JSON.stringify(node)}\n---\n` },
    { name: 'nested Lists', text: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [pool, { kind: 'NodeList', apiVersion: 'v1', items: [node] }] }) },
    { name: 'JSON indented with tabs', text: JSON.stringify({ kind: 'List', items: [pool, node] }, null, '\t') },
  ])('$name', ({ text }) => {
    expect(counts(parseSnapshotText(text).snapshot)).toEqual(expected);
  });

  it.each([
    { name: 'a single object', text: JSON.stringify(pool), want: { pools: 1, nodes: 0 } },
    { name: 'an empty file', text: '', want: { pools: 0, nodes: 0 } },
    { name: 'an empty List', text: 'apiVersion: v1\nkind: List\nitems: []\n', want: { pools: 0, nodes: 0 } },
  ])('$name', ({ text, want }) => {
    expect(counts(parseSnapshotText(text).snapshot)).toEqual(want);
  });

  it.each([
    { name: 'broken YAML', text: 'apiVersion: v1\nitems:\n  - kind: Node\n   bad: indent\n', where: /line 4, column \d+/ },
    { name: 'broken JSON', text: '{\n  "kind": "List",\n  "items": [\n    {"kind": "Node",}\n  ]\n', where: /line \d+, column \d+/ },
    { name: 'a JSON List missing a comma between items', text: '{\n  "kind": "List",\n  "items": [\n    {"kind": "Node"}\n    {"kind": "Node"}\n  ]\n}\n', where: /line \d+, column \d+/ },
    { name: 'an unterminated string', text: 'kind: "List\n', where: /at line 2, column 1: Missing closing "quote$/ },
  ])('refuses $name with one error saying where', ({ text, where }) => {
    expect(() => parseSnapshotText(text)).toThrow(where);
    expect(() => parseSnapshotText(text)).toThrow(/^snapshot is not valid YAML or JSON/);
  });

  // Deep enough to overflow yaml's recursive composer, which has aborted the whole process under V8.
  it.each([
    { name: 'flow collections', text: `a: ${'['.repeat(20_000)}${']'.repeat(20_000)}`, where: /line 1, column 104:/ },
    { name: 'flow mappings', text: `a: ${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`, where: /line 1, column \d+:/ },
    { name: 'block mappings', text: Array.from({ length: 1000 }, (_, i) => `${' '.repeat(i)}a:`).join('\n'), where: /line 102, column 102:/ },
    { name: 'compact sequences', text: `${'- '.repeat(10_000)}x`, where: /line 1, column \d+:/ },
  ])('refuses $name nested beyond 100 levels, every time, without crashing', ({ text, where }) => {
    for (let i = 0; i < 5; i += 1) expect(() => parseSnapshotText(text)).toThrow(where);
    expect(() => parseSnapshotText(text)).toThrow(/nested more than 100 levels deep$/);
  });

  // JSON goes to V8's own parser, which does not recurse; what is built from it stays bounded.
  it.each([
    { name: 'arrays', text: `${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`, error: /nests lists more than 16 deep/ },
    { name: 'objects', text: `${'{"a":'.repeat(200_000)}1${'}'.repeat(200_000)}`, error: undefined },
  ])('deeply nested JSON $name: one clear error or nothing to load, never a crash', ({ text, error }) => {
    for (let i = 0; i < 3; i += 1) {
      if (error === undefined) expect(counts(parseSnapshotText(text).snapshot)).toEqual({ pools: 0, nodes: 0 });
      else expect(() => parseSnapshotText(text)).toThrow(error);
    }
  });

  it('refuses an alias bomb', () => {
    const text = ['a: &a [x, x, x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]', 'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]', 'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]'].join('\n');
    expect(() => parseSnapshotText(text)).toThrow(/^snapshot cannot be loaded: .*alias/i);
  });

  it('refuses lists nested absurdly deep', () => {
    let text = JSON.stringify(pool);
    for (let i = 0; i < 40; i += 1) text = `{"kind":"List","items":[${text}]}`;
    expect(() => parseSnapshotText(text)).toThrow(/nests lists more than 16 deep/);
  });

  it('loads the good objects and reports the bad ones', () => {
    const text = JSON.stringify([pool, rawBlock({ cidr: '10.0.0.0/8' }, 'bad-block'), node, rawPod({ spec: { hostNetwork: true } }), { apiVersion: 'v1', kind: 'Service' }]);
    const parsed = parseSnapshotText(text);
    expect(counts(parsed.snapshot)).toEqual(expected);
    expect(parsed.problems).toEqual([{ kind: 'IPAMBlock', name: 'bad-block', field: 'spec.cidr', message: expect.stringMatching(/\/8/), reason: 'invalid' }]);
    expect(parsed.ignored).toBe(2);
  });

  it('reports a node field it dropped', () => {
    const parsed = parseSnapshotText(JSON.stringify(rawNode({ 'projectcalico.org/IPv4Address': 'nope' })));
    expect(parsed.snapshot.nodes).toEqual([{ name: 'minikube-m02' }]);
    expect(parsed.problems.map((p) => p.field)).toEqual(['metadata.annotations["projectcalico.org/IPv4Address"]']);
  });

  it('reports a repeated object and keeps the last', () => {
    const parsed = parseSnapshotText(JSON.stringify([rawPool({ blockSize: 24 }), rawPool({ blockSize: 28 })]));
    expect(parsed.snapshot.pools.map((p) => p.blockSize)).toEqual([28]);
    expect(parsed.problems).toEqual([{ kind: 'IPPool', name: 'default-ipv4-ippool', field: 'metadata.name', message: expect.stringMatching(/more than once/), reason: 'invalid' }]);
  });
});

describe('renderSnapshotFile', () => {
  it('writes a kubectl-style List that reads back to the same snapshot (seed)', () => {
    const { snapshot } = parseSnapshotText(SEED_YAML);
    const text = renderSnapshotFile(snapshot);
    expect(text).toMatch(/^# /);
    expect(text).toContain('kind: List');
    expect(text).toContain('apiVersion: crd.projectcalico.org/v1\n    kind: IPAMBlock');
    expect(text).toContain('projectcalico.org/IPv4Address: 172.16.30.7/24');
    expect(text).toContain('kind: Pod'); // the seed's pods, written back as the Pods they were read from
    expect(text).toMatch(/allocations: \[ 0, null, null,/);
    expect(parseSnapshotText(text)).toEqual({ snapshot, problems: [], ignored: 0 });
  });

  it('round-trips everything a snapshot can hold', () => {
    const snapshot = parseSnapshotText(
      JSON.stringify([
        rawPool({ cidr: 'fd00:10::/64', blockSize: 122, ipipMode: 'Never', vxlanMode: 'Always', disabled: true, natOutgoing: true }, 'v6'),
        rawPool({ cidr: '10.250.0.0/16', natOutgoing: false }, 'v4'),
        rawBlock({ affinity: null, allocations: Array.from({ length: 64 }, (_, i) => (i === 5 ? 0 : i === 9 ? 1 : null)), attributes: [{ secondary: { node: 'minikube' } }, { handle_id: 'h' }] }, 'released'),
        rawNode({
          'projectcalico.org/IPv4Address': '172.16.30.7/24',
          'projectcalico.org/IPv6Address': 'fd00::7/64',
          'projectcalico.org/IPv4VXLANTunnelAddr': '10.244.205.192',
          'projectcalico.org/IPv6VXLANTunnelAddr': 'fd00:10::40',
          'projectcalico.org/VXLANTunnelMACAddr': '66:07:02:c1:cc:60',
          'projectcalico.org/VXLANTunnelMACAddrV6': '66:07:02:c1:cc:61',
        }),
        rawNode(null, 'bare'),
        { apiVersion: 'crd.projectcalico.org/v1', kind: 'BlockAffinity', metadata: { name: 'a' }, spec: { state: 'pendingDeletion', node: 'bare', cidr: '10.244.9.0/26' } },
        { apiVersion: 'projectcalico.org/v3', kind: 'WorkloadEndpoint', metadata: { name: 'w', namespace: 'kube-system' }, spec: { node: 'bare', pod: 'coredns-1', interfaceName: 'tap0123456789a', ipNetworks: ['10.244.9.3/32', 'fd00:10::3/128'] } },
      ]),
    ).snapshot;
    expect(snapshot.pools.map((p) => [p.name, p.natOutgoing ?? false])).toEqual([['v4', false], ['v6', true]]);
    expect(snapshot.blocks[0]?.allocations).toHaveLength(2);
    expect(snapshot.workloads).toHaveLength(1);
    expect(parseSnapshotText(renderSnapshotFile(snapshot))).toEqual({ snapshot, problems: [], ignored: 0 });
  });
});
