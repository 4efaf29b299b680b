// Neighbour and FDB entries on wren's VXLAN devices, reconciled both ways like routes: every
// entry on those devices is wren's, so stale ones (a vanished node, an old MAC after a node was
// re-created, calico#7281) are deleted and changed ones replaced.
import type { Op } from '../kernel/plan.js';
import type { FdbEntry, Neighbor } from '../kernel/state.js';
import { fdbKey, neighborKey } from '../kernel/state.js';

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
  const wantNeigh = new Set(want.neighbors.map(neighborKey));
  const neighReplace: Op[] = want.neighbors
    .filter((n) => haveNeigh.get(neighborKey(n))?.mac !== n.mac)
    .map((neighbor) => ({ op: 'neigh-replace', neighbor }));
  const neighDelete: Op[] = allowDeletes
    ? have.neighbors.filter((n) => !wantNeigh.has(neighborKey(n))).map((neighbor) => ({ op: 'neigh-delete', neighbor }))
    : [];

  const haveFdb = new Map(have.fdb.map((f) => [fdbKey(f), f]));
  const wantFdb = new Set(want.fdb.map(fdbKey));
  const fdb: Op[] = want.fdb.filter((f) => haveFdb.get(fdbKey(f))?.dst !== f.dst).map((entry) => ({ op: 'fdb-replace', fdb: entry }));
  if (allowDeletes) {
    for (const f of have.fdb) if (!wantFdb.has(fdbKey(f))) fdb.push({ op: 'fdb-delete', fdb: f });
  }
  return { neighReplace, neighDelete, fdb };
}
