// The lab's side of a Kubernetes datastore (Calico's KDD) on its own API server: the IP pool as
// Calico's installer writes it (crd.projectcalico.org/v1), a joining node as its kubelet registers
// it (the Node, then its status addresses), and each pod as the CNI plugin and the kubelet leave
// it: an address from Calico's IPAM (the same compare-and-swap writes as calico/kubernetes/, with
// the handle `k8s-pod-network.<containerID>`), then the Pod with spec.nodeName, Calico's
// cni.projectcalico.org/* annotations and its status.podIP(s). There is no kubelet to confirm a
// deletion, so a Pod is deleted at once, as the kubelet finally does.
import { randomBytes } from 'node:crypto';
import { release } from 'node:os';
import { KubeConfig } from '@kubernetes/client-node';
import { IpamAllocator } from '../calico/ipam/allocator.js';
import { KubeClient } from '../calico/kubernetes/kubernetes-client.js';
import { KubernetesIpamStore } from '../calico/kubernetes/kubernetes-ipam-store.js';
import { KubernetesNodeWriter } from '../calico/kubernetes/kubernetes-node-writer.js';
import { CONTAINER_ID_ANNOTATION, POD_IP_ANNOTATION, POD_IPS_ANNOTATION } from '../calico/objects/pod.js';
import { parseObject } from '../calico/objects/parse-object.js';
import type { Cidr, IfaceName, IpAddr } from '../kernel/values.js';
import type { ClusterNode, IpPool } from '../routing/cluster.js';
import { assignPodAddress, POOL_NAME, poolSpec } from './cni-writes.js';
import { KubeAdminApi, KubeAdminError, type KubeEndpoint } from './kube-apiserver/admin-api.js';
import { CALICO_GROUP } from './kube-apiserver/calico-crds.js';
import type { LabBgpPeer, LabDatastore } from './lab-datastore.js';
import type { Encap } from './state.js';

const POOLS = `/apis/${CALICO_GROUP}/v1/ippools`;
const HANDLE_PREFIX = 'k8s-pod-network.';
/** What `kubectl get nodes -o wide` shows of a node: there is no kubelet or container runtime. */
const NODE_INFO = { machineID: '', systemUUID: '', bootID: '', osImage: 'wren lab (a network namespace)', containerRuntimeVersion: 'none://', kubeletVersion: 'none (wren lab)', kubeProxyVersion: '', operatingSystem: 'linux', architecture: 'amd64' };
const podPath = (namespace: string, name = '') => `/api/v1/namespaces/${namespace}/pods${name === '' ? '' : `/${name}`}`;

export class LabKubeStore implements LabDatastore {
  readonly ipam: IpamAllocator;
  readonly #admin: KubeAdminApi;
  readonly #nodes: KubernetesNodeWriter;

  constructor(endpoint: KubeEndpoint) {
    this.#admin = new KubeAdminApi(endpoint);
    const config = new KubeConfig();
    config.loadFromOptions({
      clusters: [{ name: 'lab', server: endpoint.server, caData: Buffer.from(endpoint.caPem).toString('base64'), skipTLSVerify: false }],
      users: [{ name: 'lab', token: endpoint.token }],
      contexts: [{ name: 'lab', cluster: 'lab', user: 'lab' }],
      currentContext: 'lab',
    });
    const client = new KubeClient(config, { socketPath: endpoint.socketPath });
    this.ipam = new IpamAllocator(new KubernetesIpamStore(client));
    this.#nodes = new KubernetesNodeWriter(client);
  }

  close(): void {}

  async writePool(cidr: Cidr, blockSize: number, encap: Encap, crossSubnet: boolean, natOutgoing: boolean): Promise<void> {
    const pool = { apiVersion: `${CALICO_GROUP}/v1`, kind: 'IPPool', metadata: { name: POOL_NAME }, spec: poolSpec(cidr, blockSize, encap, crossSubnet, natOutgoing) };
    await this.#admin.call('POST', POOLS, pool);
  }

  async writeBgpConfiguration(asNumber: number, nodeToNodeMeshEnabled: boolean): Promise<void> {
    await this.#apply('bgpconfigurations', 'BGPConfiguration', 'default', { asNumber, nodeToNodeMeshEnabled });
  }

  async writeBgpPeer(peer: LabBgpPeer): Promise<void> {
    await this.#apply('bgppeers', 'BGPPeer', peer.name, { node: peer.node, peerIP: peer.peerIP, asNumber: peer.asNumber });
  }

  async deleteBgpPeer(name: string): Promise<void> {
    await this.#deleteNow(`/apis/${CALICO_GROUP}/v1/bgppeers/${name}`);
  }

  /** A cluster-scoped Calico CRD object, created, or replaced at the resourceVersion read. */
  async #apply(plural: string, kind: string, name: string, spec: Record<string, unknown>): Promise<void> {
    const path = `/apis/${CALICO_GROUP}/v1/${plural}`;
    const object = { apiVersion: `${CALICO_GROUP}/v1`, kind, metadata: { name }, spec };
    const existing = await this.#admin.raw('GET', `${path}/${name}`);
    if (existing.status === 404) {
      await this.#admin.call('POST', path, object);
      return;
    }
    const metadata = (JSON.parse(existing.text) as { metadata?: { resourceVersion?: string } }).metadata;
    await this.#admin.call('PUT', `${path}/${name}`, { ...object, metadata: { name, resourceVersion: metadata?.resourceVersion } });
  }

  async pool(): Promise<IpPool> {
    const parsed = parseObject(await this.#admin.call('GET', `${POOLS}/${POOL_NAME}`));
    if (parsed.status !== 'ok' || parsed.object.kind !== 'IPPool') throw new Error(`IP pool ${POOL_NAME} is invalid on the lab's API server`);
    return parsed.object.value;
  }

  node(name: string): Promise<ClusterNode | undefined> {
    return this.#nodes.read(name);
  }

  /** The kubelet's registration: the Node with the standard labels, then its status (addresses, Ready). */
  async addNode(name: string, ip: string): Promise<void> {
    const labels = { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' };
    const node = await this.#admin.call('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name, labels } });
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const status = {
      addresses: [{ type: 'InternalIP', address: ip }, { type: 'Hostname', address: name }],
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'wren lab: no kubelet, made ready by the lab', lastHeartbeatTime: now, lastTransitionTime: now }],
      nodeInfo: { ...NODE_INFO, kernelVersion: release() },
    };
    await this.#admin.call('PUT', `/api/v1/nodes/${name}/status`, { ...node, status });
  }

  async allocatePod(node: string, namespace: string, pod: string): Promise<{ ip: IpAddr; handle: string }> {
    // The CNI plugin's handle is the container's ID, which the container runtime makes up.
    const handle = `${HANDLE_PREFIX}${randomBytes(32).toString('hex')}`;
    return { ip: await assignPodAddress(this.ipam, await this.pool(), { node, namespace, name: pod, handle }), handle };
  }

  async writeEndpoint(node: string, namespace: string, pod: string, _iface: IfaceName, ip: IpAddr, handle: string): Promise<void> {
    const annotations = { [CONTAINER_ID_ANNOTATION]: handle.slice(HANDLE_PREFIX.length), [POD_IP_ANNOTATION]: `${ip}/32`, [POD_IPS_ANNOTATION]: `${ip}/32` };
    const spec = { nodeName: node, containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.9' }] };
    let created: Record<string, unknown>;
    try {
      created = await this.#admin.call('POST', podPath(namespace), { apiVersion: 'v1', kind: 'Pod', metadata: { name: pod, namespace, annotations }, spec });
    } catch (error) {
      if (error instanceof KubeAdminError && error.status === 409) throw new Error(`pod ${namespace}/${pod} already exists on the lab's API server`);
      throw error;
    }
    const hostIP = (await this.#nodes.read(node))?.ipv4?.ip;
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const containerStatuses = [{ name: 'pause', ready: true, started: true, restartCount: 0, image: 'registry.k8s.io/pause:3.9', imageID: '', containerID: `containerd://${annotations[CONTAINER_ID_ANNOTATION]}`, state: { running: { startedAt: now } } }];
    const conditions = ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({ type, status: 'True', lastTransitionTime: now }));
    const status = { phase: 'Running', conditions, ...(hostIP === undefined ? {} : { hostIP }), podIP: ip, podIPs: [{ ip }], startTime: now, containerStatuses };
    await this.#admin.call('PUT', `${podPath(namespace, pod)}/status`, { ...created, status });
  }

  async deleteEndpoint(_node: string, namespace: string, pod: string): Promise<void> {
    await this.#deleteNow(podPath(namespace, pod));
  }

  async deleteNode(name: string): Promise<void> {
    await this.#deleteNow(`/api/v1/nodes/${name}`);
  }

  async #deleteNow(path: string): Promise<void> {
    const answer = await this.#admin.raw('DELETE', `${path}?gracePeriodSeconds=0`);
    if (answer.status !== 200 && answer.status !== 202 && answer.status !== 404) throw new KubeAdminError(answer.status, `DELETE ${path}`, answer.text.slice(0, 200));
  }
}
