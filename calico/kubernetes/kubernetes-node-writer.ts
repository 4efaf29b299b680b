// A node's registration in the Kubernetes datastore: Calico keeps node addresses, tunnel
// addresses and VTEP MACs in `projectcalico.org/*` annotations on the core v1 Node
// (libcalico-go/lib/backend/k8s/resources/node.go). Written with a JSON merge patch of just those
// annotations: the kubelet updates the same Node every few seconds, and a patch never races it
// the way a read-modify-write update would. null removes an annotation.
import type { ClusterNode } from '../../routing/cluster.js';
import { NODE_ANNOTATIONS } from '../objects/k8s-node.js';
import { parseObject } from '../objects/parse-object.js';
import type { NodeRegistration, NodeWriter } from '../node-writer.js';
import { isApiError, type KubeClient } from './kubernetes-client.js';
import { NODES, typed } from './kubernetes-resources.js';

/** Where each registration field lives: the same annotations the Node parser reads. */
export const REGISTRATION_ANNOTATIONS = {
  ipv4Address: NODE_ANNOTATIONS.ipv4,
  ipv6Address: NODE_ANNOTATIONS.ipv6,
  ipv4VXLANTunnelAddr: NODE_ANNOTATIONS.vxlanTunnelAddr,
  ipv6VXLANTunnelAddr: NODE_ANNOTATIONS.vxlanTunnelAddrV6,
  ipv4IPIPTunnelAddr: NODE_ANNOTATIONS.ipipTunnelAddr,
  vxlanTunnelMACAddr: NODE_ANNOTATIONS.vxlanMac,
  vxlanTunnelMACAddrV6: NODE_ANNOTATIONS.vxlanMacV6,
} as const satisfies Record<keyof NodeRegistration, string>;

export class KubernetesNodeWriter implements NodeWriter {
  constructor(private readonly client: KubeClient) {}

  /** The node as the snapshot would hold it; undefined when there is no such Node. */
  async read(name: string): Promise<ClusterNode | undefined> {
    const object = await this.client.get(NODES, name);
    if (object === undefined) return undefined;
    const result = parseObject(typed(NODES, object));
    if (result.status !== 'ok' || result.object.kind !== 'Node') {
      throw new Error(`Node ${name}: cannot be read as a Calico node (${result.status === 'invalid' ? `${result.problem.field} ${result.problem.message}` : result.status})`);
    }
    return result.object.value;
  }

  async write(name: string, fields: NodeRegistration): Promise<void> {
    const annotations: Record<string, string | null> = {};
    for (const [field, annotation] of Object.entries(REGISTRATION_ANNOTATIONS)) {
      const value = fields[field as keyof NodeRegistration];
      if (value !== undefined) annotations[annotation] = value;
    }
    if (Object.keys(annotations).length === 0) return;
    try {
      await this.client.mergePatch(NODES, name, { metadata: { annotations } });
    } catch (error) {
      // The kubelet creates the Node; registering before it exists is a start-up order problem.
      if (isApiError(error, 404)) throw new Error(`Node ${name} does not exist yet: the kubelet registers it before wren can annotate it`, { cause: error });
      throw error;
    }
  }
}
