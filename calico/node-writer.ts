// What node registration writes, and the one interface each datastore's node writer offers
// (calico/etcd/etcd-node-writer.ts, calico/kubernetes/kubernetes-node-writer.ts).
import type { Cidr, IpAddr, Mac } from '../kernel/values.js';
import type { ClusterNode } from '../routing/cluster.js';

/** The fields of a node wren registers; `null` clears a field. */
export interface NodeRegistration {
  readonly ipv4Address?: Cidr | null;
  readonly ipv6Address?: Cidr | null;
  readonly ipv4VXLANTunnelAddr?: IpAddr | null;
  readonly ipv6VXLANTunnelAddr?: IpAddr | null;
  readonly ipv4IPIPTunnelAddr?: IpAddr | null;
  readonly vxlanTunnelMACAddr?: Mac | null;
  readonly vxlanTunnelMACAddrV6?: Mac | null;
}

/** Where a datastore keeps a node: read it, and merge fields into it (compare-and-swap inside). */
export interface NodeWriter {
  read(name: string): Promise<ClusterNode | undefined>;
  write(name: string, fields: NodeRegistration): Promise<void>;
}
