import { describe, expect, it } from 'vitest';
import { formatRoute } from '../kernel/format.js';
import type { ClusterSnapshot } from '../routing/cluster.js';
import { desiredRoutes, sortRoutes } from '../routing/desired-routes.js';
import { block, cidr, iface, node, pool, seedCluster, workload } from './support/seed-cluster.js';

const eth0 = iface('eth0');

function table(snapshot: ClusterSnapshot, nodeName: string): string[] {
  const { routes } = desiredRoutes(snapshot, { name: nodeName, hostIface: eth0 });
  return sortRoutes(routes).map((r) => formatRoute(r).replace(' proto 199', ''));
}

// The pod routes of each node's `ip route` in ../shared/seeds/002_4c584de53c4a7b08.txt (IPIP
// mode, BIRD-programmed there, hence `proto bird` removed), in `ip route`'s order.
const SEED_IPIP_TABLES = {
  minikube: ['blackhole 10.244.120.64/26', '10.244.151.0/26 via 172.16.30.8 dev tunl0 onlink', '10.244.205.192/26 via 172.16.30.7 dev tunl0 onlink'],
  'minikube-m02': [
    '10.244.120.64/26 via 172.16.30.6 dev tunl0 onlink',
    '10.244.151.0/26 via 172.16.30.8 dev tunl0 onlink',
    'blackhole 10.244.205.192/26',
    '10.244.205.193 dev calic440f455693 scope link',
  ],
  'minikube-m03': [
    '10.244.120.64/26 via 172.16.30.6 dev tunl0 onlink',
    'blackhole 10.244.151.0/26',
    '10.244.151.1 dev califba6dd09590 scope link',
    '10.244.205.192/26 via 172.16.30.7 dev tunl0 onlink',
  ],
};

describe('desired routes: the seed cluster', () => {
  it.each(Object.entries(SEED_IPIP_TABLES).map(([name, lines]) => ({ name, lines })))('IPIP: $name matches the seed', ({ name, lines }) => {
    expect(table(seedCluster({ ipip: 'Always' }), name)).toEqual(lines);
  });

  it.each([
    {
      name: 'VXLAN Always',
      mode: { vxlan: 'Always' as const },
      want: [
        'blackhole 10.244.120.64/26',
        '10.244.151.0/26 via 10.244.151.0 dev vxlan.calico onlink',
        '10.244.205.192/26 via 10.244.205.192 dev vxlan.calico onlink',
      ],
    },
    {
      name: 'no encapsulation',
      mode: {},
      want: ['blackhole 10.244.120.64/26', '10.244.151.0/26 via 172.16.30.8 dev eth0 onlink', '10.244.205.192/26 via 172.16.30.7 dev eth0 onlink'],
    },
    {
      name: 'VXLAN CrossSubnet, all on one subnet: direct',
      mode: { vxlan: 'CrossSubnet' as const },
      want: ['blackhole 10.244.120.64/26', '10.244.151.0/26 via 172.16.30.8 dev eth0 onlink', '10.244.205.192/26 via 172.16.30.7 dev eth0 onlink'],
    },
    {
      name: 'IPIP CrossSubnet, all on one subnet: direct',
      mode: { ipip: 'CrossSubnet' as const },
      want: ['blackhole 10.244.120.64/26', '10.244.151.0/26 via 172.16.30.8 dev eth0 onlink', '10.244.205.192/26 via 172.16.30.7 dev eth0 onlink'],
    },
  ])('$name: minikube', ({ mode, want }) => {
    const { problems } = desiredRoutes(seedCluster(mode), { name: 'minikube', hostIface: eth0 });
    expect(problems).toEqual([]);
    expect(table(seedCluster(mode), 'minikube')).toEqual(want);
  });

  it.each([
    { name: 'VXLAN', mode: { vxlan: 'CrossSubnet' as const }, tunnel: '10.244.151.0/26 via 10.244.151.0 dev vxlan.calico onlink' },
    { name: 'IPIP', mode: { ipip: 'CrossSubnet' as const }, tunnel: '10.244.151.0/26 via 172.16.31.8 dev tunl0 onlink' },
  ])('$name CrossSubnet across two subnets: direct on mine, tunnel to the other', ({ mode, tunnel }) => {
    const snapshot = seedCluster(mode, ['172.16.30.6/24', '172.16.30.7/24', '172.16.31.8/24']);
    expect(table(snapshot, 'minikube')).toEqual(['blackhole 10.244.120.64/26', tunnel, '10.244.205.192/26 via 172.16.30.7 dev eth0 onlink']);
  });

  it('CrossSubnet is symmetric: a /16 node and a /24 node tunnel both ways', () => {
    const snapshot = seedCluster({ vxlan: 'CrossSubnet' }, ['172.16.30.6/16', '172.16.31.7/24', '172.16.30.8/24']);
    expect(table(snapshot, 'minikube')).toContain('10.244.205.192/26 via 10.244.205.192 dev vxlan.calico onlink');
    expect(table(snapshot, 'minikube-m02')).toContain('10.244.120.64/26 via 10.244.120.64 dev vxlan.calico onlink');
  });
});

describe('desired routes: IPAM semantics', () => {
  const base = (blocks: ClusterSnapshot['blocks'], extra: Partial<ClusterSnapshot> = {}): ClusterSnapshot => ({
    pools: [pool()],
    nodes: [node('a', '10.0.0.1/24'), node('b', '10.0.0.2/24'), node('c', '10.0.0.3/24')],
    blocks,
    affinities: [],
    workloads: [],
    ...extra,
  });

  it.each([
    {
      name: 'a borrowed address routes to its owner on every node but the owner',
      snapshot: base([block('10.244.0.0/26', 'a', [[5, 'b']])]),
      want: {
        a: ['blackhole 10.244.0.0/26', '10.244.0.5 via 10.0.0.2 dev eth0 onlink'],
        b: ['10.244.0.0/26 via 10.0.0.1 dev eth0 onlink'],
        c: ['10.244.0.0/26 via 10.0.0.1 dev eth0 onlink', '10.244.0.5 via 10.0.0.2 dev eth0 onlink'],
      },
    },
    {
      name: 'a block whose affinity was removed becomes /32s to the owners',
      snapshot: base([block('10.244.0.0/26', undefined, [[1, 'a'], [2, 'b']])]),
      want: {
        a: ['10.244.0.2 via 10.0.0.2 dev eth0 onlink'],
        b: ['10.244.0.1 via 10.0.0.1 dev eth0 onlink'],
        c: ['10.244.0.1 via 10.0.0.1 dev eth0 onlink', '10.244.0.2 via 10.0.0.2 dev eth0 onlink'],
      },
    },
    {
      name: 'a pending affinity is not blackholed yet',
      snapshot: base([block('10.244.0.0/26', 'a')], { affinities: [{ name: 'a-10-244-0-0-26', node: 'a', cidr: cidr('10.244.0.0/26'), state: 'pending' }] }),
      want: { a: [], b: ['10.244.0.0/26 via 10.0.0.1 dev eth0 onlink'], c: ['10.244.0.0/26 via 10.0.0.1 dev eth0 onlink'] },
    },
    {
      name: 'a block pending deletion keeps its blackhole while it exists',
      snapshot: base([block('10.244.0.0/26', 'a', [[1]])], { affinities: [{ name: 'a-10-244-0-0-26', node: 'a', cidr: cidr('10.244.0.0/26'), state: 'pendingDeletion' }] }),
      want: { a: ['blackhole 10.244.0.0/26'], b: ['10.244.0.0/26 via 10.0.0.1 dev eth0 onlink'], c: ['10.244.0.0/26 via 10.0.0.1 dev eth0 onlink'] },
    },
    {
      name: 'a local workload beats a stale borrowed route for its address',
      snapshot: base([block('10.244.0.0/26', 'b', [[7, 'c']])], { workloads: [workload('ns', 'p', 'a', ['10.244.0.7'], 'cali0123456789a')] }),
      want: {
        a: ['10.244.0.0/26 via 10.0.0.2 dev eth0 onlink', '10.244.0.7 dev cali0123456789a scope link'],
        b: ['blackhole 10.244.0.0/26', '10.244.0.7 via 10.0.0.3 dev eth0 onlink'],
        c: ['10.244.0.0/26 via 10.0.0.2 dev eth0 onlink'],
      },
    },
  ])('$name', ({ snapshot, want }) => {
    for (const [nodeName, lines] of Object.entries(want)) expect(table(snapshot, nodeName), nodeName).toEqual(lines);
  });

  it('IPv6: /128 workloads, blocks via vxlan-v6.calico, metric 1024', () => {
    const v6 = (name: string, ip: string, vtep: string) => ({ name, ipv6: { ip: ip as never, cidr: `${ip}/64` as never }, vxlanTunnelAddrV6: vtep as never });
    const snapshot: ClusterSnapshot = {
      pools: [pool({ vxlan: 'Always' }, 'fd00:10::/48')],
      nodes: [v6('a', 'fd00::1', 'fd00:10::'), v6('b', 'fd00::2', 'fd00:10:0:1::')],
      blocks: [{ ...block('fd00:10::/122', 'a'), name: 'blk-a' }, { ...block('fd00:10:0:1::/122', 'b'), name: 'blk-b' }],
      affinities: [],
      workloads: [workload('ns', 'p', 'a', ['fd00:10::5'], 'cali0123456789a')],
    };
    expect(table(snapshot, 'a')).toEqual([
      'blackhole fd00:10::/122 metric 1024',
      'fd00:10::5 dev cali0123456789a metric 1024',
      'fd00:10:0:1::/122 via fd00:10:0:1:: dev vxlan-v6.calico metric 1024 onlink',
    ]);
  });
});

describe('desired routes: bad input costs only its own routes', () => {
  const good = block('10.244.1.0/26', 'b');
  it.each([
    {
      name: 'overlapping blocks: the second is rejected',
      blocks: [block('10.244.0.0/24', 'b'), block('10.244.0.64/26', 'c'), good],
      problem: { kind: 'IPAMBlock', name: '10-244-0-64-26', field: 'spec.cidr' },
      routes: ['10.244.0.0/24 via 10.0.0.2 dev eth0 onlink', '10.244.1.0/26 via 10.0.0.2 dev eth0 onlink'],
    },
    {
      name: 'affinity to an unknown node',
      blocks: [block('10.244.0.0/26', 'ghost'), good],
      problem: { kind: 'IPAMBlock', name: '10-244-0-0-26', field: 'spec.affinity' },
      routes: ['10.244.1.0/26 via 10.0.0.2 dev eth0 onlink'],
    },
    {
      name: 'block outside every pool',
      blocks: [block('192.168.0.0/26', 'b'), good],
      problem: { kind: 'IPAMBlock', name: '192-168-0-0-26', field: 'spec.cidr' },
      routes: ['10.244.1.0/26 via 10.0.0.2 dev eth0 onlink'],
    },
    {
      name: 'allocation with no owner in a block with no affinity',
      blocks: [{ ...block('10.244.0.0/26', undefined), allocations: [{ ip: '10.244.0.3' as never }] }, good],
      problem: { kind: 'IPAMBlock', name: '10-244-0-0-26', field: 'spec.allocations[0]' },
      routes: ['10.244.1.0/26 via 10.0.0.2 dev eth0 onlink'],
    },
  ])('$name', ({ blocks, problem, routes }) => {
    const snapshot: ClusterSnapshot = { pools: [pool()], nodes: [node('a', '10.0.0.1/24'), node('b', '10.0.0.2/24'), node('c', '10.0.0.3/24')], blocks, affinities: [], workloads: [] };
    const result = desiredRoutes(snapshot, { name: 'a', hostIface: eth0 });
    expect(result.problems).toEqual([expect.objectContaining(problem)]);
    expect(sortRoutes(result.routes).map((r) => formatRoute(r).replace(' proto 199', ''))).toEqual(routes);
  });

  it('a node without an address loses only its own routes', () => {
    const snapshot: ClusterSnapshot = {
      pools: [pool()],
      nodes: [node('a', '10.0.0.1/24'), { name: 'b' }, node('c', '10.0.0.3/24')],
      blocks: [block('10.244.0.0/26', 'b'), block('10.244.1.0/26', 'c')],
      affinities: [],
      workloads: [],
    };
    const result = desiredRoutes(snapshot, { name: 'a', hostIface: eth0 });
    expect(result.problems).toEqual([expect.objectContaining({ kind: 'Node', name: 'b', field: 'spec.bgp.ipv4Address' })]);
    expect(result.routes.map((r) => r.dst)).toEqual(['10.244.1.0/26']);
  });

  it('two affinities for one block: the block decides, the other affinity is reported', () => {
    const snapshot: ClusterSnapshot = {
      ...seedCluster({ vxlan: 'Always' }),
      affinities: [
        { name: 'minikube-10-244-120-64-26', node: 'minikube', cidr: cidr('10.244.120.64/26'), state: 'confirmed' },
        { name: 'minikube-m02-10-244-120-64-26', node: 'minikube-m02', cidr: cidr('10.244.120.64/26'), state: 'confirmed' },
      ],
    };
    const result = desiredRoutes(snapshot, { name: 'minikube', hostIface: eth0 });
    expect(result.problems).toEqual([expect.objectContaining({ kind: 'BlockAffinity', name: 'minikube-m02-10-244-120-64-26' })]);
    expect(table(snapshot, 'minikube')).toContain('blackhole 10.244.120.64/26');
    expect(table(snapshot, 'minikube-m02')).toContain('10.244.120.64/26 via 10.244.120.64 dev vxlan.calico onlink');
  });

  it('two local workloads claiming one address: one deterministic winner and a problem', () => {
    const snapshot: ClusterSnapshot = {
      ...seedCluster({}),
      workloads: [workload('ns', 'zz', 'minikube', ['10.244.120.70'], 'cali00000000002'), workload('ns', 'aa', 'minikube', ['10.244.120.70'], 'cali00000000001')],
    };
    const result = desiredRoutes(snapshot, { name: 'minikube', hostIface: eth0 });
    expect(result.routes.find((r) => r.dst === '10.244.120.70/32')?.dev).toBe('cali00000000001');
    expect(result.problems).toEqual([expect.objectContaining({ kind: 'Workload', name: 'ns/zz', field: 'route' })]);
  });
});
