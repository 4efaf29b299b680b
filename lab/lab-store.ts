// The lab's side of the datastore: what Calico's install and CNI plugin would write to etcd —
// the IP pool, and for each pod its address (Calico's IPAM, handle and attributes as the CNI
// plugin records them) and its WorkloadEndpoint. The agents read all of it back like any
// Calico datastore.
import { EtcdClient } from '../calico/etcd/etcd-client.js';
import { EtcdIpamStore } from '../calico/etcd/etcd-ipam-store.js';
import { EtcdNodeWriter } from '../calico/etcd/etcd-node-writer.js';
import { IpamAllocator } from '../calico/ipam/allocator.js';
import { resourceKey } from '../calico/objects/etcd-keys.js';
import { parseEtcdKv } from '../calico/objects/etcd-kv.js';
import type { Cidr, IfaceName, IpAddr } from '../kernel/values.js';
import type { ClusterNode, IpPool } from '../routing/cluster.js';
import { assignPodAddress, POOL_NAME, poolSpec } from './cni-writes.js';
import type { LabBgpPeer, LabDatastore } from './lab-datastore.js';
import type { Encap } from './state.js';

export class LabStore implements LabDatastore {
  readonly client: EtcdClient;
  readonly ipam: IpamAllocator;
  readonly nodes: EtcdNodeWriter;

  constructor(endpoint: string) {
    this.client = new EtcdClient({ endpoints: endpoint });
    this.ipam = new IpamAllocator(new EtcdIpamStore(this.client));
    this.nodes = new EtcdNodeWriter(this.client);
  }

  close(): void {
    this.client.close();
  }

  async writePool(cidr: Cidr, blockSize: number, encap: Encap, crossSubnet: boolean, natOutgoing: boolean): Promise<void> {
    await this.#put('ippools', 'IPPool', POOL_NAME, poolSpec(cidr, blockSize, encap, crossSubnet, natOutgoing));
  }

  async writeBgpConfiguration(asNumber: number, nodeToNodeMeshEnabled: boolean): Promise<void> {
    await this.#put('bgpconfigurations', 'BGPConfiguration', 'default', { asNumber, nodeToNodeMeshEnabled });
  }

  async writeBgpPeer(peer: LabBgpPeer): Promise<void> {
    await this.#put('bgppeers', 'BGPPeer', peer.name, { node: peer.node, peerIP: peer.peerIP, asNumber: peer.asNumber });
  }

  async deleteBgpPeer(name: string): Promise<void> {
    await this.#delete(resourceKey('bgppeers', name));
  }

  /** A cluster-scoped projectcalico.org/v3 resource, created or replaced. */
  async #put(plural: 'ippools' | 'bgpconfigurations' | 'bgppeers', kind: string, name: string, spec: Record<string, unknown>): Promise<void> {
    const key = resourceKey(plural, name);
    const value = JSON.stringify({ kind, apiVersion: 'projectcalico.org/v3', metadata: { name, creationTimestamp: new Date().toISOString() }, spec });
    const existing = await this.client.get(key);
    const result = existing === undefined ? await this.client.create(key, value) : await this.client.compareAndSwap(key, value, existing.modRevision);
    if (!result.ok) throw new Error(`could not write ${kind} ${name}: ${result.reason}`);
  }

  async #delete(key: string): Promise<void> {
    const kv = await this.client.get(key);
    if (kv !== undefined) await this.client.compareAndDelete(key, kv.modRevision);
  }

  async pool(): Promise<IpPool> {
    const key = resourceKey('ippools', POOL_NAME);
    const kv = await this.client.get(key);
    const parsed = kv === undefined ? undefined : parseEtcdKv(key, kv.value);
    if (parsed?.status !== 'ok' || parsed.object.kind !== 'IPPool') throw new Error(`IP pool ${POOL_NAME} is missing or invalid in the lab's etcd`);
    return parsed.object.value;
  }

  async node(name: string): Promise<ClusterNode | undefined> {
    return this.nodes.read(name);
  }

  /** Allocates the pod's address as Calico's CNI plugin does (from the node's block, claiming one if needed). */
  async allocatePod(node: string, namespace: string, pod: string): Promise<{ ip: IpAddr; handle: string }> {
    const handle = `k8s-pod-network.${namespace}.${pod}`;
    return { ip: await assignPodAddress(this.ipam, await this.pool(), { node, namespace, name: pod, handle }), handle };
  }

  /** On etcd, calico-node (the agent) creates the node's record itself. */
  async addNode(): Promise<void> {}

  async writeEndpoint(node: string, namespace: string, pod: string, iface: IfaceName, ip: IpAddr): Promise<void> {
    const name = endpointName(node, pod);
    const value = {
      kind: 'WorkloadEndpoint',
      apiVersion: 'projectcalico.org/v3',
      metadata: { name, namespace, labels: { 'projectcalico.org/namespace': namespace, 'projectcalico.org/orchestrator': 'k8s' } },
      spec: { orchestrator: 'k8s', node, pod, endpoint: 'eth0', workload: '', containerID: '', interfaceName: iface, ipNetworks: [`${ip}/32`], profiles: [`kns.${namespace}`] },
    };
    const result = await this.client.create(resourceKey('workloadendpoints', name, namespace), JSON.stringify(value));
    if (!result.ok) throw new Error(`pod ${namespace}/${pod} is already recorded in the lab's datastore`);
  }

  async deleteEndpoint(node: string, namespace: string, pod: string): Promise<void> {
    await this.#delete(resourceKey('workloadendpoints', endpointName(node, pod), namespace));
  }

  async deleteNode(name: string): Promise<void> {
    await this.#delete(resourceKey('nodes', name));
  }
}

/** Calico's WorkloadEndpoint name for a Kubernetes pod: `<node>-k8s-<pod>-eth0` (dashes doubled). */
function endpointName(node: string, pod: string): string {
  const esc = (s: string) => s.replace(/-/g, '--');
  return `${esc(node)}-k8s-${esc(pod)}-eth0`;
}
