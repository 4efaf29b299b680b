// The `ip -batch` lines and sysctls a topology is made of, as pure functions of validated
// values (so they can be checked without root). What each piece imitates:
//   - underlay: a switch per subnet (Linux bridge); the nodes' eth0 are veths plugged into it;
//   - router: a plain L3 router with one leg on each bridge, holding each subnet's gateway;
//   - node: what the OS gives a Kubernetes node (address, default route, forwarding);
//   - pod: what Calico's CNI plugin builds (calico.md §7, cni-plugin dataplane_linux.go).
import type { Cidr, IfaceName, IpAddr, Mac } from '../../kernel/values.js';
import { familyOf, hostCidr, prefixLength } from '../../kernel/values.js';
import type { NetnsName } from './names.js';
import { ifaceNames } from './names.js';
import type { Sysctl } from './runner.js';
import type { Pod, Subnet, TopologyNode } from './types.js';

/** Every cali veth has this MAC: pods only ever talk to the gateway, never to each other. */
export const CALI_MAC = 'ee:ee:ee:ee:ee:ee' as Mac;
/** IPv4 pods send everything here; proxy ARP on the cali side answers for it. */
export const POD_GATEWAY_V4 = '169.254.1.1' as IpAddr;
/** IPv6 pods route via cali's link-local: EUI-64 of ee:ee:ee:ee:ee:ee (U/L bit flipped). */
export const POD_GATEWAY_V6 = 'fe80::ecee:eeff:feee:eeee' as IpAddr;

const { eth0, lo } = ifaceNames;

/** A veth created here with its other end created directly in `peerNetns` (never in the host). */
function vethLines(name: IfaceName, peer: IfaceName, peerNetns: NetnsName, mtu: number, mac?: Mac): string[] {
  return [`link add ${name} mtu ${mtu}${mac ? ` address ${mac}` : ''} type veth peer name ${peer} mtu ${mtu} netns ${peerNetns}`];
}

function addressLine(dev: IfaceName, cidr: Cidr): string {
  // nodad: an IPv6 address is usable at once instead of after ~1 s of duplicate detection.
  return `addr add ${cidr} dev ${dev}${familyOf(cidr) === 6 ? ' nodad' : ''}`;
}

export function bridgeLines(subnet: Subnet): string[] {
  // No multicast snooping: IPv6 neighbour discovery must not depend on MLD having been seen.
  return [`link add ${subnet.bridge} type bridge mcast_snooping 0`, `link set ${subnet.bridge} up`];
}

/** In the underlay namespace: the subnet's gateway on the bridge itself (single-subnet mode). */
export function bridgeGatewayLines(subnet: Subnet): string[] {
  return [
    addressLine(subnet.bridge, `${subnet.gateway}/${prefixLength(subnet.cidr)}` as Cidr),
    ...(subnet.ipv6 ? [addressLine(subnet.bridge, `${subnet.ipv6.gateway}/${prefixLength(subnet.ipv6.cidr)}` as Cidr)] : []),
  ];
}

/** In the underlay namespace: node's eth0 veth, its underlay end plugged into the bridge. */
export function nodePortLines(node: TopologyNode, subnet: Subnet): string[] {
  return [...vethLines(node.underlayPort, eth0, node.netns, node.mtu), `link set ${node.underlayPort} master ${subnet.bridge} up`];
}

/** In the underlay namespace: the router's leg into this subnet. */
export function routerPortLines(subnet: Subnet, router: NetnsName, mtu: number): string[] {
  const port = ifaceNames.routerPort(subnet.index);
  return [...vethLines(port, ifaceNames.routerLeg(subnet.index), router, mtu), `link set ${port} master ${subnet.bridge} up`];
}

export function routerLines(subnets: readonly Subnet[]): string[] {
  return [
    `link set ${lo} up`,
    ...subnets.flatMap((s) => {
      const leg = ifaceNames.routerLeg(s.index);
      return [
        `link set ${leg} up`,
        addressLine(leg, `${s.gateway}/${prefixLength(s.cidr)}` as Cidr),
        ...(s.ipv6 ? [addressLine(leg, `${s.ipv6.gateway}/${prefixLength(s.ipv6.cidr)}` as Cidr)] : []),
      ];
    }),
  ];
}

/** In the node's namespace, once eth0 has arrived there. */
export function nodeLines(node: TopologyNode): string[] {
  return [
    `link set ${lo} up`,
    `link set ${eth0} up`,
    addressLine(eth0, node.cidr),
    ...(node.cidr6 ? [addressLine(eth0, node.cidr6)] : []),
    // A default route out of eth0 is also what makes proxy ARP on the cali side answer for
    // 169.254.1.1: the kernel only proxies for addresses it routes out of another interface.
    `route add default via ${node.gateway} dev ${eth0}`,
    ...(node.gateway6 ? [`route add default via ${node.gateway6} dev ${eth0}`] : []),
  ];
}

/**
 * The node's sysctls, set before any of its interfaces exists so each inherits `default`:
 * forwarding (it routes for its pods), loose reverse-path filtering (max(all, iface) wins, so
 * `all=2` makes every interface loose), secondary-address promotion (so setNodeAddress can add
 * the new address before removing the old without the kernel dropping both), no IPv6 DAD.
 */
export function nodeSysctls(): Sysctl[] {
  return [
    { key: 'net/ipv4/ip_forward', value: 1 },
    { key: 'net/ipv6/conf/all/forwarding', value: 1 },
    { key: 'net/ipv4/conf/all/rp_filter', value: 2 },
    { key: 'net/ipv4/conf/default/rp_filter', value: 2 },
    { key: 'net/ipv4/conf/all/promote_secondaries', value: 1 },
    { key: 'net/ipv4/conf/default/promote_secondaries', value: 1 },
    { key: 'net/ipv6/conf/all/accept_dad', value: 0 },
    { key: 'net/ipv6/conf/default/accept_dad', value: 0 },
  ];
}

/** The router forwards and filters nothing: it is the underlay, not a policy point. */
export function routerSysctls(): Sysctl[] {
  return [
    { key: 'net/ipv4/ip_forward', value: 1 },
    { key: 'net/ipv6/conf/all/forwarding', value: 1 },
    { key: 'net/ipv4/conf/all/rp_filter', value: 0 },
    { key: 'net/ipv4/conf/default/rp_filter', value: 0 },
    { key: 'net/ipv6/conf/default/accept_dad', value: 0 },
  ];
}

/** In the node's namespace: the pod's veth, host end `cali…` (up), pod end straight into the pod. */
export function podVethLines(pod: Pod): string[] {
  return [...vethLines(pod.iface, eth0, pod.netns, pod.mtu, CALI_MAC), `link set ${pod.iface} up`];
}

/** The node's route to the pod, as the CNI plugin adds it (the device must be up first). */
export function hostRouteLines(pod: Pod): string[] {
  return pod.ips.map((ip) => `route replace ${hostCidr(ip)} dev ${pod.iface} scope link`);
}

/** Calico's host-side sysctls; the IPv6 ones only for a pod with an IPv6 address, as the CNI does. */
export function caliSysctls(pod: Pod): Sysctl[] {
  const dev = pod.iface;
  const v4: Sysctl[] = [
    { key: `net/ipv4/conf/${dev}/proxy_arp`, value: 1 },
    { key: `net/ipv4/neigh/${dev}/proxy_delay`, value: 0 },
    { key: `net/ipv4/conf/${dev}/forwarding`, value: 1 },
    { key: `net/ipv4/conf/${dev}/route_localnet`, value: 1 },
  ];
  const v6: Sysctl[] = [
    { key: `net/ipv6/conf/${dev}/proxy_ndp`, value: 1 },
    { key: `net/ipv6/conf/${dev}/accept_dad`, value: 0 },
    { key: `net/ipv6/conf/${dev}/accept_ra`, value: 0 },
    { key: `net/ipv6/conf/${dev}/forwarding`, value: 1 },
  ];
  return [...v4, ...(pod.ips.some((ip) => familyOf(ip) === 6) ? v6 : [])];
}

/** In the pod's namespace: the /32 (/128), and the routes that send everything to the host. */
export function podLines(pod: Pod): string[] {
  return [
    `link set ${lo} up`,
    `link set ${eth0} up`,
    ...pod.ips.flatMap((ip) =>
      familyOf(ip) === 4
        ? [addressLine(eth0, hostCidr(ip)), `route add ${POD_GATEWAY_V4} dev ${eth0} scope link`, `route add default via ${POD_GATEWAY_V4} dev ${eth0}`]
        : [addressLine(eth0, hostCidr(ip)), `route add default via ${POD_GATEWAY_V6} dev ${eth0}`],
    ),
  ];
}

/** In the node's namespace: swap eth0's address, new before old so eth0's routes survive. */
export function readdressLines(old: Cidr, next: Cidr, gateway: IpAddr): string[] {
  return [addressLine(eth0, next), `addr del ${old} dev ${eth0}`, `route replace default via ${gateway} dev ${eth0}`];
}
