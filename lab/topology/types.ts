// The shapes a topology is described with (specs, plain strings from the caller) and the
// shapes it hands back (validated values only, safe to put on an `ip` line).
import type { Cidr, IfaceName, IpAddr } from '../../kernel/values.js';
import type { ExternalSpec } from './external.js';
import type { NetnsName } from './names.js';

export interface SubnetSpec {
  /** The node subnet, host bits zero: `172.16.30.0/24`. */
  readonly cidr: string;
  /** Optional IPv6 underlay on the same segment: `fd00:30::/64`. */
  readonly ipv6?: string;
  /** The subnet's gateway (bridge address, or the router's leg); default: the first host. */
  readonly gateway?: string;
}

export interface NodeSpec {
  readonly name: string;
  /** The subnet's CIDR as given in `subnets`; default: the first subnet. */
  readonly subnet?: string;
  /** Default: the lowest free host address from ordinal 2 up. */
  readonly ip?: string;
  /** Default, when the subnet has IPv6: the same host ordinal in the IPv6 subnet (.7 → ::7). */
  readonly ipv6?: string;
  /** eth0 MTU (both veth ends); default: the topology's. */
  readonly mtu?: number;
}

export interface TopologySpec {
  /** Namespace name prefix; a random suffix is added per topology. */
  readonly prefix: string;
  /** One subnet: nodes share a bridge. Several: one bridge each, joined by a router namespace. */
  readonly subnets: readonly (string | SubnetSpec)[];
  readonly nodes?: readonly NodeSpec[];
  /** Underlay MTU; default 1500. */
  readonly mtu?: number;
  /** A host outside the cluster, behind the router (or the underlay's gateway); none by default. */
  readonly external?: ExternalSpec;
}

export interface PodSpec {
  /** The node's name. */
  readonly node: string;
  /** Kubernetes namespace and pod name (recorded; Calico derives `iface` from them). */
  readonly namespace: string;
  readonly name: string;
  /** One address, or one per family. Each becomes a /32 or /128 on the pod's eth0. */
  readonly ip: string | readonly string[];
  /** The host-side veth, e.g. `calic440f455693`. */
  readonly iface: string;
  /** veth MTU (both ends); default: the node's eth0 MTU. */
  readonly mtu?: number;
  /**
   * Also add `<ip> dev <iface> scope link` on the node, as Calico's CNI plugin does. Off by
   * default: in wren's tests that route is wren's to program.
   */
  readonly hostRoute?: boolean;
}

export interface Subnet {
  readonly index: number;
  readonly cidr: Cidr;
  readonly gateway: IpAddr;
  readonly ipv6?: { readonly cidr: Cidr; readonly gateway: IpAddr };
  /** The Linux bridge for this subnet in the underlay namespace. */
  readonly bridge: IfaceName;
}

/** A host's addresses on its one uplink (eth0), and the next hops of its default routes. */
export interface UplinkAddresses {
  readonly ip: IpAddr;
  /** The address with its subnet length, as eth0 holds it: `172.16.30.7/24`. */
  readonly cidr: Cidr;
  readonly gateway: IpAddr;
  readonly ipv6?: IpAddr;
  readonly cidr6?: Cidr;
  readonly gateway6?: IpAddr;
}

export interface TopologyNode extends UplinkAddresses {
  readonly name: string;
  readonly netns: NetnsName;
  readonly iface: IfaceName;
  /** The subnet the node sits on (host bits zero). */
  readonly subnet: Cidr;
  readonly mtu: number;
  /** The other end of eth0, enslaved to the subnet's bridge in the underlay namespace. */
  readonly underlayPort: IfaceName;
}

export interface Pod {
  readonly node: string;
  readonly namespace: string;
  readonly name: string;
  readonly netns: NetnsName;
  /** The first address (IPv4 if it has one). */
  readonly ip: IpAddr;
  readonly ips: readonly IpAddr[];
  /** Host side, in the node's namespace; the pod side is always `eth0`. */
  readonly iface: IfaceName;
  readonly mtu: number;
}
