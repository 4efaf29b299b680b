// The node's links as the dataplane last read them, kept in one place: every manager decides
// against these, writes of an MTU are folded in, and a fresh read is compared with them to tell
// what it means (`linkEffects`).
import type { OpFailure } from '../../kernel/kernel.js';
import type { Op } from '../../kernel/plan.js';
import type { Link } from '../../kernel/state.js';
import type { IfaceName } from '../../kernel/values.js';
import type { RouteTable } from '../../kernel/route-table/route-table.js';
import { IPIP_DEVICE, VXLAN_DEVICE, VXLAN_DEVICE_V6 } from '../../routing/devices.js';
import type { WorkloadIfaceTest } from '../../routing/workload-iface.js';

export class LinkTable {
  private byName = new Map<IfaceName, Link>();

  get all(): readonly Link[] {
    return [...this.byName.values()];
  }

  get(name: IfaceName): Link | undefined {
    return this.byName.get(name);
  }

  set(links: readonly Link[]): void {
    this.byName = new Map(links.map((l) => [l.name, l]));
  }

  /** Devices present and whether each is up, plus those a plan is about to create or bring up. */
  ready(alsoUp: readonly IfaceName[] = []): Map<IfaceName, { up: boolean }> {
    const ready = new Map<IfaceName, { up: boolean }>();
    for (const link of this.byName.values()) ready.set(link.name, { up: link.up });
    for (const name of alsoUp) ready.set(name, { up: true });
    return ready;
  }

  /** MTUs the kernel accepted: the next pass need not write them again. */
  applied(ops: readonly Op[], failures: readonly OpFailure[]): void {
    const failed = new Set(failures.map((f) => f.op));
    for (const op of ops) {
      if (op.op !== 'link-mtu' || failed.has(op)) continue;
      const link = this.byName.get(op.name);
      if (link !== undefined) this.byName.set(op.name, { ...link, mtu: op.mtu });
    }
  }
}

export type LinkEffects = { readonly full: true; readonly why: string } | { readonly full: false; readonly changed: boolean };

const TUNNELS: ReadonlySet<string> = new Set([VXLAN_DEVICE, VXLAN_DEVICE_V6, IPIP_DEVICE]);

/**
 * A fresh read of the links against the table. Workload veths coming and going are handled here
 * (a vanished one took its routes with it, and the route table is told); anything that can change
 * the node's own facts — the host interface, a tunnel device, an address other than a veth's —
 * needs a full pass. `changed`: a pod veth appeared or changed (held routes may go in now).
 */
export function linkEffects(table: LinkTable, links: readonly Link[], routes: RouteTable, hostIface: IfaceName, isWorkloadIface: WorkloadIfaceTest): LinkEffects {
  const fresh = new Map(links.map((l) => [l.name, l]));
  let changed = false;
  const structural = (name: string) => name === hostIface || TUNNELS.has(name);
  // A pod's veth holds no address of the host's: one that does is the host's, whatever its name.
  const podVeth = (link: Link) => isWorkloadIface(link.name) && !structural(link.name) && link.addresses.every(linkLocal);
  for (const old of table.all) {
    const now = fresh.get(old.name);
    if (now !== undefined && now.index === old.index && (now.up || !old.up)) continue;
    if (!podVeth(old)) {
      if (structural(old.name) || old.addresses.some((a) => !linkLocal(a))) return { full: true, why: `${old.name} went away or down` };
      continue;
    }
    routes.dropRoutesOf(old.name);
  }
  for (const link of links) {
    const old = table.get(link.name);
    if (old !== undefined && old.index === link.index && old.up === link.up && old.mtu === link.mtu && sameAddresses(old, link)) continue;
    if (podVeth(link) && (old === undefined || podVeth(old))) changed = true;
    else if (structural(link.name) || !sameAddresses(old, link)) return { full: true, why: `${link.name} changed` };
  }
  table.set(links);
  return { full: false, changed };
}

function sameAddresses(a: Link | undefined, b: Link): boolean {
  return sameItems((a?.addresses ?? []).filter((c) => !linkLocal(c)), b.addresses.filter((c) => !linkLocal(c)));
}

/** The same items (by identity, or value for strings and numbers) in the same order. */
export function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i]);
}

/** IPv6 link-local addresses come with every new veth and say nothing about the node. */
function linkLocal(cidr: string): boolean {
  return cidr.startsWith('fe80:');
}
