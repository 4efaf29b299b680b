// The cluster as the routing engine sees it: validated, plain data, independent of where it was
// read (a Kubernetes API server, etcd, or a `kubectl get -o yaml` dump). Parsers in calico/objects
// build these from Calico's objects; nothing here holds an unvalidated string.
import type { AsNumber, Cidr, IfaceName, IpAddr, Mac } from '../kernel/values.js';
import type { BgpConfiguration, BgpPeer } from './bgp/bgp-objects.js';
import type { Labels } from './bgp/selector.js';

export const ENCAP_MODES = ['Always', 'CrossSubnet', 'Never'] as const;
export type EncapMode = (typeof ENCAP_MODES)[number];

export interface IpPool {
  readonly name: string;
  readonly cidr: Cidr;
  readonly blockSize: number;
  readonly ipipMode: EncapMode;
  readonly vxlanMode: EncapMode;
  /** Disabled pools hand out no new addresses; their existing blocks are still routed. */
  readonly disabled: boolean;
  /**
   * `spec.natOutgoing`: traffic from the pool to anywhere outside every pool is masqueraded
   * (routing/nat.ts). Absent means false, Calico's API default.
   */
  readonly natOutgoing?: boolean;
  /** `spec.disableBGPExport`: the pool's blocks are never announced over BGP. Absent means false. */
  readonly disableBGPExport?: boolean;
  /** `metadata.creationTimestamp` (ISO 8601), when known: of two overlapping pools, the older keeps its space. */
  readonly created?: string;
}

/** A node's address on its underlay, with the subnet it sits in (from `IPv4Address: 172.16.30.7/24`). */
export interface NodeAddress {
  readonly ip: IpAddr;
  /** The prefix the node address was configured with, host bits kept: 172.16.30.7/24. */
  readonly cidr: Cidr;
}

export interface ClusterNode {
  readonly name: string;
  readonly ipv4?: NodeAddress;
  readonly ipv6?: NodeAddress;
  readonly ipipTunnelAddr?: IpAddr;
  readonly vxlanTunnelAddr?: IpAddr;
  readonly vxlanTunnelAddrV6?: IpAddr;
  /** The VTEP MACs when the datastore records them; otherwise derived (tunnels/vtep-mac.ts). */
  readonly vxlanMac?: Mac;
  readonly vxlanMacV6?: Mac;
  /** The node's own BGP AS (`spec.bgp.asNumber`, annotation `projectcalico.org/ASNumber`); the cluster's when absent. */
  readonly asNumber?: AsNumber;
  /** `metadata.labels`, which BGPPeer node selectors match; absent when the node has none. */
  readonly labels?: Labels;
  /** `metadata.creationTimestamp` (ISO 8601), when known: the older of two nodes claiming one VTEP MAC keeps it. */
  readonly created?: string;
}

export interface Allocation {
  readonly ip: IpAddr;
  /** The node the address was allocated to (attribute `node`), when recorded. */
  readonly node?: string;
  readonly handle?: string;
  /** The pod it was allocated to (attributes `namespace` and `pod`), when recorded. */
  readonly namespace?: string;
  readonly pod?: string;
}

export interface IpamBlock {
  readonly name: string;
  readonly cidr: Cidr;
  /** The node of a `host:<node>` affinity; undefined when the block has none (or a `virtual:` one). */
  readonly affinityNode?: string;
  /**
   * The allocations that route apart from the block (addresses borrowed by another node, and
   * owner-less ones in a block affine to no node), plus those the meaning checks need: every
   * node's tunnel address, and every allocation of the node the picture was read for (its own
   * blocks' and those naming it), with the pod or handle that holds it. The rest of a block's own
   * addresses are covered by its block route and are not kept (100,000 blocks' worth of them
   * cost tens of MB).
   */
  readonly allocations: readonly Allocation[];
}

export const AFFINITY_STATES = ['pending', 'confirmed', 'pendingDeletion'] as const;
export type AffinityState = (typeof AFFINITY_STATES)[number];

export interface BlockAffinity {
  readonly name: string;
  readonly node: string;
  readonly cidr: Cidr;
  readonly state: AffinityState;
}

/** A pod (or workload endpoint) with its host-side interface. */
export interface Workload {
  readonly namespace: string;
  readonly name: string;
  readonly node: string;
  readonly ips: readonly IpAddr[];
  readonly iface: IfaceName;
  /** The container the CNI plugin set it up for: IPAM's handle for it ends in `.<containerId>`. */
  readonly containerId?: string;
  /** The object it was read from (a Pod in Kubernetes, a WorkloadEndpoint in etcd), so a refusal names it. */
  readonly source?: 'Pod' | 'WorkloadEndpoint';
}

export interface ClusterSnapshot {
  readonly pools: readonly IpPool[];
  readonly nodes: readonly ClusterNode[];
  /** Live blocks only: blocks marked `deleted: true` are left out by the parsers, as Calico's readers do. */
  readonly blocks: readonly IpamBlock[];
  /** Live affinities only (`deleted` ones left out). */
  readonly affinities: readonly BlockAffinity[];
  readonly workloads: readonly Workload[];
  /** BGP objects (routing/bgp/); absent where a producer has none, which reads as none. */
  readonly bgpConfigurations?: readonly BgpConfiguration[];
  readonly bgpPeers?: readonly BgpPeer[];
}

export const EMPTY_SNAPSHOT: ClusterSnapshot = { pools: [], nodes: [], blocks: [], affinities: [], workloads: [] };

/**
 * Why an object (or part of it) was refused, as a stable code: problems are counted and listed
 * per reason (100,000 bad blocks are one line with a count, not 100,000 lines).
 */
export const PROBLEM_REASONS = [
  'invalid', // the object does not parse: schema, syntax, a field of the wrong form
  'forbidden-space', // a pool, block or address over the node's own, reserved or forbidden addresses
  'outside-pool', // a block, tunnel or pod address inside no IPPool
  'block-size', // a block whose prefix is not its pool's block size
  'overlap', // a block overlapping or covering another
  'unknown-node', // a block or allocation naming a node that does not exist
  'interface', // a workload interface that is not a workload interface (FELIX_INTERFACEPREFIX)
  'not-allocated', // an address IPAM did not give to the object claiming it
  'vtep', // a VTEP address or MAC that is unusable or claimed twice
  'missing-address', // a node without the address its routes need
  'affinity', // block affinities that disagree
  'route-conflict', // two objects want one route
  'kernel-refused', // the kernel refused a change for this object
  'other',
] as const;
export type ProblemReason = (typeof PROBLEM_REASONS)[number];

/** What went wrong with one object: enough for an operator to find and fix it. */
export interface ObjectProblem {
  readonly kind: string;
  readonly name: string;
  /** JSON path of the offending field inside the object, e.g. `spec.cidr`. */
  readonly field: string;
  readonly message: string;
  /** Why, as a code to count by; absent on older producers, which count as `other`. */
  readonly reason?: ProblemReason;
}

export function reasonOf(problem: ObjectProblem): ProblemReason {
  return problem.reason ?? 'other';
}

/** Older first; an object without a creation time counts as newest; then by name. */
export function olderFirst(a: { readonly created?: string; readonly name: string }, b: { readonly created?: string; readonly name: string }): number {
  const x = a.created ?? '\uffff';
  const y = b.created ?? '\uffff';
  return x < y ? -1 : x > y ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Calico's IPAM handles of node tunnel addresses (`vxlan-tunnel-addr-<node>`, …): one per node. */
const TUNNEL_HANDLE = /^(vxlan|vxlan-v6|ipip|wireguard|wireguard-v6)-tunnel-addr-/;

export function isTunnelHandle(handle: string | undefined): boolean {
  return handle !== undefined && TUNNEL_HANDLE.test(handle);
}
