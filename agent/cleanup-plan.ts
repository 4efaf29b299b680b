// What `wren cleanup` removes from a node: everything wren owns, and nothing else. An emptied
// datastore no longer withdraws wren's routes (cluster-wholeness.ts), so an uninstall asks for it
// by name instead.
//
// Owned means marked or named: routes with wren's protocol in wren's table (both families), and
// wren's VXLAN devices, vxlan.calico and vxlan-v6.calico, of kind vxlan (deleting a device takes
// its FDB entries, neighbours and routes with it). tunl0 is different: the ipip module makes one
// in every namespace the moment it loads, and the kernel refuses to delete it. Only its address
// can go, and only when wren's own routes use tunl0: then the address is the node's IPIP tunnel
// address, which wren set (it keeps exactly that one address there). Without such routes it may
// be someone else's, and stays. wren's NAT tables (`ip wren-nat`, `ip6 wren-nat`) are wren's by
// name, and go whole; no other nftables table is touched.
//
// Pure: the kernel's state in, a plan in kernel/plan.ts's operations out.
import { FAMILIES, NAT_TABLE } from '../kernel/nat/nat-state.js';
import type { Op, Plan } from '../kernel/plan.js';
import type { KernelState } from '../kernel/state.js';
import { IPIP_DEVICE, VXLAN_DEVICE, VXLAN_DEVICE_V6 } from '../routing/devices.js';

export interface CleanupOptions {
  readonly proto: number;
  readonly table: number;
}

export interface CleanupPlan {
  readonly plan: Plan;
  /** What stays, and why (tunl0 itself; an address on tunl0 wren cannot tell is its own). */
  readonly kept: readonly string[];
}

export function planCleanup(state: KernelState, options: CleanupOptions): CleanupPlan {
  const owned = state.routes.filter((r) => r.proto === options.proto && r.table === options.table);
  const routes: Op[] = owned.map((route) => ({ op: 'route-delete', route }));
  const teardown: Op[] = [];
  const kept: string[] = [];

  const tunl0 = state.links.find((l) => l.name === IPIP_DEVICE);
  if (tunl0 !== undefined) {
    kept.push(`${IPIP_DEVICE} stays: the ipip module creates it in every namespace and the kernel does not delete it`);
    // IPv6 link-local addresses are the kernel's own.
    const addresses = tunl0.addresses.filter((a) => !a.startsWith('fe80:'));
    if (owned.some((r) => r.dev === IPIP_DEVICE)) {
      for (const cidr of addresses) teardown.push({ op: 'addr-delete', dev: IPIP_DEVICE, cidr });
    } else if (addresses.length > 0) {
      kept.push(`${IPIP_DEVICE}'s address ${addresses.join(', ')} stays: no route of wren's uses ${IPIP_DEVICE}, so wren cannot tell it set it`);
    }
  }
  for (const name of [VXLAN_DEVICE, VXLAN_DEVICE_V6]) {
    const link = state.links.find((l) => l.name === name);
    if (link === undefined) continue;
    if (link.kind === 'vxlan') teardown.push({ op: 'link-delete', name, reason: 'wren cleanup' });
    else kept.push(`${name} stays: it is a ${link.kind ?? 'plain'} device, not a VXLAN device wren made`);
  }
  const nat = state.nat;
  if (nat?.supported === false) kept.push(`no ${NAT_TABLE} table can be there: ${nat.reason}`);
  const natOps: Op[] = nat?.supported === true ? FAMILIES.filter((f) => nat.tables[f] !== undefined).map((family) => ({ op: 'nat-delete', family })) : [];
  return {
    plan: [
      { name: 'routes', tool: 'ip', ops: routes },
      { name: 'teardown', tool: 'ip', ops: teardown },
      { name: 'nat', tool: 'nft', ops: natOps },
    ],
    kept,
  };
}
