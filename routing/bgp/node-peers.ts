// Which BGP sessions this node opens, from the cluster's BGPConfiguration (`default`), its
// BGPPeers and the node's own record (calico.md §8; confd's bird.cfg template):
//   - a peer applies to every node (global), to the node it names (`spec.node`), or to the nodes
//     its `spec.nodeSelector` matches (node specific);
//   - the local AS is the node's own (`spec.bgp.asNumber`), else the cluster's, else 64512;
//   - the router id is the node's IPv4 address, and each session's local address the node's
//     address of the peer's family.
// A peer that cannot apply here (its address is this node's own, the node has no address of its
// family, another peer already has the address) is a problem of that peer on this node only.
//
// nodeToNodeMeshEnabled is read and reported, never rendered: the mesh tells every node where
// every other node's blocks are, which is what wren's datastore routes already do (README, BGP).
//
// Pure: no I/O.
import type { AsNumber, Cidr, IpAddr } from '../../kernel/values.js';
import { cidrContains, familyOf } from '../../kernel/values.js';
import type { ClusterNode, ClusterSnapshot, NodeAddress, ObjectProblem } from '../cluster.js';
import { DEFAULT_AS_NUMBER, DEFAULT_BGP_PORT, type BgpConfiguration, type BgpPeer, type LogSeverity } from './bgp-objects.js';
import { matches } from './selector.js';

export type PeerType = 'global' | 'node specific';

export interface NodePeer {
  /** BIRD's protocol name, made from the type and address only: `Global_172_16_0_1`, `Node_fd00__1`. */
  readonly protocol: string;
  /** The BGPPeer it comes from. */
  readonly source: string;
  readonly type: PeerType;
  readonly ip: IpAddr;
  readonly port: number;
  readonly asNumber: AsNumber;
  /** This node's address of the peer's family: the session's source. */
  readonly localIp: IpAddr;
  /** Off this node's subnet: the session crosses a router (BIRD's `multihop`). */
  readonly multihop: boolean;
}

export interface NodeBgp {
  /** The node's IPv4 address; without one there is no router id and no BGP on this node. */
  readonly routerId?: IpAddr;
  readonly asNumber: AsNumber;
  readonly listenPort: number;
  readonly logSeverity: LogSeverity;
  /** BGPConfiguration's nodeToNodeMeshEnabled (default true): reported, never rendered. */
  readonly mesh: boolean;
  readonly peers: readonly NodePeer[];
  /** Pools with `disableBGPExport`: their blocks are routed, never announced. */
  readonly unexported: readonly Cidr[];
  readonly problems: readonly ObjectProblem[];
}

/** The cluster's BGPConfiguration: Calico reads the one named `default`. */
export function clusterBgpConfiguration(snapshot: ClusterSnapshot): BgpConfiguration | undefined {
  return snapshot.bgpConfigurations?.find((c) => c.name === 'default');
}

export function nodeBgp(snapshot: ClusterSnapshot, nodeName: string): NodeBgp {
  const config = clusterBgpConfiguration(snapshot);
  const me = snapshot.nodes.find((n) => n.name === nodeName);
  const asNumber = me?.asNumber ?? config?.asNumber ?? DEFAULT_AS_NUMBER;
  const unexported = snapshot.pools.filter((p) => p.disableBGPExport === true).map((p) => p.cidr);
  const base = { asNumber, listenPort: config?.listenPort ?? DEFAULT_BGP_PORT, logSeverity: config?.logSeverityScreen ?? 'Info', mesh: config?.nodeToNodeMeshEnabled ?? true, unexported };
  const problems: ObjectProblem[] = [];
  const routerId = me?.ipv4?.ip;
  if (me === undefined || routerId === undefined) {
    const applying = (snapshot.bgpPeers ?? []).filter((p) => me !== undefined && applies(p, me)).length;
    if (me !== undefined && applying > 0) {
      problems.push({ kind: 'Node', name: nodeName, field: 'spec.bgp.ipv4Address', message: `has no IPv4 address for BGP's router id: none of its ${applying} BGP peers is opened`, reason: 'missing-address' });
    }
    return { ...base, peers: [], problems };
  }
  const peers = new Map<string, NodePeer>();
  // Node-specific peers first, then by name: of two peers at one address, the more specific one wins.
  const candidates = (snapshot.bgpPeers ?? []).filter((p) => applies(p, me)).sort((a, b) => specificity(b) - specificity(a) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const peer of candidates) {
    const refuse = (field: string, message: string, reason: ObjectProblem['reason']) => problems.push({ kind: 'BGPPeer', name: peer.name, field, message, reason });
    const local = familyOf(peer.peerIP) === 4 ? me.ipv4 : me.ipv6;
    if (local === undefined) {
      refuse('spec.peerIP', `is IPv${familyOf(peer.peerIP)}, and node ${nodeName} has no IPv${familyOf(peer.peerIP)} address: no session from it`, 'missing-address');
      continue;
    }
    if (peer.peerIP === me.ipv4?.ip || peer.peerIP === me.ipv6?.ip) {
      refuse('spec.peerIP', `is node ${nodeName}'s own address: a node does not peer with itself`, 'forbidden-space');
      continue;
    }
    const type: PeerType = specificity(peer) > 0 ? 'node specific' : 'global';
    const protocol = protocolName(type, peer.peerIP);
    const held = peers.get(peer.peerIP);
    if (held !== undefined) {
      refuse('spec.peerIP', `${peer.peerIP} is already peered by BGPPeer ${held.source} on node ${nodeName}: one session per address`, 'other');
      continue;
    }
    peers.set(peer.peerIP, { protocol, source: peer.name, type, ip: peer.peerIP, port: peer.port ?? DEFAULT_BGP_PORT, asNumber: peer.asNumber, localIp: local.ip, multihop: !onSubnet(local, peer.peerIP) });
  }
  return { ...base, routerId, peers: [...peers.values()].sort((a, b) => (a.protocol < b.protocol ? -1 : 1)), problems };
}

/** Whether a peer's session is opened by `node`. */
export function applies(peer: BgpPeer, node: ClusterNode): boolean {
  if (peer.node !== undefined) return peer.node === node.name;
  if (peer.nodeSelector !== undefined) return matches(peer.nodeSelector.selector, node.labels ?? {});
  return true;
}

function specificity(peer: BgpPeer): number {
  return peer.node !== undefined || peer.nodeSelector !== undefined ? 1 : 0;
}

function onSubnet(local: NodeAddress, ip: IpAddr): boolean {
  return cidrContains(local.cidr, ip);
}

/** Letters, digits and `_` only, from a validated address: nothing of an object's text. */
export function protocolName(type: PeerType, ip: IpAddr): string {
  return `${type === 'global' ? 'Global' : 'Node'}_${ip.replace(/[.:]/g, '_')}`;
}
