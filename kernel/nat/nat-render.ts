// NAT operations as `nft -f` commands. All of a plan's NAT operations go to one `nft -f -`,
// which the kernel applies as one transaction: it has the old rules or the new, never half.
//
// Only validated values reach a command: prefixes are kernel/values.ts Cidrs (canonical, no
// space or brace can be in one), families are 4 or 6, and every name is a constant of
// nat-state.ts.
//
// A table is rewritten whole by `add table` (a no-op when it exists), `delete table` and the
// definitions: inside one transaction, that is an atomic swap. A pool change only rewrites a
// set (`flush set` and `add element`), never the rule.
import type { Cidr, Family } from '../values.js';
import { ALL_SET, MASQ_SET, NAT_CHAIN, NAT_TABLE, nftFamily, type NatSetName, type NatTable } from './nat-state.js';

/** The NAT operations of a plan (kernel/plan.ts). */
export type NatOp =
  /** Creates the family's table (`fresh`), or rewrites it whole: its chain or rule is not wren's. */
  | { readonly op: 'nat-replace'; readonly table: NatTable; readonly fresh: boolean; readonly reason: string }
  /** Gives one set of the table exactly these prefixes. */
  | { readonly op: 'nat-set'; readonly family: Family; readonly set: NatSetName; readonly cidrs: readonly Cidr[] }
  /** No pool of the family needs NAT any more: wren's table goes. */
  | { readonly op: 'nat-delete'; readonly family: Family };

export function natOpFamily(op: NatOp): Family {
  return op.op === 'nat-replace' ? op.table.family : op.family;
}

/** Chain priority 100 is srcnat, where iptables' nat POSTROUTING hooks in too. */
const CHAIN_SPEC = '{ type nat hook postrouting priority 100; policy accept; }';

/** The one rule: from a natOutgoing pool to outside every pool, the node's address (random ports, as Felix). */
export function natRule(family: Family): string {
  const proto = nftFamily(family);
  return `${proto} saddr @${MASQ_SET} ${proto} daddr != @${ALL_SET} counter masquerade fully-random`;
}

export function renderNatOp(op: NatOp): string[] {
  switch (op.op) {
    case 'nat-replace':
      return tableLines(op.table, op.fresh);
    case 'nat-set':
      return setLines(op.family, op.set, op.cidrs);
    case 'nat-delete':
      return [`delete table ${nftFamily(op.family)} ${NAT_TABLE}`];
  }
}

function tableLines(table: NatTable, fresh: boolean): string[] {
  const where = `${nftFamily(table.family)} ${NAT_TABLE}`;
  const type = table.family === 4 ? 'ipv4_addr' : 'ipv6_addr';
  return [
    // `add table` first: `delete table` of a table that is not there fails the transaction.
    ...(fresh ? [] : [`add table ${where}`, `delete table ${where}`]),
    `add table ${where}`,
    `add set ${where} ${MASQ_SET} { type ${type}; flags interval; }`,
    `add set ${where} ${ALL_SET} { type ${type}; flags interval; }`,
    ...elementLines(where, MASQ_SET, table.masquerade),
    ...elementLines(where, ALL_SET, table.pools),
    `add chain ${where} ${NAT_CHAIN} ${CHAIN_SPEC}`,
    `add rule ${where} ${NAT_CHAIN} ${natRule(table.family)}`,
  ];
}

function setLines(family: Family, set: NatSetName, cidrs: readonly Cidr[]): string[] {
  const where = `${nftFamily(family)} ${NAT_TABLE}`;
  return [`flush set ${where} ${set}`, ...elementLines(where, set, cidrs)];
}

/** None for an empty set: `{ }` is not a valid element list. */
function elementLines(where: string, set: NatSetName, cidrs: readonly Cidr[]): string[] {
  return cidrs.length === 0 ? [] : [`add element ${where} ${set} { ${cidrs.join(', ')} }`];
}
