// The lab's side of its datastore, whichever it is: what Calico's installer, the CNI plugin and
// (on Kubernetes) the kubelet would write — the IP pool, a joining node, each pod's address and
// the record of the pod. The agents read all of it back like any Calico datastore.
import type { IpamAllocator } from '../calico/ipam/allocator.js';
import type { Cidr, IfaceName, IpAddr } from '../kernel/values.js';
import type { ClusterNode, IpPool } from '../routing/cluster.js';
import { labKubeEndpoint } from './kube-apiserver/lab-server.js';
import { LabKubeStore } from './kube-store.js';
import { LabStore } from './lab-store.js';
import type { Encap, LabState } from './state.js';

export interface LabDatastore {
  readonly ipam: IpamAllocator;
  writePool(cidr: Cidr, blockSize: number, encap: Encap, crossSubnet: boolean, natOutgoing: boolean): Promise<void>;
  pool(): Promise<IpPool>;
  /** The node as the agents read it (its address, tunnel address, VTEP MAC once registered). */
  node(name: string): Promise<ClusterNode | undefined>;
  /** What the kubelet does as a node joins; nothing where calico-node makes the record itself. */
  addNode(name: string, ip: string): Promise<void>;
  /** The pod's address from Calico's IPAM, and the IPAM handle it is held under. */
  allocatePod(node: string, namespace: string, pod: string): Promise<{ ip: IpAddr; handle: string }>;
  /** The pod's record once its interface exists: a WorkloadEndpoint, or the Pod itself. */
  writeEndpoint(node: string, namespace: string, pod: string, iface: IfaceName, ip: IpAddr, handle: string): Promise<void>;
  deleteEndpoint(node: string, namespace: string, pod: string): Promise<void>;
  deleteNode(name: string): Promise<void>;
  /** With `--bgp`: the BGPConfiguration `default` (the cluster's AS, and whether nodes mesh). */
  writeBgpConfiguration(asNumber: number, nodeToNodeMeshEnabled: boolean): Promise<void>;
  /** A BGPPeer for one node (`spec.node`), created or replaced. */
  writeBgpPeer(peer: LabBgpPeer): Promise<void>;
  deleteBgpPeer(name: string): Promise<void>;
  close(): void;
}

export interface LabBgpPeer {
  readonly name: string;
  readonly node: string;
  readonly peerIP: IpAddr;
  readonly asNumber: number;
}

/** The datastore the lab was made with: its API server (through the forwarder) or its etcd. */
export function openLabDatastore(state: LabState): LabDatastore {
  return state.kubernetes === undefined ? new LabStore(state.etcd.socket) : new LabKubeStore(labKubeEndpoint(state.kubernetes));
}
