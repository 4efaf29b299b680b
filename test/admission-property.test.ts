// The meaning checks' promise, for any input: adding any hostile objects to a valid cluster
// (pools, blocks, nodes, workloads and affinities with forbidden prefixes, covering or unnamed
// blocks, wrong interfaces, addresses IPAM did not give, duplicate VTEP addresses and MACs)
// never removes or changes a route the valid cluster gives alone, and never adds one in
// forbidden space or through a non-workload interface (hostile-cluster.ts: checkKept, checkSafe).
//
// Creation times are the API server's, which a client cannot set: hostile objects are newer than
// the valid ones, or have none.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import type { Cidr, IfaceName, IpAddr, Mac } from '../kernel/values.js';
import { ipv4ToNumber, parseCidr } from '../kernel/values.js';
import type { Allocation, BlockAffinity, ClusterNode, ClusterSnapshot, IpamBlock, IpPool, Workload } from '../routing/cluster.js';
import { calicoBlockName } from '../routing/block-index.js';
import { derivedVtepMac } from '../tunnels/vtep-mac.js';
import { checkKept, checkSafe, LOCAL, plan, validCluster } from './support/hostile-cluster.js';

const NODES = [LOCAL, 'minikube-m02', 'minikube-m03', 'ghost'] as const;
const toIp = (n: number) => `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}` as IpAddr;
const network = (ip: IpAddr, length: number) => {
  const mask = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
  return `${toIp((ipv4ToNumber(ip) & mask) >>> 0)}/${length}` as Cidr;
};

// Addresses that matter on this host and in this cluster, and any other.
const ip = fc.oneof(
  fc.constantFrom('172.16.30.6', '172.16.30.1', '172.16.30.7', '172.16.30.8', '10.244.120.65', '10.244.120.64', '10.244.205.192', '10.244.151.0', '10.244.151.1', '127.0.0.1', '224.0.0.1', '0.0.0.0', '10.96.0.10', '10.244.120.70', '169.254.1.1', '255.255.255.255') as fc.Arbitrary<IpAddr>,
  fc.integer({ min: 0, max: 0xffffffff }).map(toIp),
);
const cidr = (min: number, max: number) => fc.tuple(ip, fc.integer({ min, max })).map(([a, n]) => network(a, n));
const created = fc.option(fc.integer({ min: Date.parse('2022-03-20T00:00:00Z'), max: Date.parse('2030-01-01T00:00:00Z') }).map((t) => new Date(t).toISOString()), { nil: undefined });
const nodeName = fc.constantFrom(...NODES);
const mac = fc.constantFrom('01:00:5e:00:00:01', '00:00:00:00:00:00', derivedVtepMac('minikube-m02'), derivedVtepMac(LOCAL), '66:aa:bb:cc:dd:ee', 'ff:ff:ff:ff:ff:ff') as fc.Arbitrary<Mac>;
const handle = (node: string) => fc.constantFrom(undefined, `vxlan-tunnel-addr-${node}`, 'vxlan-tunnel-addr-minikube-m02', 'k8s-pod-network.h.w0', 'k8s-pod-network.default.web');

const pool = (i: number): fc.Arbitrary<IpPool> =>
  fc.record({ cidr: cidr(0, 28), encap: fc.constantFrom('vxlan', 'ipip', 'none'), created }).chain(({ cidr: c, encap, created: when }) =>
    fc.integer({ min: Math.max(20, Number(c.split('/')[1])), max: 32 }).map((blockSize) => ({
      name: `h-pool-${i}`, cidr: c, blockSize, ipipMode: encap === 'ipip' ? 'Always' : 'Never', vxlanMode: encap === 'vxlan' ? 'Always' : 'Never', disabled: false, ...(when === undefined ? {} : { created: when }),
    } as IpPool)),
  );

const block = (i: number, taken: ReadonlySet<string>): fc.Arbitrary<IpamBlock> =>
  fc.record({ cidr: cidr(20, 32), calicoName: fc.boolean(), home: fc.option(nodeName, { nil: undefined }), owners: fc.array(fc.record({ offset: fc.nat(), node: fc.option(nodeName, { nil: undefined }), pod: fc.option(fc.constantFrom('web', 'w0', 'w1'), { nil: undefined }) }), { maxLength: 4 }) })
    .chain(({ cidr: c, calicoName, home, owners }) => fc.tuple(...owners.map((o) => handle(o.node ?? 'x'))).map((handles) => {
      const size = 2 ** (32 - Number(c.split('/')[1]));
      const base = ipv4ToNumber(c.split('/')[0] as IpAddr);
      const allocations: Allocation[] = owners.map((o, k) => ({ ip: toIp(base + (o.offset % size)), ...(o.node === undefined ? {} : { node: o.node }), ...(handles[k] === undefined ? {} : { handle: handles[k] }), ...(o.pod === undefined ? {} : { namespace: o.pod === 'web' ? 'default' : 'h', pod: o.pod }) }));
      const canonical = calicoBlockName(c);
      // A Calico-named block at a CIDR the valid cluster holds would be that block itself (one key).
      const name = calicoName && !taken.has(canonical) ? canonical : `h-block-${i}`;
      return { name, cidr: c, ...(home === undefined ? {} : { affinityNode: home }), allocations: dedupe(allocations) };
    }));

const node = (i: number): fc.Arbitrary<ClusterNode> =>
  fc.record({ address: fc.option(fc.tuple(ip, fc.integer({ min: 8, max: 32 })), { nil: undefined }), tunnel: fc.option(ip, { nil: undefined }), vxlanMac: fc.option(mac, { nil: undefined }), created }).map(({ address, tunnel, vxlanMac, created: when }) => {
    const cidrText = address === undefined ? undefined : parseCidr(`${address[0]}/${address[1]}`, false);
    return {
      name: `h-node-${i}`,
      ...(address === undefined || cidrText === undefined ? {} : { ipv4: { ip: address[0], cidr: cidrText } }),
      ...(tunnel === undefined ? {} : { vxlanTunnelAddr: tunnel }),
      ...(vxlanMac === undefined ? {} : { vxlanMac }),
      ...(when === undefined ? {} : { created: when }),
    };
  });

const workload = (i: number): fc.Arbitrary<Workload> =>
  fc.record({
    node: fc.constantFrom(LOCAL, LOCAL, 'minikube-m02'),
    ips: fc.uniqueArray(ip, { minLength: 1, maxLength: 2 }),
    iface: fc.constantFrom('eth0', 'lo', 'vxlan.calico', 'tunl0', 'docker0', 'cali1111111111a', 'califfffffffff0') as fc.Arbitrary<IfaceName>,
    containerId: fc.option(fc.constantFrom('abc', 'def'), { nil: undefined }),
  }).map((w) => ({ namespace: 'h', name: `w${i}`, node: w.node, ips: w.ips, iface: w.iface, ...(w.containerId === undefined ? {} : { containerId: w.containerId }) }));

const affinity = (i: number, valid: ClusterSnapshot): fc.Arbitrary<BlockAffinity> =>
  fc.record({ node: nodeName, cidr: fc.oneof(fc.constantFrom(...valid.blocks.map((b) => b.cidr)), cidr(20, 32)), state: fc.constantFrom('pending', 'confirmed', 'pendingDeletion') as fc.Arbitrary<BlockAffinity['state']> })
    .map((a) => ({ name: `h-affinity-${i}`, ...a }));

function dedupe(allocations: Allocation[]): Allocation[] {
  const seen = new Set<string>();
  return allocations.filter((a) => !seen.has(a.ip) && seen.add(a.ip) !== undefined);
}

function hostile(valid: ClusterSnapshot): fc.Arbitrary<Partial<ClusterSnapshot>> {
  const taken = new Set(valid.blocks.map((b) => b.name));
  const kinds = fc.array(fc.constantFrom('pool', 'block', 'node', 'workload', 'affinity'), { minLength: 1, maxLength: 8 });
  return kinds.chain((list) => fc.tuple(...list.map((kind, i): fc.Arbitrary<[string, unknown]> => {
    switch (kind) {
      case 'pool': return pool(i).map((v) => ['pools', v]);
      case 'block': return block(i, taken).map((v) => ['blocks', v]);
      case 'node': return node(i).map((v) => ['nodes', v]);
      case 'workload': return workload(i).map((v) => ['workloads', v]);
      default: return affinity(i, valid).map((v) => ['affinities', v]);
    }
  })).map((entries) => {
    const more: Record<string, unknown[]> = { pools: [], blocks: [], nodes: [], workloads: [], affinities: [] };
    for (const [key, value] of entries) more[key]?.push(value);
    return more as Partial<ClusterSnapshot>;
  }));
}

describe('meaning checks, for any hostile additions', () => {
  const valid = validCluster();
  const before = plan(valid);

  it('never remove or change a valid route, and never route forbidden space', () => {
    fc.assert(
      fc.property(hostile(valid), (more) => {
        const after = plan({
          pools: [...valid.pools, ...(more.pools ?? [])],
          nodes: [...valid.nodes, ...(more.nodes ?? [])],
          blocks: [...valid.blocks, ...(more.blocks ?? [])],
          affinities: [...valid.affinities, ...(more.affinities ?? [])],
          workloads: [...valid.workloads, ...(more.workloads ?? [])],
        });
        // A hostile pool that is admitted (free space, its own encapsulation) may rightly change
        // the pod MTU and the devices; refused ones never may.
        checkKept(before, after, [], after.admission.admittedPools.length === valid.pools.length);
        checkSafe(after);
      }),
      { numRuns: 400 },
    );
  });
});
