// The meaning checks, table-driven: a valid cluster plus one hostile (or broken) object →
// the refusal, named by kind, name, field and reason; every route the valid cluster gives that
// the object does not name, unchanged; and nothing in forbidden space (hostile-cluster.ts).
import { describe, expect, it } from 'vitest';
import type { Cidr, IfaceName, IpAddr, Mac } from '../kernel/values.js';
import type { ClusterNode, ClusterSnapshot, IpamBlock, IpPool, ProblemReason } from '../routing/cluster.js';
import { derivedVtepMac } from '../tunnels/vtep-mac.js';
import { workloadIfaceTest } from '../routing/workload-iface.js';
import { checkKept, checkSafe, CONFIG, LOCAL, plan, validCluster } from './support/hostile-cluster.js';
import { block, node, withIpam, workload } from './support/seed-cluster.js';
import type { DesiredNode } from '../agent/node-plan.js';

const pool = (name: string, cidr: string, extra: Partial<IpPool> = {}): IpPool => ({ name, cidr: cidr as Cidr, blockSize: 26, ipipMode: 'Never', vxlanMode: 'Always', disabled: false, ...extra });
const named = (b: IpamBlock, name: string): IpamBlock => ({ ...b, name });
const setNode = (c: ClusterSnapshot, name: string, change: Partial<ClusterNode>): ClusterSnapshot => ({ ...c, nodes: c.nodes.map((n) => (n.name === name ? { ...n, ...change } : n)) });
const add = (c: ClusterSnapshot, more: Partial<ClusterSnapshot>): ClusterSnapshot => ({
  pools: [...c.pools, ...(more.pools ?? [])],
  nodes: [...c.nodes, ...(more.nodes ?? [])],
  blocks: [...c.blocks, ...(more.blocks ?? [])],
  affinities: [...c.affinities, ...(more.affinities ?? [])],
  workloads: [...c.workloads, ...(more.workloads ?? [])],
});
const m02Block = '10.244.205.192/26';
const m03Block = '10.244.151.0/26';

interface Row {
  readonly name: string;
  readonly hostile: (valid: ClusterSnapshot) => ClusterSnapshot;
  readonly refused: { readonly kind: string; readonly name: string; readonly field: string; readonly reason: ProblemReason };
  /** Route destinations the hostile object itself names (a node it changed): they may change. */
  readonly exempt?: readonly string[];
  readonly config?: typeof CONFIG;
  readonly check?: (desired: DesiredNode) => void;
}

const ROWS: Row[] = [
  {
    name: 'a pool and block over the node\'s own underlay subnet',
    hostile: (c) => add(c, { pools: [pool('evil', '172.16.0.0/16')], blocks: [block('172.16.30.0/26', 'minikube-m02')] }),
    refused: { kind: 'IPPool', name: 'evil', field: 'spec.cidr', reason: 'forbidden-space' },
    check: (d) => expect(d.problems).toContainEqual(expect.objectContaining({ kind: 'IPAMBlock', name: '172-16-30-0-26', reason: 'forbidden-space' })),
  },
  { name: 'a pool over loopback', hostile: (c) => add(c, { pools: [pool('lo', '127.0.0.0/8')], blocks: [block('127.0.0.0/26', 'minikube-m02')] }), refused: { kind: 'IPPool', name: 'lo', field: 'spec.cidr', reason: 'forbidden-space' } },
  { name: 'a pool over multicast', hostile: (c) => add(c, { pools: [pool('mc', '224.0.0.0/4')], blocks: [block('224.0.0.0/26', 'minikube-m02')] }), refused: { kind: 'IPPool', name: 'mc', field: 'spec.cidr', reason: 'forbidden-space' } },
  {
    name: 'an IPIP pool over loopback (no tunl0, no MTU change)',
    hostile: (c) => add(c, { pools: [pool('lo-ipip', '127.0.0.0/8', { vxlanMode: 'Never', ipipMode: 'Always' })] }),
    refused: { kind: 'IPPool', name: 'lo-ipip', field: 'spec.cidr', reason: 'forbidden-space' },
    check: (d) => expect(d.ipip.spec).toBeUndefined(),
  },
  {
    name: 'an IPv6 VXLAN pool over link-local (no vxlan-v6.calico, no MTU change)',
    hostile: (c) => add(c, { pools: [pool('ll6', 'fe80::/64', { blockSize: 122 })] }),
    refused: { kind: 'IPPool', name: 'll6', field: 'spec.cidr', reason: 'forbidden-space' },
    check: (d) => expect(d.mtus.pod).toBe(1450),
  },
  { name: 'a pool over 240.0.0.0/4', hostile: (c) => add(c, { pools: [pool('e', '240.0.0.0/4')] }), refused: { kind: 'IPPool', name: 'e', field: 'spec.cidr', reason: 'forbidden-space' } },
  { name: 'a /0 pool (the default gateway)', hostile: (c) => add(c, { pools: [pool('all', '0.0.0.0/0')], blocks: [block('0.0.0.0/26', 'minikube-m02')] }), refused: { kind: 'IPPool', name: 'all', field: 'spec.cidr', reason: 'forbidden-space' } },
  { name: 'a pool over --forbidden-cidrs (the service CIDR)', hostile: (c) => add(c, { pools: [pool('svc', '10.96.0.0/16')], blocks: [block('10.96.0.0/26', 'minikube-m02')] }), refused: { kind: 'IPPool', name: 'svc', field: 'spec.cidr', reason: 'forbidden-space' } },
  {
    name: 'a pool over another node\'s underlay address, on another subnet',
    hostile: (c) => add(c, { pools: [pool('far', '192.168.0.0/16')], nodes: [node('far', '192.168.7.7/24', { created: '2023-01-01T00:00:00.000Z' })] }),
    refused: { kind: 'IPPool', name: 'far', field: 'spec.cidr', reason: 'forbidden-space' },
  },
  {
    name: 'a newer node whose underlay address lies in the valid pool (the pool stays)',
    hostile: (c) => add(c, { nodes: [node('squatter', '10.244.7.7/24', { created: '2025-01-01T00:00:00.000Z' })] }),
    refused: { kind: 'Node', name: 'squatter', field: 'spec.bgp.ipv4Address', reason: 'forbidden-space' },
  },
  {
    name: 'a newer pool inside the valid one, with another encapsulation',
    hostile: (c) => add(c, { pools: [pool('inner', '10.244.128.0/17', { vxlanMode: 'Never', ipipMode: 'Always', created: '2024-01-01T00:00:00.000Z' })] }),
    refused: { kind: 'IPPool', name: 'inner', field: 'spec.cidr', reason: 'overlap' },
  },
  {
    name: 'a /20 block covering this node\'s /26 (and its blackhole)',
    hostile: (c) => add(c, { blocks: [block('10.244.112.0/20', 'minikube-m03')] }),
    refused: { kind: 'IPAMBlock', name: '10-244-112-0-20', field: 'spec.cidr', reason: 'block-size' },
    check: (d) => expect(d.routes.find((r) => r.dst === '10.244.120.64/26')?.type).toBe('blackhole'),
  },
  { name: 'a block outside every pool', hostile: (c) => add(c, { blocks: [block('10.99.0.0/26', 'minikube-m02')] }), refused: { kind: 'IPAMBlock', name: '10-99-0-0-26', field: 'spec.cidr', reason: 'outside-pool' } },
  {
    name: 'a second block over a valid block\'s CIDR, under another name',
    hostile: (c) => add(c, { blocks: [named(block(m02Block, 'minikube-m03'), 'aaa')] }),
    refused: { kind: 'IPAMBlock', name: 'aaa', field: 'metadata.name', reason: 'invalid' },
  },
  {
    name: 'a workload endpoint naming eth0',
    hostile: (c) => withIpam(add(c, { workloads: [workload('default', 'sneaky', LOCAL, ['10.244.120.66'], 'eth0')] })),
    refused: { kind: 'Workload', name: 'default/sneaky', field: 'spec.interfaceName', reason: 'interface' },
    check: (d) => expect(d.routeEngine.usesDevice('eth0')).toBe(false),
  },
  {
    name: 'a workload on the host interface, with a prefix that matches it',
    config: { ...CONFIG, isWorkloadIface: workloadIfaceTest(['cali', 'eth']) },
    hostile: (c) => withIpam(add(c, { workloads: [workload('default', 'sneaky', LOCAL, ['10.244.120.66'], 'eth0')] })),
    refused: { kind: 'Workload', name: 'default/sneaky', field: 'spec.interfaceName', reason: 'interface' },
    check: (d) => expect(d.routeEngine.usesDevice('eth0')).toBe(false),
  },
  {
    name: 'a pod claiming another node\'s underlay address',
    hostile: (c) => add(c, { workloads: [workload('default', 'thief', LOCAL, ['172.16.30.7'], 'cali2222222222b')] }),
    refused: { kind: 'Workload', name: 'default/thief', field: 'ips', reason: 'outside-pool' },
  },
  {
    name: 'a pod claiming an address outside every pool',
    hostile: (c) => add(c, { workloads: [workload('default', 'thief', LOCAL, ['192.0.2.5'], 'cali2222222222b')] }),
    refused: { kind: 'Workload', name: 'default/thief', field: 'ips', reason: 'outside-pool' },
  },
  {
    name: 'a pod claiming a pool address IPAM never gave it',
    hostile: (c) => add(c, { workloads: [workload('default', 'thief', LOCAL, ['10.244.120.70'], 'cali2222222222b')] }),
    refused: { kind: 'Workload', name: 'default/thief', field: 'ips', reason: 'not-allocated' },
  },
  {
    name: 'a pod claiming another pod\'s address',
    hostile: (c) => add(c, { workloads: [workload('default', 'thief', LOCAL, ['10.244.120.65'], 'cali2222222222b')] }),
    refused: { kind: 'Workload', name: 'default/thief', field: 'ips', reason: 'not-allocated' },
    check: (d) => expect(d.routes.find((r) => r.dst === '10.244.120.65/32')?.dev).toBe('cali1111111111a'),
  },
  {
    name: 'this node\'s tunnel address set to another host\'s address',
    hostile: (c) => setNode(c, LOCAL, { vxlanTunnelAddr: '172.16.30.8' as IpAddr }),
    refused: { kind: 'Node', name: LOCAL, field: 'spec.ipv4VXLANTunnelAddr', reason: 'outside-pool' },
    check: (d) => {
      expect(d.vxlan[0]?.hold).toBe(true); // vxlan.calico is left as it is, not deleted or re-addressed
      expect(d.vxlan[0]?.spec).toBeUndefined();
    },
  },
  {
    name: 'a peer\'s tunnel address IPAM never gave it',
    hostile: (c) => setNode(c, 'minikube-m03', { vxlanTunnelAddr: '10.244.151.9' as IpAddr }),
    refused: { kind: 'Node', name: 'minikube-m03', field: 'spec.ipv4VXLANTunnelAddr', reason: 'not-allocated' },
    exempt: [m03Block, '10.244.151.1/32'],
    check: (d) => expect(d.routes.some((r) => r.via === '10.244.151.9')).toBe(false),
  },
  {
    name: 'a multicast VTEP MAC',
    hostile: (c) => setNode(c, 'minikube-m02', { vxlanMac: '01:00:5e:00:00:01' as Mac }),
    refused: { kind: 'Node', name: 'minikube-m02', field: 'spec.vxlanTunnelMACAddr', reason: 'vtep' },
    exempt: [m02Block],
    check: (d) => expect(d.vxlan[0]?.fdb.map((f) => f.mac)).not.toContain('01:00:5e:00:00:01'),
  },
  {
    name: 'an all-zero VTEP MAC',
    hostile: (c) => setNode(c, 'minikube-m03', { vxlanMac: '00:00:00:00:00:00' as Mac }),
    refused: { kind: 'Node', name: 'minikube-m03', field: 'spec.vxlanTunnelMACAddr', reason: 'vtep' },
    exempt: [m03Block],
    check: (d) => expect(d.vxlan[0]?.fdb.map((f) => f.mac)).not.toContain('00:00:00:00:00:00'),
  },
  {
    name: 'a second node claiming a peer\'s VTEP address',
    hostile: (c) => add(c, { nodes: [node('twin', '172.16.30.9/24', { vxlanTunnelAddr: '10.244.205.192' as IpAddr })] }),
    refused: { kind: 'Node', name: 'twin', field: 'spec.ipv4VXLANTunnelAddr', reason: 'not-allocated' },
    check: (d) => expect(d.vxlan[0]?.neighbors.filter((n) => n.ip === '10.244.205.192')).toHaveLength(1),
  },
  {
    name: 'a newer node claiming a peer\'s VTEP MAC',
    hostile: (c) => withIpam(add(c, {
      nodes: [node('a-clone', '172.16.30.9/24', { vxlanTunnelAddr: '10.244.9.0' as IpAddr, vxlanMac: derivedVtepMac('minikube-m02'), created: '2025-01-01T00:00:00.000Z' })],
      blocks: [block('10.244.9.0/26', 'a-clone')],
    })),
    refused: { kind: 'Node', name: 'a-clone', field: 'spec.vxlanTunnelMACAddr', reason: 'vtep' },
  },
  {
    name: 'a node whose underlay address is loopback',
    hostile: (c) => add(c, { nodes: [node('loopy', '127.0.0.1/8', { created: '2025-01-01T00:00:00.000Z' })] }),
    refused: { kind: 'Node', name: 'loopy', field: 'spec.bgp.ipv4Address', reason: 'forbidden-space' },
  },
  {
    name: 'a node claiming this host\'s own address',
    hostile: (c) => add(c, { nodes: [node('mimic', '172.16.30.6/24', { created: '2025-01-01T00:00:00.000Z' })] }),
    refused: { kind: 'Node', name: 'mimic', field: 'spec.bgp.ipv4Address', reason: 'forbidden-space' },
  },
];

describe('meaning checks', () => {
  const valid = validCluster();
  const before = plan(valid);

  it('the valid cluster passes them all, and routes as before', () => {
    expect(before.problems).toEqual([]);
    expect(before.routes.map((r) => `${r.dst} ${r.class}`).sort()).toEqual([
      '10.244.120.64/26 blackhole',
      '10.244.120.65/32 workload',
      '10.244.151.0/26 vxlan',
      '10.244.205.192/26 vxlan',
    ]);
    checkSafe(before);
  });

  it.each(ROWS)('$name', ({ hostile, refused, exempt, config, check }) => {
    const after = plan(hostile(valid), config);
    expect(after.problems).toContainEqual(expect.objectContaining(refused));
    expect(after.problems.every((p) => p.reason !== undefined), JSON.stringify(after.problems)).toBe(true);
    checkKept(before, after, exempt, refused.name !== LOCAL);
    checkSafe(after);
    check?.(after);
  });

  it('a prefix length on this node\'s own Node record forbids only its address: the host\'s link says the subnet', () => {
    const after = plan(setNode(valid, LOCAL, { ipv4: { ip: '172.16.30.6' as IpAddr, cidr: '172.16.30.6/1' as Cidr } }));
    checkKept(before, after);
    expect(after.problems.filter((p) => p.kind === 'IPPool')).toEqual([]);
  });

  it('refuses the picture, and so changes nothing, when every pool is refused', () => {
    const underlay = { ...valid, pools: [pool('evil', '172.16.0.0/12')] };
    expect(() => plan(underlay)).toThrow(/^refused, nothing changed: every IPPool is refused \(evil: 172\.16\.0\.0\/12 overlaps/);
    expect(() => plan(valid, { ...CONFIG, forbiddenCidrs: ['10.0.0.0/8' as Cidr] })).toThrow(/every IPPool is refused/);
  });

  it('a pod routed only once IPAM records its address, and a reused address follows IPAM', () => {
    const pod = workload('default', 'late', LOCAL, ['10.244.120.66'], 'cali2222222222b' as IfaceName);
    const early = plan(add(valid, { workloads: [pod] }));
    expect(early.routes.some((r) => r.dst === '10.244.120.66/32')).toBe(false);
    expect(early.problems).toContainEqual(expect.objectContaining({ name: 'default/late', reason: 'not-allocated' }));
    const recorded = plan(withIpam(add(valid, { workloads: [pod] })));
    expect(recorded.routes.find((r) => r.dst === '10.244.120.66/32')?.dev).toBe('cali2222222222b');
    // The address given to another pod now: the old pod's claim is refused, the new one routed.
    const next = workload('default', 'next', LOCAL, ['10.244.120.66'], 'cali3333333333c' as IfaceName);
    const reused = withIpam(add(valid, { workloads: [next] }));
    const both = plan({ ...reused, workloads: [...reused.workloads, pod] });
    expect(both.routes.find((r) => r.dst === '10.244.120.66/32')?.dev).toBe('cali3333333333c');
  });

  it('matches a workload by its container ID when IPAM recorded no pod', () => {
    const pod = { ...workload('default', 'cid', LOCAL, ['10.244.120.67'], 'cali4444444444d'), containerId: 'abc123' };
    const home = valid.blocks.find((b) => b.affinityNode === LOCAL)!;
    const recorded = { ...home, allocations: [...home.allocations, { ip: '10.244.120.67' as IpAddr, node: LOCAL, handle: 'k8s-pod-network.abc123' }] };
    const cluster = { ...add(valid, { workloads: [pod] }), blocks: valid.blocks.map((b) => (b === home ? recorded : b)) };
    expect(plan(cluster).routes.find((r) => r.dst === '10.244.120.67/32')?.dev).toBe('cali4444444444d');
  });
});
