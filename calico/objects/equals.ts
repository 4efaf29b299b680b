// Field-by-field equality of snapshot values, so a relist that returns what is already held
// changes nothing and triggers no routing pass. Explicit per type (not JSON.stringify): key order
// and undefined-versus-absent must not make equal values differ.
import type { Allocation, BlockAffinity, ClusterNode, IpamBlock, IpPool, NodeAddress, Workload } from '../../routing/cluster.js';
import type { BgpConfiguration, BgpPeer } from '../../routing/bgp/bgp-objects.js';
import type { Labels } from '../../routing/bgp/selector.js';
import type { ParsedObject } from './api.js';

export function sameObject(a: ParsedObject, b: ParsedObject): boolean {
  if (a.key !== b.key) return false;
  switch (a.kind) {
    case 'IPPool':
      return b.kind === 'IPPool' && samePool(a.value, b.value);
    case 'IPAMBlock':
      return b.kind === 'IPAMBlock' && sameBlock(a.value, b.value);
    case 'BlockAffinity':
      return b.kind === 'BlockAffinity' && sameAffinity(a.value, b.value);
    case 'Node':
      return b.kind === 'Node' && sameNode(a.value, b.value);
    case 'Workload':
      return b.kind === 'Workload' && sameWorkload(a.value, b.value);
    case 'BGPConfiguration':
      return b.kind === 'BGPConfiguration' && sameBgpConfiguration(a.value, b.value);
    case 'BGPPeer':
      return b.kind === 'BGPPeer' && sameBgpPeer(a.value, b.value);
  }
}

/** How a relisted set of objects differs from the one held, key by key. */
export function compareHeld(held: ReadonlyMap<string, ParsedObject>, next: ReadonlyMap<string, ParsedObject>): { added: number; updated: number; removed: number; unchanged: number } {
  let added = 0;
  let updated = 0;
  let unchanged = 0;
  for (const [key, object] of next) {
    const old = held.get(key);
    if (old === undefined) added += 1;
    else if (sameObject(old, object)) unchanged += 1;
    else updated += 1;
  }
  const removed = [...held.keys()].filter((key) => !next.has(key)).length;
  return { added, updated, removed, unchanged };
}

export function samePool(a: IpPool, b: IpPool): boolean {
  return (
    a.name === b.name &&
    a.cidr === b.cidr &&
    a.blockSize === b.blockSize &&
    a.ipipMode === b.ipipMode &&
    a.vxlanMode === b.vxlanMode &&
    a.disabled === b.disabled &&
    (a.natOutgoing ?? false) === (b.natOutgoing ?? false) &&
    (a.disableBGPExport ?? false) === (b.disableBGPExport ?? false) &&
    a.created === b.created
  );
}

export function sameNode(a: ClusterNode, b: ClusterNode): boolean {
  return (
    a.name === b.name &&
    sameAddress(a.ipv4, b.ipv4) &&
    sameAddress(a.ipv6, b.ipv6) &&
    a.ipipTunnelAddr === b.ipipTunnelAddr &&
    a.vxlanTunnelAddr === b.vxlanTunnelAddr &&
    a.vxlanTunnelAddrV6 === b.vxlanTunnelAddrV6 &&
    a.vxlanMac === b.vxlanMac &&
    a.vxlanMacV6 === b.vxlanMacV6 &&
    a.asNumber === b.asNumber &&
    sameLabels(a.labels, b.labels) &&
    a.created === b.created
  );
}

function sameLabels(a: Labels | undefined, b: Labels | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

function sameAddress(a: NodeAddress | undefined, b: NodeAddress | undefined): boolean {
  return a === undefined || b === undefined ? a === b : a.ip === b.ip && a.cidr === b.cidr;
}

export function sameBlock(a: IpamBlock, b: IpamBlock): boolean {
  return a.name === b.name && a.cidr === b.cidr && a.affinityNode === b.affinityNode && sameList(a.allocations, b.allocations, sameAllocation);
}

function sameAllocation(a: Allocation, b: Allocation): boolean {
  return a.ip === b.ip && a.node === b.node && a.handle === b.handle && a.namespace === b.namespace && a.pod === b.pod;
}

export function sameAffinity(a: BlockAffinity, b: BlockAffinity): boolean {
  return a.name === b.name && a.node === b.node && a.cidr === b.cidr && a.state === b.state;
}

export function sameWorkload(a: Workload, b: Workload): boolean {
  return (
    a.namespace === b.namespace &&
    a.name === b.name &&
    a.node === b.node &&
    a.iface === b.iface &&
    a.containerId === b.containerId &&
    a.source === b.source &&
    sameList(a.ips, b.ips, (x, y) => x === y)
  );
}

function sameList<T>(a: readonly T[], b: readonly T[], same: (x: T, y: T) => boolean): boolean {
  return a.length === b.length && a.every((x, i) => same(x, b[i] as T));
}

export function sameBgpConfiguration(a: BgpConfiguration, b: BgpConfiguration): boolean {
  return a.name === b.name && a.asNumber === b.asNumber && a.nodeToNodeMeshEnabled === b.nodeToNodeMeshEnabled && a.listenPort === b.listenPort && a.logSeverityScreen === b.logSeverityScreen;
}

/** Selectors compare by their text: the same text parses to the same tree. */
export function sameBgpPeer(a: BgpPeer, b: BgpPeer): boolean {
  return a.name === b.name && a.peerIP === b.peerIP && a.port === b.port && a.asNumber === b.asNumber && a.node === b.node && a.nodeSelector?.text === b.nodeSelector?.text;
}
