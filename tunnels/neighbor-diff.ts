// Neighbour and FDB entries on wren's VXLAN devices, reconciled both ways like routes: every
// entry on those devices is wren's, so stale ones (a vanished node, an old MAC after a node was
// re-created, calico#7281) are deleted and changed ones replaced.
import type { Op } from '../kernel/plan.js';
import type { FdbEntry, Neighbor } from '../kernel/state.js';
import { fdbKey, neighborKey } from '../kernel/state.js';
import { compareIps } from '../kernel/values.js';

export interface EntryOps {
  readonly neighReplace: Op[];
  readonly neighDelete: Op[];
  readonly fdb: Op[];
}

export function emptyEntryOps(): EntryOps {
  return { neighReplace: [], neighDelete: [], fdb: [] };
}

/** Adds one device's entry operations to those of the devices before it. */
export function addEntryOps(into: EntryOps, more: EntryOps): void {
  for (const op of more.neighReplace) into.neighReplace.push(op);
  for (const op of more.neighDelete) into.neighDelete.push(op);
  for (const op of more.fdb) into.fdb.push(op);
}

export function diffEntries(
  want: { readonly neighbors: readonly Neighbor[]; readonly fdb: readonly FdbEntry[] },
  have: { readonly neighbors: readonly Neighbor[]; readonly fdb: readonly FdbEntry[] },
  allowDeletes: boolean,
): EntryOps {
  const haveNeigh = new Map(have.neighbors.map((n) => [neighborKey(n), n]));
  const wantNeigh = oneByKey(want.neighbors, neighborKey, (a, b) => a.mac < b.mac);
  const neighReplace: Op[] = [];
  for (const [key, neighbor] of wantNeigh) if (haveNeigh.get(key)?.mac !== neighbor.mac) neighReplace.push({ op: 'neigh-replace', neighbor });
  const neighDelete: Op[] = allowDeletes
    ? have.neighbors.filter((n) => !wantNeigh.has(neighborKey(n))).map((neighbor) => ({ op: 'neigh-delete', neighbor }))
    : [];

  const haveFdb = new Map(have.fdb.map((f) => [fdbKey(f), f]));
  const wantFdb = oneByKey(want.fdb, fdbKey, (a, b) => compareIps(a.dst, b.dst) < 0);
  const fdb: Op[] = [];
  for (const [key, entry] of wantFdb) if (haveFdb.get(key)?.dst !== entry.dst) fdb.push({ op: 'fdb-replace', fdb: entry });
  if (allowDeletes) {
    for (const f of have.fdb) if (!wantFdb.has(fdbKey(f))) fdb.push({ op: 'fdb-delete', fdb: f });
  }
  return { neighReplace, neighDelete, fdb };
}

/**
 * One wanted entry per kernel key. Two entries on one key (two nodes claiming one VTEP address,
 * or one MAC) would otherwise both be written, the last one winning in the kernel and the other
 * differing from it on the next diff: a write every pass, each echoed by `ip monitor` into the
 * next pass — hundreds a second. The winner is the smallest by value, whatever the order the
 * nodes came in, so the kernel settles on it. (Which node may claim a VTEP is the meaning
 * checks' job, routing/admit-nodes.ts; this only makes sure no input can make the diff flap.)
 */
function oneByKey<T>(entries: readonly T[], keyOf: (entry: T) => string, before: (a: T, b: T) => boolean): Map<string, T> {
  const byKey = new Map<string, T>();
  for (const entry of entries) {
    const key = keyOf(entry);
    const other = byKey.get(key);
    if (other === undefined || before(entry, other)) byKey.set(key, entry);
  }
  return byKey;
}
