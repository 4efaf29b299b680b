// What Calico's installer and CNI plugin write, the same on either datastore: the default IP
// pool's spec, and a pod's address from Calico's IPAM with the attributes the plugin records.
import type { IpamAllocator } from '../calico/ipam/allocator.js';
import type { Cidr, IpAddr } from '../kernel/values.js';
import type { EncapMode, IpPool } from '../routing/cluster.js';
import type { Encap } from './state.js';

export const POOL_NAME = 'default-ipv4-ippool';

export function poolSpec(cidr: Cidr, blockSize: number, encap: Encap, crossSubnet: boolean, natOutgoing: boolean): Record<string, unknown> {
  const mode: EncapMode = crossSubnet ? 'CrossSubnet' : 'Always';
  return { cidr, blockSize, ipipMode: encap === 'ipip' ? mode : 'Never', vxlanMode: encap === 'vxlan' ? mode : 'Never', natOutgoing, nodeSelector: 'all()' };
}

/** The pod's address, as Calico's CNI plugin asks IPAM for it (from the node's block, claiming one if needed). */
export async function assignPodAddress(ipam: IpamAllocator, pool: IpPool, pod: { node: string; namespace: string; name: string; handle: string }): Promise<IpAddr> {
  const [ip] = await ipam.assign({
    node: pod.node,
    count: 1,
    handle: pod.handle,
    attributes: { namespace: pod.namespace, node: pod.node, pod: pod.name, timestamp: new Date().toISOString() },
    pools: [pool],
  });
  if (ip === undefined) throw new Error(`no address for pod ${pod.namespace}/${pod.name}`);
  return ip;
}
