// The kernel double's nftables (kernel-double.ts): wren's NAT tables as plain data, a NAT phase
// taken as nft takes `nft -f -` — one transaction, every command applied or none — and the two
// ways a node can have no NAT at all, which this machine's kernel (it has nf_tables) cannot show:
// no nft binary, or a kernel without nf_tables. Errors are nft's texts for the same commands
// (nft 1.0.6): a table or set that is not there is "No such file or directory", overlapping
// elements "conflicting intervals specified". Every applied transaction, and every change by
// hand, is echoed to `onNatEvent` listeners as the family whose table changed, as the agent's
// `nft monitor` reports it.
import { NO_NF_TABLES, NO_NFT } from '../../kernel/nat/nft.js';
import type { NatOp } from '../../kernel/nat/nat-render.js';
import { natOpFamily } from '../../kernel/nat/nat-render.js';
import { ALL_SET, FAMILIES, MASQ_SET, type NatRead, type NatSetName, type NatTableRead } from '../../kernel/nat/nat-state.js';
import { disjointCover } from '../../routing/nat.js';
import { compareCidrs, type Cidr, type Family } from '../../kernel/values.js';

/** How the double's node stands with nftables: working, no nft binary, or no nf_tables. */
export type NatSupport = 'nf_tables' | 'no-nft' | 'no-nf_tables';

export class NatDouble {
  private tables = new Map<Family, NatTableRead>();
  private readonly listeners: ((family: Family) => void)[] = [];
  /** Transactions applied and refused, for tests that count them. */
  transactions = 0;
  refusedTransactions = 0;

  constructor(public support: NatSupport = 'nf_tables') {}

  read(): NatRead {
    if (this.support === 'no-nft') return { supported: false, reason: NO_NFT };
    if (this.support === 'no-nf_tables') return { supported: false, reason: `${NO_NF_TABLES}: netlink: Error: cache initialization failed: Protocol not supported` };
    return { supported: true, tables: { 4: this.tables.get(4), 6: this.tables.get(6) } };
  }

  table(family: Family): NatTableRead | undefined {
    return this.tables.get(family);
  }

  onNatEvent(listener: (family: Family) => void): void {
    this.listeners.push(listener);
  }

  /** One `nft -f -`: undefined when applied, else nft's error and nothing changed. */
  apply(ops: readonly NatOp[]): string | undefined {
    if (ops.length === 0) return undefined;
    if (this.support === 'no-nft') return NO_NFT;
    if (this.support === 'no-nf_tables') return 'netlink: Error: cache initialization failed: Protocol not supported';
    const next = new Map(this.tables);
    for (const op of ops) {
      const error = applyNatOp(next, op);
      if (error !== undefined) {
        this.refusedTransactions += 1;
        return error;
      }
    }
    this.tables = next;
    this.transactions += 1;
    this.emit(new Set(ops.map(natOpFamily)));
    return undefined;
  }

  // --- changes by hand (`nft delete table ip wren-nat`, `nft delete element …`) ---

  deleteTable(family: Family): void {
    if (this.tables.delete(family)) this.emit(new Set([family]));
  }

  deleteElement(family: Family, set: NatSetName, cidr: Cidr): void {
    const table = this.tables.get(family);
    const key = set === MASQ_SET ? 'masquerade' : 'pools';
    const elements = table?.[key];
    if (table === undefined || elements === undefined || !elements.includes(cidr)) return;
    this.tables.set(family, { ...table, [key]: elements.filter((c) => c !== cidr) });
    this.emit(new Set([family]));
  }

  /** A rule added to wren's chain by hand: the table is no longer wren's shape. */
  addForeignRule(family: Family): void {
    const table = this.tables.get(family);
    if (table === undefined) return;
    this.tables.set(family, { ...table, misshapen: 'chain postrouting holds 2 rules' });
    this.emit(new Set([family]));
  }

  private emit(families: ReadonlySet<Family>): void {
    const copy = FAMILIES.filter((f) => families.has(f));
    setImmediate(() => {
      for (const family of copy) for (const listener of this.listeners) listener(family);
    });
  }
}

function applyNatOp(tables: Map<Family, NatTableRead>, op: NatOp): string | undefined {
  const family = natOpFamily(op);
  switch (op.op) {
    case 'nat-replace': {
      const conflict = conflicting(op.table.masquerade) ?? conflicting(op.table.pools);
      if (conflict !== undefined) return conflict;
      const there = tables.get(family);
      // Without `delete table` first, adding to a table that is there adds a second rule to it.
      if (op.fresh && there !== undefined) {
        tables.set(family, { ...there, misshapen: 'chain postrouting holds 2 rules' });
        return undefined;
      }
      tables.set(family, { family, masquerade: sorted(op.table.masquerade), pools: sorted(op.table.pools) });
      return undefined;
    }
    case 'nat-set': {
      const table = tables.get(family);
      if (table === undefined) return 'Error: No such file or directory';
      const conflict = conflicting(op.cidrs);
      if (conflict !== undefined) return conflict;
      tables.set(family, { ...table, [op.set === ALL_SET ? 'pools' : 'masquerade']: sorted(op.cidrs) });
      return undefined;
    }
    case 'nat-delete':
      return tables.delete(family) ? undefined : 'Error: No such file or directory';
  }
}

function conflicting(cidrs: readonly Cidr[]): string | undefined {
  return disjointCover(cidrs).length === new Set(cidrs).size ? undefined : 'Error: conflicting intervals specified';
}

function sorted(cidrs: readonly Cidr[]): Cidr[] {
  return [...cidrs].sort(compareCidrs);
}
