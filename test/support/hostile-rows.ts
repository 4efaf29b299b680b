// Hostile inputs for the real-kernel safety tests (test/hostile-kernel.test.ts): each row is the
// valid cluster of a three-node topology (node-1 under test, node-2 and node-3 its peers) plus
// one object whose syntax is valid and whose meaning would hijack, wipe or stall node-1's
// routing, with the refusal `wren apply` must print for it. Each row says what it must not
// route; whatever is forbidden space is checked for every row anyway.
import { calicoInterfaceName } from '../../calico/objects/interface-name.js';
import type { ClusterNode, ClusterSnapshot } from '../../routing/cluster.js';
import type { Mac } from '../../kernel/values.js';
import type { Topology } from '../../lab/topology/index.js';
import { block, ip, pool, withIpam, workload } from './seed-cluster.js';

export const UNDER_TEST = 'node-1';
/** Given with `--forbidden-cidrs` in its row; no route may ever lie in it. */
export const SERVICE_CIDR = '10.96.0.0/12';

export interface HostileContext {
  readonly topology: Topology;
  readonly valid: ClusterSnapshot;
}

/** A core/v1 Pod as `kubectl get pods -o yaml` has it, on the node under test. */
export interface HostilePod {
  readonly name: string;
  readonly podIp: string;
}

export interface HostileRow {
  readonly name: string;
  /** The cluster `wren apply` is given: the valid one with the hostile object in it. */
  readonly cluster: (c: HostileContext) => ClusterSnapshot;
  /** v1 Pods appended to the dump (each has a cali veth on node-1, so a route to it would land). */
  readonly pods?: (c: HostileContext) => HostilePod[];
  readonly flags?: readonly string[];
  /** The refusal on stderr: `KIND/NAME FIELD: …`. */
  readonly refusal: RegExp;
  /** The peer whose VTEP the row makes unusable: its block's route and its pods may go. */
  readonly spoils?: string;
  /** Destinations, as `ip route` prints them, that must not be in node-1's main table. */
  readonly unrouted?: (c: HostileContext) => string[];
}

/** Every hostile Pod the rows name; their cali veths are made on node-1 once, before the rows run. */
export const HOSTILE_POD_NAMES = ['evil-underlay', 'evil-outside', 'evil-unallocated', 'evil-stolen'] as const;

export const hostileIface = (pod: string) => calicoInterfaceName('default', pod);

export function podYaml(pod: HostilePod): string {
  return `---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: ${pod.name}\n  namespace: default\nspec:\n  nodeName: ${UNDER_TEST}\nstatus:\n  phase: Running\n  podIP: ${pod.podIp}\n`;
}

const peerIp = (c: HostileContext, name: string) => c.topology.node(name).ip;
/** The first /26 of the underlay subnet: the gateway and every node's eth0 address lie in it. */
const underlayBlock = (c: HostileContext) => `${c.topology.node(UNDER_TEST).subnet.split('/')[0]}/26`;
const tunnelOf = (c: HostileContext, name: string) => c.valid.nodes.find((n) => n.name === name)?.vxlanTunnelAddr ?? '';

/** A pool of its own name over `poolCidr`, with its first /26 affine to node-2. */
function poolWithBlock(name: string, poolCidr: string, blockCidr: string) {
  return (c: HostileContext): ClusterSnapshot => ({
    ...c.valid,
    pools: [...c.valid.pools, { ...pool({ vxlan: 'Always' }, poolCidr), name }],
    blocks: [...c.valid.blocks, block(blockCidr, 'node-2')],
  });
}

function withNode(name: string, change: (n: ClusterNode, c: HostileContext) => Partial<ClusterNode>) {
  return (c: HostileContext): ClusterSnapshot => ({ ...c.valid, nodes: c.valid.nodes.map((n) => (n.name === name ? { ...n, ...change(n, c) } : n)) });
}

export const HOSTILE_ROWS: readonly HostileRow[] = [
  {
    name: 'an IPPool (and a block affine to a peer) over the underlay subnet',
    cluster: (c) => poolWithBlock('evil-underlay', c.topology.node(UNDER_TEST).subnet, underlayBlock(c))(c),
    refusal: /^warning: IPPool\/evil-underlay spec\.cidr: .*overlaps/,
    unrouted: (c) => [underlayBlock(c)],
  },
  { name: 'an IPPool over 127.0.0.0/8', cluster: poolWithBlock('evil-loopback', '127.0.0.0/8', '127.0.0.0/26'), refusal: /^warning: IPPool\/evil-loopback spec\.cidr: .*loopback/ },
  { name: 'an IPPool over 224.0.0.0/4', cluster: poolWithBlock('evil-multicast', '224.0.0.0/4', '224.0.0.0/26'), refusal: /^warning: IPPool\/evil-multicast spec\.cidr: .*multicast/ },
  // Refused as it is read (it overlaps link-local, as Calico's validation says), before the
  // meaning checks see it; the row holds whichever refuses it.
  {
    name: 'an IPPool 0.0.0.0/0 (its block over the gateway)',
    cluster: (c) => poolWithBlock('evil-everything', '0.0.0.0/0', underlayBlock(c))(c),
    refusal: /^warning: IPPool\/evil-everything spec\.cidr: .*overlaps/,
    unrouted: (c) => [underlayBlock(c)],
  },
  {
    name: 'a v3 WorkloadEndpoint on node-1 naming eth0',
    cluster: (c) => withIpam({ ...c.valid, workloads: [...c.valid.workloads, workload('default', 'evil-eth0', UNDER_TEST, ['10.244.0.10'], 'eth0')] }),
    refusal: /^warning: WorkloadEndpoint\/default\/evil-eth0 spec\.interfaceName: eth0 is not a workload interface/,
    unrouted: () => ['10.244.0.10'],
  },
  {
    name: "a Pod on node-1 claiming a peer's underlay address",
    cluster: (c) => c.valid,
    pods: (c) => [{ name: 'evil-underlay', podIp: peerIp(c, 'node-2') }],
    refusal: /^warning: Pod\/default\/evil-underlay status\.podIPs: .* lies in no usable IPPool/,
    unrouted: (c) => [peerIp(c, 'node-2')],
  },
  {
    name: 'a Pod claiming an address outside every pool',
    cluster: (c) => c.valid,
    pods: () => [{ name: 'evil-outside', podIp: '192.168.77.5' }],
    refusal: /^warning: Pod\/default\/evil-outside status\.podIPs: 192\.168\.77\.5 lies in no usable IPPool/,
    unrouted: () => ['192.168.77.5'],
  },
  {
    name: 'a Pod claiming a pool address IPAM never allocated',
    cluster: (c) => c.valid,
    pods: () => [{ name: 'evil-unallocated', podIp: '10.244.0.40' }],
    refusal: /^warning: Pod\/default\/evil-unallocated status\.podIPs: 10\.244\.0\.40 is not allocated by IPAM/,
    unrouted: () => ['10.244.0.40'],
  },
  {
    name: "a Pod claiming a remote pod's address (IPAM gave it to that pod)",
    cluster: (c) => c.valid,
    pods: () => [{ name: 'evil-stolen', podIp: '10.244.1.1' }],
    refusal: /^warning: Pod\/default\/evil-stolen status\.podIPs: 10\.244\.1\.1 is .*not to this pod/,
    unrouted: () => ['10.244.1.1'],
  },
  {
    name: "node-1's own VXLAN tunnel address set to a peer's underlay address",
    cluster: withNode(UNDER_TEST, (_, c) => ({ vxlanTunnelAddr: peerIp(c, 'node-2') })),
    refusal: /^warning: Node\/node-1 spec\.ipv4VXLANTunnelAddr: /,
    unrouted: (c) => [peerIp(c, 'node-2')],
  },
  {
    name: "a /20 block covering other nodes' /26 blocks",
    cluster: (c) => ({ ...c.valid, blocks: [...c.valid.blocks, block('10.244.0.0/20', 'node-2')] }),
    refusal: /^warning: IPAMBlock\/10-244-0-0-20 spec\.cidr: 10\.244\.0\.0\/20 is a \/20/,
    unrouted: () => ['10.244.0.0/20'],
  },
  {
    name: 'a multicast VTEP MAC on a peer',
    cluster: withNode('node-3', () => ({ vxlanMac: '01:00:5e:00:00:42' as Mac })),
    refusal: /^warning: Node\/node-3 spec\.vxlanTunnelMACAddr: 01:00:5e:00:00:42 is a multicast address/,
    spoils: 'node-3',
  },
  {
    name: 'a zero VTEP MAC on a peer',
    cluster: withNode('node-3', () => ({ vxlanMac: '00:00:00:00:00:00' as Mac })),
    refusal: /^warning: Node\/node-3 spec\.vxlanTunnelMACAddr: 00:00:00:00:00:00 is all zeros/,
    spoils: 'node-3',
  },
  {
    name: "a peer claiming another peer's VTEP address (the IPAM-backed one keeps it)",
    cluster: withNode('node-3', (_, c) => ({ vxlanTunnelAddr: ip(tunnelOf(c, 'node-2')) })),
    refusal: /^warning: Node\/node-3 spec\.ipv4VXLANTunnelAddr: .* is allocated to vxlan-tunnel-addr-node-2, not to vxlan-tunnel-addr-node-3/,
    spoils: 'node-3',
  },
  {
    name: 'an IPPool over a --forbidden-cidrs prefix (the service CIDR)',
    cluster: poolWithBlock('evil-services', SERVICE_CIDR, '10.96.0.0/26'),
    flags: ['--forbidden-cidrs', SERVICE_CIDR],
    refusal: /^warning: IPPool\/evil-services spec\.cidr: 10\.96\.0\.0\/12 overlaps a prefix of --forbidden-cidrs/,
    unrouted: () => ['10.96.0.0/26'],
  },
];
