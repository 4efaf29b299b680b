// The pieces of an incremental pass: decide single route keys against the kernel view, and tell
// what a re-read of the links means for it. Pure apart from the state objects they update.
import type { Op } from '../kernel/plan.js';
import type { Link } from '../kernel/state.js';
import { routeKey } from '../kernel/state.js';
import type { IfaceName } from '../kernel/values.js';
import { IPIP_DEVICE, VXLAN_DEVICE, VXLAN_DEVICE_V6 } from '../routing/devices.js';
import { isDefaultWorkloadIface, type WorkloadIfaceTest } from '../routing/workload-iface.js';
import type { RouteEngine } from '../routing/route-engine.js';
import { addDecision, decideRoute, emptyDiff, type HeldRoute, type RouteConflict, type RouteDiffOptions } from '../routing/route-diff.js';
import { KernelView } from './kernel-view.js';
import type { KernelState } from '../kernel/state.js';
import type { ObjectProblem } from '../routing/cluster.js';
import type { DesiredNode } from './node-plan.js';
import type { PassReport } from './reconciler.js';
import { RouteListing } from './route-listing.js';

/** Routes that could not be written, by key, kept across passes for status and metrics. */
export class RouteLedger {
  readonly held = new Map<string, HeldRoute>();
  readonly conflicts = new Map<string, RouteConflict>();

  static from(held: readonly HeldRoute[], conflicts: readonly RouteConflict[]): RouteLedger {
    const ledger = new RouteLedger();
    ledger.record(held, conflicts);
    return ledger;
  }

  record(held: readonly HeldRoute[], conflicts: readonly RouteConflict[]): void {
    for (const h of held) this.held.set(routeKey(h.route), h);
    for (const c of conflicts) this.conflicts.set(routeKey(c.desired), c);
  }
}

export interface KeyPlan {
  readonly ops: Op[];
  readonly replaced: number;
  readonly removed: number;
}

/** Decides each key as the full diff would, recording held and conflicting routes in the ledger. */
export function planKeys(keys: Iterable<string>, engine: RouteEngine, view: KernelView, options: RouteDiffOptions, ledger: RouteLedger): KeyPlan {
  const diff = emptyDiff();
  for (const key of keys) {
    ledger.held.delete(key);
    ledger.conflicts.delete(key);
    addDecision(diff, decideRoute(engine.winner(key), view.routes.get(key), options));
  }
  ledger.record(diff.held, diff.conflicts);
  const ops: Op[] = [
    ...diff.replace.map((route): Op => ({ op: 'route-replace', route })),
    ...diff.remove.map((route): Op => ({ op: 'route-delete', route })),
  ];
  return { ops, replaced: diff.replace.length, removed: diff.remove.length };
}

export type LinkEffects =
  | { readonly full: true; readonly why: string }
  | { readonly full: false; readonly dropped: string[]; readonly changed: Link[] };

const TUNNELS: ReadonlySet<string> = new Set([VXLAN_DEVICE, VXLAN_DEVICE_V6, IPIP_DEVICE]);

/**
 * Compares a fresh read of the links with the view. Workload veths coming and going are handled
 * here (a vanished one took its routes with it); anything that can change the node's own facts —
 * the host interface, a tunnel device, an address other than a veth's — needs a full pass.
 */
export function linkEffects(view: KernelView, links: readonly Link[], hostIface: IfaceName, isWorkloadIface: WorkloadIfaceTest = isDefaultWorkloadIface): LinkEffects {
  const fresh = new Map(links.map((l) => [l.name, l]));
  const dropped: string[] = [];
  const changed: Link[] = [];
  const structural = (name: string) => name === hostIface || TUNNELS.has(name);
  // A pod's veth holds no address of the host's: one that does is the host's, whatever its name.
  const podVeth = (link: Link) => isWorkloadIface(link.name) && !structural(link.name) && link.addresses.every(linkLocal);
  for (const old of view.links) {
    const now = fresh.get(old.name);
    if (now !== undefined && now.index === old.index && (now.up || !old.up)) continue;
    if (!podVeth(old)) {
      if (structural(old.name) || old.addresses.some((a) => !linkLocal(a))) return { full: true, why: `${old.name} went away or down` };
      continue;
    }
    for (const route of view.dropRoutesOf(old.name)) dropped.push(route);
  }
  for (const link of links) {
    const old = view.link(link.name);
    if (old !== undefined && old.index === link.index && old.up === link.up && old.mtu === link.mtu && sameAddresses(old, link)) continue;
    if (podVeth(link) && (old === undefined || podVeth(old))) changed.push(link);
    else if (structural(link.name) || !sameAddresses(old, link)) return { full: true, why: `${link.name} changed` };
  }
  view.setLinks(links);
  return { full: false, dropped, changed };
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

/** What incremental passes work from, set up by each full pass. */
export interface Incremental {
  readonly engine: RouteEngine;
  readonly view: KernelView;
  readonly ledger: RouteLedger;
  readonly desired: DesiredNode;
  /** Problems of the node itself (tunnels, MTU, host), which only a full pass changes. */
  readonly nodeProblems: readonly ObjectProblem[];
  /** The route table as the last resync listed it. */
  readonly listing: RouteListing;
  /** The neighbour and FDB entries the full pass wanted on the VXLAN devices (entryKey): their echoes are nothing to do. */
  readonly wantedEntries: ReadonlySet<string>;
  /** The device and address of each of those entries (addressKey): an event about one of them is about wren's entry. */
  readonly wantedAddresses: ReadonlySet<string>;
}

export function addressKey(entry: { readonly dev: string; readonly ip: string }): string {
  return `${entry.dev} ${entry.ip}`;
}

/** One neighbour (ip → mac) or FDB entry (mac → remote ip) on a device, as one key (an entry without a MAC matches none wanted). */
export function entryKey(entry: { readonly dev: string; readonly ip: string; readonly mac?: string; readonly fdb: boolean }): string {
  return `${entry.fdb ? 'fdb' : 'neigh'} ${entry.dev} ${entry.ip} ${entry.mac}`;
}

/** After a full pass: the engine it built, the kernel it read with its own writes (not those refused) folded in. */
export function incrementalFrom(report: PassReport, actual: KernelState, table: number): Incremental {
  const view = new KernelView(actual, table);
  for (const phase of report.planned.plan) view.applied(phase.ops, report.failures);
  view.takeChanged();
  const engine = report.desired.routeEngine;
  // Problems incremental passes recompute themselves; the rest are the node's own.
  const routeProblems = new Set([...engine.problems(), ...report.desired.admission.problems()]);
  const entries = report.desired.vxlan.flatMap((v) => [
    ...v.neighbors.map((n) => ({ dev: v.device, ip: n.ip, mac: n.mac, fdb: false })),
    ...v.fdb.map((f) => ({ dev: v.device, ip: f.dst, mac: f.mac, fdb: true })),
  ]);
  return {
    engine,
    view,
    ledger: RouteLedger.from(report.planned.routes.held, report.planned.routes.conflicts),
    desired: report.desired,
    nodeProblems: report.problems.filter((p) => !routeProblems.has(p)),
    listing: new RouteListing(),
    wantedEntries: new Set(entries.map(entryKey)),
    wantedAddresses: new Set(entries.map(addressKey)),
  };
}
