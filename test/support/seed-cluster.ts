// The three-node cluster of ../shared/seeds/002 (minikube, minikube-m02, minikube-m03 on
// 172.16.30.0/24), as domain values, with a switch for the pool's encapsulation. Built by hand
// rather than parsed, so the routing tests depend on nothing but the routing engine.
import type { Allocation, ClusterNode, ClusterSnapshot, EncapMode, IpamBlock, IpPool, Workload } from '../../routing/cluster.js';
import type { Cidr, IfaceName, IpAddr } from '../../kernel/values.js';
import { cidrContains, nthAddress } from '../../kernel/values.js';

export const ip = (s: string) => s as IpAddr;
export const cidr = (s: string) => s as Cidr;
export const iface = (s: string) => s as IfaceName;

export function node(name: string, address: string, extra: Partial<ClusterNode> = {}): ClusterNode {
  const [addr] = address.split('/');
  return { name, ipv4: { ip: ip(addr ?? ''), cidr: cidr(address) }, ...extra };
}

/** `nat`: the pool's natOutgoing (the seed's pool has it, as Calico's installer sets it). */
export function pool(mode: { ipip?: EncapMode; vxlan?: EncapMode; nat?: boolean } = {}, poolCidr = '10.244.0.0/16'): IpPool {
  return { name: 'default-ipv4-ippool', cidr: cidr(poolCidr), blockSize: 26, ipipMode: mode.ipip ?? 'Never', vxlanMode: mode.vxlan ?? 'Never', disabled: false, ...(mode.nat === true ? { natOutgoing: true } : {}) };
}

/** A block with the given ordinals allocated, each to `owner` (default: the affine node). */
export function block(blockCidr: string, affinity: string | undefined, allocations: [number, string?][] = []): IpamBlock {
  return {
    name: blockCidr.replace(/[./:]/g, '-'),
    cidr: cidr(blockCidr),
    affinityNode: affinity,
    allocations: allocations.map(([ordinal, owner]) => ({ ip: nthAddress(cidr(blockCidr), ordinal), node: owner ?? affinity })),
  };
}

export function workload(namespace: string, name: string, nodeName: string, ips: string[], dev: string): Workload {
  return { namespace, name, node: nodeName, ips: ips.map(ip), iface: iface(dev) };
}

export const SEED_NODES = ['minikube', 'minikube-m02', 'minikube-m03'] as const;

/** The seed's cluster; `tunnels` adds VXLAN tunnel addresses (ordinal 0 of each node's block). */
export function seedCluster(mode: { ipip?: EncapMode; vxlan?: EncapMode; nat?: boolean }, addresses = ['172.16.30.6/24', '172.16.30.7/24', '172.16.30.8/24']): ClusterSnapshot {
  const blocks = ['10.244.120.64/26', '10.244.205.192/26', '10.244.151.0/26'];
  const nodes = SEED_NODES.map((name, i) =>
    node(name, addresses[i] ?? '', {
      ipipTunnelAddr: mode.ipip !== undefined && mode.ipip !== 'Never' ? nthAddress(cidr(blocks[i] ?? ''), 0) : undefined,
      vxlanTunnelAddr: mode.vxlan !== undefined && mode.vxlan !== 'Never' ? nthAddress(cidr(blocks[i] ?? ''), 0) : undefined,
    }),
  );
  return withIpam({
    pools: [pool(mode)],
    nodes,
    blocks: [block(blocks[0] ?? '', 'minikube', [[0]]), block(blocks[1] ?? '', 'minikube-m02', [[0], [1]]), block(blocks[2] ?? '', 'minikube-m03', [[0], [1]])],
    affinities: [],
    workloads: [
      workload('default', 'nginx', 'minikube-m02', ['10.244.205.193'], 'calic440f455693'),
      workload('default', 'nginx-manual', 'minikube-m03', ['10.244.151.1'], 'califba6dd09590'),
    ],
  });
}

/** `b` with `w`'s addresses in it allocated to `w`, as Calico's CNI plugin records them before the pod is written. */
export function allocated(b: IpamBlock, w: Workload): IpamBlock {
  const [withRecord] = withIpam({ pools: [], nodes: [], blocks: [b], affinities: [], workloads: [w] }).blocks;
  return withRecord ?? b;
}

/**
 * The picture with IPAM's records as Calico keeps them: each node's tunnel addresses allocated to
 * its tunnel handle, each workload's addresses to its pod (in the block holding each address).
 * wren routes an address only when IPAM backs it, so a hand-built cluster needs these to route.
 */
export function withIpam(snapshot: ClusterSnapshot): ClusterSnapshot {
  const records = new Map<string, Allocation>();
  for (const n of snapshot.nodes) {
    if (n.ipipTunnelAddr !== undefined) records.set(n.ipipTunnelAddr, { ip: n.ipipTunnelAddr, node: n.name, handle: `ipip-tunnel-addr-${n.name}` });
    if (n.vxlanTunnelAddr !== undefined) records.set(n.vxlanTunnelAddr, { ip: n.vxlanTunnelAddr, node: n.name, handle: `vxlan-tunnel-addr-${n.name}` });
    if (n.vxlanTunnelAddrV6 !== undefined) records.set(n.vxlanTunnelAddrV6, { ip: n.vxlanTunnelAddrV6, node: n.name, handle: `vxlan-v6-tunnel-addr-${n.name}` });
  }
  for (const w of snapshot.workloads) {
    for (const address of w.ips) records.set(address, { ip: address, node: w.node, handle: `k8s-pod-network.${w.namespace}.${w.name}`, namespace: w.namespace, pod: w.name });
  }
  const blocks = snapshot.blocks.map((b) => {
    const mine = [...records.values()].filter((a) => cidrContains(b.cidr, a.ip));
    if (mine.length === 0) return b;
    const taken = new Set(mine.map((a) => a.ip));
    return { ...b, allocations: [...b.allocations.filter((a) => !taken.has(a.ip)), ...mine] };
  });
  return { ...snapshot, blocks };
}
