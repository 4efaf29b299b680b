// What to do about one family's NAT table: the wanted table against the one read.
//   wanted, none there          create it;
//   wanted, not wren's shape    rewrite it whole (a chain or rule changed by hand, a set missing);
//   wanted, sets differ         update the sets that differ, nothing else;
//   not wanted, there           delete it (no pool of the family needs NAT any more);
//   otherwise                   nothing.
import type { Cidr } from '../values.js';
import { ALL_SET, MASQ_SET, type NatTable, type NatTableRead } from './nat-state.js';
import type { NatOp } from './nat-render.js';

export function natTableOps(wanted: NatTable | undefined, read: NatTableRead | undefined): NatOp[] {
  if (wanted === undefined) return read === undefined ? [] : [{ op: 'nat-delete', family: read.family }];
  if (read === undefined) return [{ op: 'nat-replace', table: wanted, fresh: true, reason: 'missing' }];
  if (read.misshapen !== undefined || read.masquerade === undefined || read.pools === undefined) {
    return [{ op: 'nat-replace', table: wanted, fresh: false, reason: read.misshapen ?? 'a set is missing or not an interval set of addresses' }];
  }
  const ops: NatOp[] = [];
  if (!sameCidrs(read.masquerade, wanted.masquerade)) ops.push({ op: 'nat-set', family: wanted.family, set: MASQ_SET, cidrs: wanted.masquerade });
  if (!sameCidrs(read.pools, wanted.pools)) ops.push({ op: 'nat-set', family: wanted.family, set: ALL_SET, cidrs: wanted.pools });
  return ops;
}

/** Both in address order (routing/nat.ts wants them so, nat-read.ts reads them so). */
function sameCidrs(a: readonly Cidr[], b: readonly Cidr[]): boolean {
  return a.length === b.length && a.every((c, i) => c === b[i]);
}
