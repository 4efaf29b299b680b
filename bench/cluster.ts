// The benchmark's cluster: N remote /26 blocks spread over remote nodes, plus one local node
// with 250 pods (4 blocks, so 4 blackholes and 250 /32 device routes). Built with the test
// suite's builders so the shapes are exactly what the routing tests use.
//
// Addresses are plain integers turned into text: block i is 10.0.0.0 + 64·i in a 10.0.0.0/8 pool
// (room for 262,144 blocks); nodes sit on 172.16.0.0/16 (local .0.2, remote from .0.10 up).
import { ipv4ToNumber, type Cidr, type IfaceName, type IpAddr } from '../kernel/index.js';
import type { BlockAffinity, ClusterNode, ClusterSnapshot, IpamBlock, Workload } from '../routing/index.js';
import { derivedVtepMac } from '../tunnels/index.js';
import { block, node, pool, workload } from '../test/support/index.js';

export type Encap = 'vxlan' | 'none';

export interface ClusterSpec {
  /** Remote blocks: each becomes one route on the local node. */
  readonly blocks: number;
  readonly pods: number;
  readonly encap: Encap;
  /**
   * Give the local node its VXLAN tunnel address in the cluster (a snapshot file must). An
   * agent on etcd allocates its own, so there it is left out and ordinal 0 stays free.
   */
  readonly localTunnel: boolean;
  /** Blocks per remote node (default 20): the number of distinct gateways the routes use. */
  readonly blocksPerNode?: number;
}

export interface BenchCluster {
  readonly spec: ClusterSpec;
  readonly snapshot: ClusterSnapshot;
  readonly localNode: string;
  /** The local node's eth0 address with its prefix. */
  readonly localCidr: Cidr;
  readonly localIfaces: readonly IfaceName[];
  readonly remoteNodes: number;
  /** Routes wren must program: remote blocks + local blackholes + pods. */
  readonly expectedRoutes: number;
}

export const LOCAL_NODE = 'bench-local';
export const POOL_CIDR = '10.0.0.0/8';
export const NODE_SUBNET = '172.16.0.0/16';
export const LOCAL_CIDR = '172.16.0.2/16' as Cidr;
const BLOCK_SIZE = 64;
/** Blocks per remote node by default; nodes are capped at 5,000, Kubernetes' supported maximum. */
export const BLOCKS_PER_NODE = 20;
const MAX_NODES = 5000;
const REMOTE_ALLOCATIONS = 4;

export function remoteNodeCount(blocks: number, perNode = BLOCKS_PER_NODE): number {
  return Math.max(1, Math.min(MAX_NODES, Math.ceil(blocks / perNode)));
}

export function localBlockCount(pods: number): number {
  // Ordinal 0 of the first block is the node's tunnel address.
  return Math.max(1, Math.ceil((pods + 1) / BLOCK_SIZE));
}

export function buildCluster(spec: ClusterSpec): BenchCluster {
  const localBlocks = localBlockCount(spec.pods);
  const nodes = remoteNodeCount(spec.blocks, spec.blocksPerNode);
  const vxlan = spec.encap === 'vxlan';
  // Each VXLAN tunnel address, allocated to its node's tunnel handle as Calico's IPAM records it.
  const tunnels = new Map<string, string>();
  if (spec.localTunnel) tunnels.set(ipAt(blockBase(0)), LOCAL_NODE);
  for (let n = 0; n < nodes; n++) tunnels.set(ipAt(blockBase(localBlocks + n)), remoteName(n));
  const blocks: IpamBlock[] = [];
  const affinities: BlockAffinity[] = [];
  const addBlock = (index: number, owner: string, ordinals: number[]) => {
    const b = withTunnelHandle(block(blockCidr(index), owner, ordinals.map((o): [number] => [o])), vxlan ? tunnels : new Map());
    blocks.push(b);
    affinities.push({ name: `${owner}-${b.name}`, node: owner, cidr: b.cidr, state: 'confirmed' });
  };

  const workloads: Workload[] = [];
  const ifaces: IfaceName[] = [];
  const localOrdinals: number[][] = Array.from({ length: localBlocks }, (_, i) => (i === 0 && spec.localTunnel ? [0] : []));
  for (let p = 0; p < spec.pods; p++) {
    const slot = p + 1;
    const b = Math.floor(slot / BLOCK_SIZE);
    localOrdinals[b]?.push(slot % BLOCK_SIZE);
    const iface = caliName(p);
    ifaces.push(iface);
    workloads.push(workload('bench', `pod-${p}`, LOCAL_NODE, [ipAt(blockBase(b) + (slot % BLOCK_SIZE))], iface));
  }
  localOrdinals.forEach((ordinals, b) => addBlock(b, LOCAL_NODE, ordinals));
  // Each pod's address allocated to that pod, as Calico's CNI plugin records it (wren routes
  // an address to a pod only when IPAM says it is the pod's).
  for (let b = 0; b < localBlocks; b++) {
    const held = blocks[b];
    if (held !== undefined) blocks[b] = { ...held, allocations: held.allocations.map((a) => podAllocation(a, b)) };
  }

  const clusterNodes: ClusterNode[] = [
    node(LOCAL_NODE, LOCAL_CIDR, vxlan && spec.localTunnel ? { vxlanTunnelAddr: ipAt(blockBase(0)), vxlanMac: derivedVtepMac(LOCAL_NODE, 4) } : {}),
  ];
  for (let n = 0; n < nodes; n++) {
    const first = localBlocks + n; // a node's first block: its tunnel address is ordinal 0 there
    clusterNodes.push(node(remoteName(n), `${ipAt(NODE_BASE + 10 + n)}/16`, vxlan ? { vxlanTunnelAddr: ipAt(blockBase(first)), vxlanMac: derivedVtepMac(remoteName(n), 4) } : {}));
  }
  // Block j (0-based among remote blocks) belongs to node j mod nodes, so each node's first
  // block is among the first `nodes` blocks.
  for (let j = 0; j < spec.blocks; j++) {
    addBlock(localBlocks + j, remoteName(j % nodes), Array.from({ length: REMOTE_ALLOCATIONS }, (_, o) => o));
  }

  const snapshot: ClusterSnapshot = {
    pools: [pool(vxlan ? { vxlan: 'Always' } : {}, POOL_CIDR)],
    nodes: clusterNodes,
    blocks,
    affinities,
    workloads,
  };
  return { spec, snapshot, localNode: LOCAL_NODE, localCidr: LOCAL_CIDR, localIfaces: ifaces, remoteNodes: nodes, expectedRoutes: spec.blocks + localBlocks + spec.pods };
}

/** A local block's allocation, with the pod it was given to (the tunnel address stays as it is). */
function podAllocation(a: IpamBlock['allocations'][number], b: number): IpamBlock['allocations'][number] {
  if (a.handle !== undefined) return a;
  const p = b * BLOCK_SIZE + (ipv4ToNumber(a.ip) - blockBase(b)) - 1;
  return { ...a, handle: `k8s-pod-network.bench.pod-${p}`, namespace: 'bench', pod: `pod-${p}` };
}

/** The block with its tunnel address, if it holds one, allocated to that node's tunnel handle. */
function withTunnelHandle(b: IpamBlock, tunnels: ReadonlyMap<string, string>): IpamBlock {
  if (tunnels.size === 0) return b;
  return { ...b, allocations: b.allocations.map((a) => {
    const node = tunnels.get(a.ip);
    return node === undefined ? a : { ...a, handle: `vxlan-tunnel-addr-${node}` };
  }) };
}

/** A block no cluster of up to `blocks` remote blocks uses: for the one-change scenario. */
export function spareBlockCidr(blocks: number, pods: number, k: number): Cidr {
  return blockCidr(localBlockCount(pods) + blocks + 1 + k);
}

export function remoteName(n: number): string {
  return `bench-node-${n}`;
}

export function caliName(p: number): IfaceName {
  return `cali${p.toString(16).padStart(11, '0')}` as IfaceName;
}

const POOL_BASE = 10 << 24;
const NODE_BASE = ((172 << 24) | (16 << 16)) >>> 0;

function blockBase(index: number): number {
  return POOL_BASE + index * BLOCK_SIZE;
}

function blockCidr(index: number): Cidr {
  return `${ipAt(blockBase(index))}/26` as Cidr;
}

function ipAt(n: number): IpAddr {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}` as IpAddr;
}
