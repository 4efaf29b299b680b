// A cluster picture for a topology of network namespaces: each node gets the block
// 10.244.<i>.0/26, its VXLAN tunnel address is the block's first address (as Calico's
// allocator hands out ordinal 0 first) and its pods take the next ones.
import type { ClusterNode, ClusterSnapshot, EncapMode } from '../../routing/cluster.js';
import type { Cidr, IpAddr } from '../../kernel/values.js';
import { nthAddress } from '../../kernel/values.js';
import { calicoInterfaceName } from '../../calico/objects/interface-name.js';
import type { Topology, TopologyNode } from '../../lab/topology/index.js';
import { block, pool, withIpam, workload } from './seed-cluster.js';

export const blockOf = (index: number) => `10.244.${index}.0/26` as Cidr;

export function clusterNode(n: TopologyNode, index: number): ClusterNode {
  return { name: n.name, ipv4: { ip: n.ip, cidr: n.cidr }, vxlanTunnelAddr: nthAddress(blockOf(index), 0) };
}

export interface PodPlan {
  readonly node: string;
  readonly namespace: string;
  readonly name: string;
  readonly ip: IpAddr;
  readonly iface: string;
}

/** Two pods per node unless told otherwise: pod-<node>-<k> in namespace default. */
export function planPods(nodes: readonly TopologyNode[], perNode = 2): PodPlan[] {
  return nodes.flatMap((n, i) =>
    Array.from({ length: perNode }, (_, k) => {
      const name = `pod-${n.name}-${k + 1}`;
      return { node: n.name, namespace: 'default', name, ip: nthAddress(blockOf(i), k + 1), iface: calicoInterfaceName('default', name) };
    }),
  );
}

export function topologyCluster(topology: Topology, vxlanMode: EncapMode, pods: readonly PodPlan[]): ClusterSnapshot {
  return withIpam({
    pools: [pool({ vxlan: vxlanMode })],
    nodes: topology.nodes.map(clusterNode),
    blocks: topology.nodes.map((n, i) => block(blockOf(i), n.name, [[0], ...pods.filter((p) => p.node === n.name).map((_, k): [number] => [k + 1])])),
    affinities: [],
    workloads: pods.map((p) => workload(p.namespace, p.name, p.node, [p.ip], p.iface)),
  });
}
