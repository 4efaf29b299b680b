// wren's VXLAN devices and their entries: the device per family (created, fixed in place or
// re-created, tunnels/device-plan.ts) and, on each, one neighbour and one FDB entry per remote
// VTEP (tunnels/neighbor-diff.ts). Devices are decided when the wanted node or a read of the
// links changed; entries when either side changed. The echo of an entry wren wanted is nothing
// to do; a wanted entry deleted, changed or made dynamic, or a permanent entry wren did not
// write, has the next pass re-read that device's entries and put them right.
import type { NeighborEvent } from '../../kernel/monitor-events.js';
import type { OpFailure } from '../../kernel/kernel.js';
import type { Plan } from '../../kernel/plan.js';
import type { FdbEntry, KernelState, Neighbor } from '../../kernel/state.js';
import type { IfaceName } from '../../kernel/values.js';
import { planVxlan, type DeviceOps } from '../../tunnels/device-plan.js';
import { addEntryOps, diffEntries, emptyEntryOps, type EntryOps } from '../../tunnels/neighbor-diff.js';
import type { DesiredVxlan } from '../../tunnels/vxlan.js';
import type { LinkTable } from './link-table.js';
import type { DataplaneManager, PlanInput, PlanPart } from './manager.js';

interface Entries {
  readonly neighbors: readonly Neighbor[];
  readonly fdb: readonly FdbEntry[];
}

const NO_ENTRIES: Entries = { neighbors: [], fdb: [] };

export class VxlanManager implements DataplaneManager<readonly DesiredVxlan[]> {
  private desired: readonly DesiredVxlan[] = [];
  private readonly actual = new Map<IfaceName, Entries>();
  private wantedEntries = new Set<string>();
  private wantedAddresses = new Set<string>();
  private devicesDirty = false;
  private entriesDirty = false;
  /** Entries drifted on the kernel's side: re-read them before deciding. */
  private stale = false;

  setDesired(vxlan: readonly DesiredVxlan[]): void {
    this.desired = vxlan;
    const entries = vxlan.flatMap((v) => [
      ...v.neighbors.map((n) => ({ dev: v.device, ip: n.ip, mac: n.mac, fdb: false })),
      ...v.fdb.map((f) => ({ dev: v.device, ip: f.dst, mac: f.mac, fdb: true })),
    ]);
    this.wantedEntries = new Set(entries.map(entryKey));
    this.wantedAddresses = new Set(entries.map(addressKey));
    this.devicesDirty = true;
    this.entriesDirty = true;
  }

  /** A full read: the entries on wren's devices, as the kernel has them. */
  reset(state: Pick<KernelState, 'neighbors' | 'fdb'>): void {
    this.actual.clear();
    const devices = new Set([...state.neighbors.map((n) => n.dev), ...state.fdb.map((f) => f.dev)]);
    for (const dev of devices) this.setEntries(dev, state);
    this.devicesDirty = true;
    this.entriesDirty = true;
    this.stale = false;
  }

  /** The links were read afresh: device attributes are decided again. */
  linksRead(): void {
    this.devicesDirty = true;
  }

  /** True when the event is drift (the next pass must re-read the entries), false for an echo or the kernel's own entries. */
  observe(entry: NeighborEvent): boolean {
    const echo = !entry.deleted && entry.permanent && this.wantedEntries.has(entryKey(entry));
    if (echo) return false;
    if (!entry.permanent && !this.wantedAddresses.has(addressKey(entry))) return false;
    this.stale = true;
    return true;
  }

  /**
   * Devices whose entries must be read before the next decision (none unless drift was seen). The
   * drift is taken: an event that comes while they are being read is newer than the read, and
   * has them read again.
   */
  takeDevicesToRead(): IfaceName[] {
    if (!this.stale) return [];
    this.stale = false;
    return this.desired.filter((v) => v.spec !== undefined).map((v) => v.device);
  }

  setEntries(dev: IfaceName, entries: Pick<KernelState, 'neighbors' | 'fdb'>): void {
    this.actual.set(dev, { neighbors: entries.neighbors.filter((n) => n.dev === dev), fdb: entries.fdb.filter((f) => f.dev === dev) });
    this.entriesDirty = true;
  }

  pending(input: PlanInput): PlanPart {
    const devices = this.deviceOps(input.links);
    const entries = this.entryOps(input.allowDeletes);
    return { setup: devices.setup, fdb: entries.fdb, neighbors: entries.neighReplace, 'stale-neighbors': entries.neighDelete, teardown: devices.teardown };
  }

  /** Device operations, when something they depend on changed since the last plan. */
  deviceOps(links: LinkTable): DeviceOps & { readonly fresh: ReadonlySet<IfaceName> } {
    const out = { setup: [] as DeviceOps['setup'], teardown: [] as DeviceOps['teardown'], ready: [] as IfaceName[], fresh: new Set<IfaceName>() };
    if (!this.devicesDirty) return out;
    this.devicesDirty = false;
    for (const v of this.desired) {
      if (v.hold) continue;
      const ops = planVxlan(v.spec, v.device, links.get(v.device));
      for (const op of ops.setup) out.setup.push(op);
      for (const op of ops.teardown) out.teardown.push(op);
      for (const name of ops.ready) out.ready.push(name);
      // A device being (re)created starts empty: everything on it must be written again.
      if (ops.setup.some((op) => op.op === 'vxlan-add')) {
        out.fresh.add(v.device);
        this.actual.set(v.device, NO_ENTRIES);
        this.entriesDirty = true;
      }
    }
    return out;
  }

  /** Entry operations, when either side changed since the last plan. */
  entryOps(allowDeletes: boolean): EntryOps {
    const ops = emptyEntryOps();
    if (!this.entriesDirty) return ops;
    this.entriesDirty = false;
    for (const v of this.desired) {
      if (v.spec === undefined || v.hold) continue;
      addEntryOps(ops, diffEntries(v, this.actual.get(v.device) ?? NO_ENTRIES, allowDeletes));
    }
    return ops;
  }

  /**
   * What a plan wrote is now the kernel's as far as this manager knows; a refusal leaves the
   * entries stale, so the next look re-reads them.
   */
  applied(_plan: Plan, failures: readonly OpFailure[]): void {
    const refused = failures.some((f) => f.phase === 'fdb' || f.phase === 'neighbors' || f.phase === 'stale-neighbors');
    for (const v of this.desired) if (v.spec !== undefined) this.actual.set(v.device, { neighbors: v.neighbors, fdb: v.fdb });
    if (refused) this.stale = true;
  }
}

function addressKey(entry: { readonly dev: string; readonly ip: string }): string {
  return `${entry.dev} ${entry.ip}`;
}

/** One neighbour (ip → mac) or FDB entry (mac → remote ip) on a device, as one key (an entry without a MAC matches none wanted). */
function entryKey(entry: { readonly dev: string; readonly ip: string; readonly mac?: string; readonly fdb: boolean }): string {
  return `${entry.fdb ? 'fdb' : 'neigh'} ${entry.dev} ${entry.ip} ${entry.mac}`;
}
