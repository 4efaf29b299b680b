// ClusterSnapshot → a `kubectl`-style YAML List that parseSnapshotText reads back to the same
// snapshot, so `wren snapshot` can dump a live datastore for `wren routes --snapshot`. Objects
// take the shapes Calico stores in Kubernetes: IPPool, IPAMBlock and BlockAffinity as
// crd.projectcalico.org/v1, nodes as v1 Nodes with Calico's annotations. Workloads are written
// as projectcalico.org/v3 WorkloadEndpoints, which name their interface (a Pod would not); BGP
// objects as crd.projectcalico.org/v1 BGPConfiguration and BGPPeer. A block
// holds only the allocations that route apart from it (ipam-block.ts), so a dump of a live
// datastore lists those and answers the same routes, not every address Calico handed out.
import { CONTAINER_ID_ANNOTATION, POD_IPS_ANNOTATION } from './pod.js';
import { Document, isScalar, isSeq, visit } from 'yaml';
import { addressOf, cidrSize, hostCidr, ipToBigInt } from '../../kernel/values.js';
import type { BgpConfiguration, BgpPeer } from '../../routing/bgp/bgp-objects.js';
import type { BlockAffinity, ClusterNode, ClusterSnapshot, IpamBlock, IpPool, Workload } from '../../routing/cluster.js';
import { NODE_ANNOTATIONS } from './k8s-node.js';
import { CALICO_API_GROUP, CALICO_CRD_GROUP } from './parse-object.js';

type Json = Record<string, unknown>;

export function snapshotObjects(snapshot: ClusterSnapshot): Record<string, unknown>[] {
  return [
    ...snapshot.pools.map(poolObject),
    ...snapshot.blocks.map(blockObject),
    ...snapshot.affinities.map(affinityObject),
    ...snapshot.nodes.map(nodeObject),
    ...snapshot.workloads.map(workloadObject),
    ...(snapshot.bgpConfigurations ?? []).map(bgpConfigurationObject),
    ...(snapshot.bgpPeers ?? []).map(bgpPeerObject),
  ];
}

export function renderSnapshotFile(snapshot: ClusterSnapshot): string {
  // `kind` after the items, as kubectl writes it: a copy cut short is then a List without its
  // kind, which the reader refuses as truncated (cluster-wholeness.ts) rather than taking it whole.
  const document = new Document({ apiVersion: 'v1', items: snapshotObjects(snapshot), kind: 'List', metadata: { resourceVersion: '' } });
  document.commentBefore = ' Cluster snapshot written by wren; read it back with --snapshot.';
  // Ordinal arrays on one line each, as in Calico's own examples, not 64 lines per block.
  visit(document, {
    Pair(_, pair) {
      if (isScalar(pair.key) && (pair.key.value === 'allocations' || pair.key.value === 'unallocated') && isSeq(pair.value)) pair.value.flow = true;
    },
  });
  return document.toString({ lineWidth: 0 });
}

function poolObject(pool: IpPool): Json {
  const { cidr, blockSize, ipipMode, vxlanMode, disabled } = pool;
  const metadata = pool.created === undefined ? { name: pool.name } : { name: pool.name, creationTimestamp: pool.created };
  // natOutgoing only when set, as the parser keeps it (false is the API's default).
  const nat = pool.natOutgoing === true ? { natOutgoing: true } : {};
  const bgp = pool.disableBGPExport === true ? { disableBGPExport: true } : {};
  return { apiVersion: CALICO_CRD_GROUP, kind: 'IPPool', metadata, spec: { cidr, blockSize, ipipMode, vxlanMode, ...nat, ...bgp, disabled } };
}

function blockObject(block: IpamBlock): Json {
  const allocations: (number | null)[] = new Array<number | null>(Number(cidrSize(block.cidr))).fill(null);
  const attributes: Json[] = [];
  const byOwner = new Map<string, number>(); // one attribute per owner, as Calico shares them
  const base = ipToBigInt(addressOf(block.cidr));
  for (const { ip, node, handle, namespace, pod } of block.allocations) {
    const ordinal = Number(ipToBigInt(ip) - base);
    if (ordinal < 0 || ordinal >= allocations.length) throw new RangeError(`IPAMBlock ${block.name}: allocation ${ip} is outside ${block.cidr}`);
    const owner = `${handle ?? ''} ${node ?? ''} ${namespace ?? ''} ${pod ?? ''}`;
    let index = byOwner.get(owner);
    if (index === undefined) {
      index = attributes.length;
      byOwner.set(owner, index);
      const secondary = { ...(node === undefined ? {} : { node }), ...(namespace === undefined ? {} : { namespace }), ...(pod === undefined ? {} : { pod }) };
      attributes.push({ ...(handle === undefined ? {} : { handle_id: handle }), secondary });
    }
    allocations[ordinal] = index;
  }
  const unallocated = allocations.flatMap((entry, ordinal) => (entry === null ? [ordinal] : []));
  const affinity = block.affinityNode === undefined ? {} : { affinity: `host:${block.affinityNode}` };
  return {
    apiVersion: CALICO_CRD_GROUP,
    kind: 'IPAMBlock',
    metadata: { name: block.name },
    spec: { cidr: block.cidr, ...affinity, allocations, unallocated, attributes, strictAffinity: false, deleted: false },
  };
}

function affinityObject(affinity: BlockAffinity): Json {
  const { state, node, cidr } = affinity;
  return { apiVersion: CALICO_CRD_GROUP, kind: 'BlockAffinity', metadata: { name: affinity.name }, spec: { state, node, type: 'host', cidr, deleted: 'false' } };
}

function nodeObject(node: ClusterNode): Json {
  const values = {
    ipv4: node.ipv4?.cidr,
    ipv6: node.ipv6?.cidr,
    ipipTunnelAddr: node.ipipTunnelAddr,
    vxlanTunnelAddr: node.vxlanTunnelAddr,
    vxlanTunnelAddrV6: node.vxlanTunnelAddrV6,
    vxlanMac: node.vxlanMac,
    vxlanMacV6: node.vxlanMacV6,
    asNumber: node.asNumber === undefined ? undefined : String(node.asNumber),
  } satisfies Record<keyof typeof NODE_ANNOTATIONS, string | undefined>;
  const annotations = Object.fromEntries(
    Object.entries(NODE_ANNOTATIONS).flatMap(([fact, annotation]) => {
      const value = values[fact as keyof typeof values];
      return value === undefined ? [] : [[annotation, value]];
    }),
  );
  const created = node.created === undefined ? {} : { creationTimestamp: node.created };
  const labels = node.labels === undefined ? {} : { labels: node.labels };
  const metadata = Object.keys(annotations).length === 0 ? { name: node.name, ...created, ...labels } : { name: node.name, ...created, ...labels, annotations };
  return { apiVersion: 'v1', kind: 'Node', metadata };
}

function bgpConfigurationObject(config: BgpConfiguration): Json {
  const { asNumber, nodeToNodeMeshEnabled, listenPort, logSeverityScreen } = config;
  const spec = Object.fromEntries(Object.entries({ asNumber, nodeToNodeMeshEnabled, listenPort, logSeverityScreen }).filter(([, v]) => v !== undefined));
  return { apiVersion: CALICO_CRD_GROUP, kind: 'BGPConfiguration', metadata: { name: config.name }, spec };
}

function bgpPeerObject(peer: BgpPeer): Json {
  const peerIP = peer.port === undefined ? peer.peerIP : peer.peerIP.includes(':') ? `[${peer.peerIP}]:${peer.port}` : `${peer.peerIP}:${peer.port}`;
  const where = peer.node !== undefined ? { node: peer.node } : peer.nodeSelector !== undefined ? { nodeSelector: peer.nodeSelector.text } : {};
  return { apiVersion: CALICO_CRD_GROUP, kind: 'BGPPeer', metadata: { name: peer.name }, spec: { peerIP, asNumber: peer.asNumber, ...where } };
}

/** A workload as the object it was read from: a Pod as Calico's CNI plugin annotates it, else a WorkloadEndpoint. */
function workloadObject(workload: Workload): Json {
  return workload.source === 'Pod' ? podObject(workload) : endpointObject(workload);
}

function podObject(workload: Workload): Json {
  const annotations = {
    [POD_IPS_ANNOTATION]: workload.ips.map(hostCidr).join(','),
    ...(workload.containerId === undefined ? {} : { [CONTAINER_ID_ANNOTATION]: workload.containerId }),
  };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: workload.name, namespace: workload.namespace, annotations },
    spec: { nodeName: workload.node },
    status: { podIPs: workload.ips.map((ip) => ({ ip })) },
  };
}

function endpointObject(workload: Workload): Json {
  return {
    apiVersion: CALICO_API_GROUP,
    kind: 'WorkloadEndpoint',
    metadata: { name: endpointName(workload.node, workload.name), namespace: workload.namespace },
    spec: {
      orchestrator: 'k8s',
      node: workload.node,
      pod: workload.name,
      endpoint: 'eth0',
      ...(workload.containerId === undefined ? {} : { containerID: workload.containerId }),
      interfaceName: workload.iface,
      ipNetworks: workload.ips.map(hostCidr),
    },
  };
}

/**
 * Calico's endpoint name (`names.WorkloadEndpointIdentifiers`): dashes doubled, parts joined by
 * one. Like Calico's, it can outgrow 253 characters for extreme node and pod names.
 */
function endpointName(node: string, pod: string): string {
  return [node, 'k8s', pod, 'eth0'].map((part) => part.replace(/-/g, '--')).join('-');
}
