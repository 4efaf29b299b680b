// Tunnel devices reconcile by attribute (flannel and Felix: vxlanLinksIncompat).
//
// What the kernel cannot change on a live VXLAN device (VNI, port, source address, underlay
// device, learning) forces a delete and re-create, and the reason is returned so it can be
// logged; a wrong MAC does too, since every peer's FDB points at the old one. What can change
// in place (MTU, address, up-state) is fixed in place, so traffic keeps flowing.
import type { Op, VxlanDeviceSpec } from '../kernel/plan.js';
import type { Link } from '../kernel/state.js';
import type { Cidr, IfaceName } from '../kernel/values.js';
import type { DesiredIpip } from './ipip.js';

export interface DeviceOps {
  /** Before neighbours and routes: creations and in-place fixes. */
  readonly setup: Op[];
  /** After routes: devices no longer wanted. */
  readonly teardown: Op[];
  /** Devices that will exist and be up once setup has run (for deciding which routes can go in). */
  readonly ready: IfaceName[];
}

export function vxlanIncompatibility(want: VxlanDeviceSpec, have: Link): string | undefined {
  if (have.kind !== 'vxlan' || have.vxlan === undefined) return `is a ${have.kind ?? 'plain'} device, not vxlan`;
  const v = have.vxlan;
  if (v.vni !== want.vni) return `VNI ${v.vni}, want ${want.vni}`;
  if (v.port !== want.port) return `port ${v.port}, want ${want.port}`;
  if (v.local !== want.local) return `source address ${v.local ?? 'none'}, want ${want.local}`;
  if (v.parent !== want.parent) return `underlay device ${v.parent ?? 'none'}, want ${want.parent}`;
  if (v.learning) return 'learning is on, want off';
  if (have.mac !== want.mac) return `MAC ${have.mac ?? 'none'}, want ${want.mac}`;
  return undefined;
}

export function planVxlan(
  want: (VxlanDeviceSpec & { readonly address: Cidr }) | undefined,
  name: IfaceName,
  have: Link | undefined,
): DeviceOps {
  if (want === undefined) {
    // Only a VXLAN device is removed: a same-named device of another kind was never ours.
    const teardown: Op[] = have?.kind === 'vxlan' ? [{ op: 'link-delete', name, reason: 'no IP pool uses VXLAN' }] : [];
    return { setup: [], teardown, ready: [] };
  }
  const create = (reason: string): Op[] => [
    { op: 'vxlan-add', spec: want, reason },
    { op: 'addr-add', dev: name, cidr: want.address },
    { op: 'link-up', name },
  ];
  if (have === undefined) return { setup: create('missing'), teardown: [], ready: [name] };
  const reason = vxlanIncompatibility(want, have);
  if (reason !== undefined) {
    return { setup: [{ op: 'link-delete', name, reason }, ...create(reason)], teardown: [], ready: [name] };
  }
  return { setup: inPlaceFixes(name, have, want.mtu, want.address), teardown: [], ready: [name] };
}

export function planIpip(want: DesiredIpip, have: Link | undefined): DeviceOps {
  if (want.spec === undefined) return { setup: [], teardown: [], ready: [] };
  const setup: Op[] = [];
  if (have === undefined) {
    setup.push({ op: 'ipip-add', name: want.name }, { op: 'link-mtu', name: want.name, mtu: want.spec.mtu });
    if (want.spec.address !== undefined) setup.push({ op: 'addr-add', dev: want.name, cidr: want.spec.address });
    setup.push({ op: 'link-up', name: want.name });
  } else {
    for (const op of inPlaceFixes(want.name, have, want.spec.mtu, want.spec.address)) setup.push(op);
  }
  return { setup, teardown: [], ready: [want.name] };
}

/** MTU, the one address (others removed) and up-state, each only when it differs. */
function inPlaceFixes(name: IfaceName, have: Link, mtu: number, address: Cidr | undefined): Op[] {
  const ops: Op[] = [];
  if (have.mtu !== mtu) ops.push({ op: 'link-mtu', name, mtu });
  if (address !== undefined && !have.addresses.includes(address)) ops.push({ op: 'addr-add', dev: name, cidr: address });
  // IPv6 link-local addresses are the kernel's own (every device up gets one): not ours to remove.
  for (const other of have.addresses) {
    if (other !== address && !other.startsWith('fe80:')) ops.push({ op: 'addr-delete', dev: name, cidr: other });
  }
  if (!have.up) ops.push({ op: 'link-up', name });
  return ops;
}
