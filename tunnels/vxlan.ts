// The VXLAN side of a node: its own device and one neighbour + one FDB entry per remote VTEP.
//
// Learning is off and no all-zeros FDB entry is written, so the device never floods: a frame
// for a remote VTEP MAC goes to exactly the node IP its FDB entry names, and the inner
// destination's MAC comes from the permanent neighbour entry (felix/vxlanfdb). A VTEP is only
// programmed once the node's underlay address and tunnel address are both known.
import type { FdbEntry, Neighbor } from '../kernel/state.js';
import type { VxlanDeviceSpec } from '../kernel/plan.js';
import type { Cidr, Family, IfaceName } from '../kernel/values.js';
import { familyOf, hostCidr } from '../kernel/values.js';
import type { ClusterNode, ClusterSnapshot, ObjectProblem } from '../routing/cluster.js';
import { VXLAN_DEVICE, VXLAN_DEVICE_V6 } from '../routing/devices.js';
import { derivedVtepMac } from './vtep-mac.js';

export const DEFAULT_VXLAN_VNI = 4096;
export const DEFAULT_VXLAN_PORT = 4789;

export interface VxlanSettings {
  readonly vni: number;
  readonly port: number;
}

export interface DesiredVxlan {
  readonly family: Family;
  readonly device: IfaceName;
  /** The device to have, or undefined when no pool of this family uses VXLAN (then it goes, unless held). */
  readonly spec?: VxlanDeviceSpec & { readonly address: Cidr };
  /**
   * A pool uses VXLAN but this node's own VTEP is unknown or refused: the device is left exactly
   * as it is (deleting it would cut every remote block the moment one field goes bad).
   */
  readonly hold?: boolean;
  readonly neighbors: Neighbor[];
  readonly fdb: FdbEntry[];
  readonly problems: ObjectProblem[];
}

export function vxlanEnabled(snapshot: ClusterSnapshot, family: Family): boolean {
  return snapshot.pools.some((p) => p.vxlanMode !== 'Never' && familyOf(p.cidr) === family);
}

export function desiredVxlan(
  snapshot: ClusterSnapshot,
  local: { readonly name: string; readonly hostIface: IfaceName },
  family: Family,
  settings: VxlanSettings,
  mtu: number,
): DesiredVxlan {
  const device = family === 4 ? VXLAN_DEVICE : VXLAN_DEVICE_V6;
  const none: DesiredVxlan = { family, device, neighbors: [], fdb: [], problems: [] };
  if (!vxlanEnabled(snapshot, family)) return none;
  const problems: ObjectProblem[] = [];
  const me = snapshot.nodes.find((n) => n.name === local.name);
  const mine = me === undefined ? undefined : vtep(me, family);
  if (mine === undefined) {
    problems.push({
      kind: 'Node',
      name: local.name,
      field: family === 4 ? 'spec.ipv4VXLANTunnelAddr' : 'spec.ipv6VXLANTunnelAddr',
      message: `an IPv${family} pool uses VXLAN but this node has no usable IPv${family} address and VXLAN tunnel address yet: ${device} is left as it is`,
      reason: 'missing-address',
    });
    return { ...none, hold: true, problems };
  }
  const neighbors: Neighbor[] = [];
  const fdb: FdbEntry[] = [];
  for (const node of snapshot.nodes) {
    if (node.name === local.name) continue;
    const peer = vtep(node, family);
    if (peer === undefined) continue;
    neighbors.push({ dev: device, ip: peer.tunnelIp, mac: peer.mac });
    fdb.push({ dev: device, mac: peer.mac, dst: peer.nodeIp });
  }
  return {
    family,
    device,
    spec: {
      name: device,
      vni: settings.vni,
      port: settings.port,
      local: mine.nodeIp,
      parent: local.hostIface,
      mac: mine.mac,
      mtu,
      address: hostCidr(mine.tunnelIp),
    },
    neighbors,
    fdb,
    problems,
  };
}

function vtep(node: ClusterNode, family: Family) {
  const nodeIp = family === 4 ? node.ipv4?.ip : node.ipv6?.ip;
  const tunnelIp = family === 4 ? node.vxlanTunnelAddr : node.vxlanTunnelAddrV6;
  if (nodeIp === undefined || tunnelIp === undefined) return undefined;
  const mac = (family === 4 ? node.vxlanMac : node.vxlanMacV6) ?? derivedVtepMac(node.name, family);
  return { nodeIp, tunnelIp, mac };
}
