// The cluster in Calico's etcd v3 layout, as key/value pairs: what calico-node, Calico's IPAM
// and its CNI plugin would have written. Blocks hold their fields at the root of the value,
// affinities are `{"state":"confirmed","deleted":false}`, resources are projectcalico.org/v3.
import { affinityKey, blockKey, resourceKey, snapshotObjects } from '../calico/index.js';
import type { Cidr } from '../kernel/index.js';
import { EMPTY_SNAPSHOT, type ClusterSnapshot, type IpamBlock, type Workload } from '../routing/index.js';
import { derivedVtepMac } from '../tunnels/index.js';

export interface Kv {
  readonly key: string;
  readonly value: string;
}

type Json = Record<string, unknown>;

/**
 * Everything but the local node's own Node resource: the agent registers itself, as
 * calico-node does (address, tunnel address from IPAM, VTEP MAC).
 */
export function clusterKvs(snapshot: ClusterSnapshot, localNode: string): Kv[] {
  const kvs: Kv[] = [];
  for (const pool of snapshot.pools) {
    const spec = { cidr: pool.cidr, blockSize: pool.blockSize, ipipMode: pool.ipipMode, vxlanMode: pool.vxlanMode, natOutgoing: false, nodeSelector: 'all()', disabled: pool.disabled };
    kvs.push({ key: resourceKey('ippools', pool.name), value: JSON.stringify({ kind: 'IPPool', apiVersion: 'projectcalico.org/v3', metadata: { name: pool.name }, spec }) });
  }
  for (const node of snapshot.nodes) {
    if (node.name === localNode) continue;
    const spec: Json = { bgp: { ipv4Address: node.ipv4?.cidr } };
    if (node.vxlanTunnelAddr !== undefined) {
      spec.ipv4VXLANTunnelAddr = node.vxlanTunnelAddr;
      spec.vxlanTunnelMACAddr = node.vxlanMac ?? derivedVtepMac(node.name, 4);
    }
    kvs.push({ key: resourceKey('nodes', node.name), value: JSON.stringify({ kind: 'Node', apiVersion: 'projectcalico.org/v3', metadata: { name: node.name }, spec }) });
  }
  for (const block of snapshot.blocks) kvs.push(blockKv(block));
  for (const a of snapshot.affinities) kvs.push({ key: affinityKey(a.node, a.cidr), value: JSON.stringify({ state: a.state, deleted: false }) });
  for (const w of snapshot.workloads) kvs.push(workloadKv(w));
  return kvs;
}

/** A pod as Calico's CNI plugin records it in etcd: a projectcalico.org/v3 WorkloadEndpoint. */
export function workloadKv(workload: Workload): Kv {
  const [object] = snapshotObjects({ ...EMPTY_SNAPSHOT, workloads: [workload] });
  const metadata = (object as { metadata: { name: string; namespace: string } }).metadata;
  return { key: resourceKey('workloadendpoints', metadata.name, metadata.namespace), value: JSON.stringify(object) };
}

/** A block as Calico's IPAM stores it in etcd (the IPAMBlock CRD's spec, at the root). */
export function blockKv(block: IpamBlock): Kv {
  const [object] = snapshotObjects({ ...EMPTY_SNAPSHOT, blocks: [block] });
  return { key: blockKey(block.cidr as Cidr), value: JSON.stringify((object as { spec: Json }).spec) };
}
