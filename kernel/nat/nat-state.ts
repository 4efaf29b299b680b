// wren's NAT state as plain data: per address family, one nftables table of wren's own
// (`table ip wren-nat`, `table ip6 wren-nat`) holding two interval sets of pool prefixes and one
// postrouting rule that masquerades traffic from the first set to anywhere outside the second —
// Calico Felix's natOutgoing rule (its ipsets cali40masq-ipam-pools and cali40all-ipam-pools).
// A pool change is a set update; the rule itself never changes.
//
// The same shape is what wren wants (routing/nat.ts) and what a read of the kernel found
// (nat-read.ts), so deciding what to do is a comparison of the two (nat-diff.ts).
import type { Cidr, Family } from '../values.js';

/** wren's table, in both families: no other table is ever created, changed or deleted. */
export const NAT_TABLE = 'wren-nat';
export const MASQ_SET = 'masq-pools';
export const ALL_SET = 'all-pools';
export const NAT_CHAIN = 'postrouting';
export type NatSetName = typeof MASQ_SET | typeof ALL_SET;

/** nft's name of a family's tables. */
export function nftFamily(family: Family): 'ip' | 'ip6' {
  return family === 4 ? 'ip' : 'ip6';
}

/** One family's table as wren wants it. */
export interface NatTable {
  readonly family: Family;
  /** Sources that are masqueraded: the natOutgoing pools, disjoint, in address order. */
  readonly masquerade: readonly Cidr[];
  /** Destinations that never are: every pool, disjoint, in address order. */
  readonly pools: readonly Cidr[];
}

/** One family's table as read: its sets, and whether the rest is exactly wren's. */
export interface NatTableRead {
  readonly family: Family;
  /** Undefined when the set is missing or not an interval set of the family's addresses. */
  readonly masquerade: readonly Cidr[] | undefined;
  readonly pools: readonly Cidr[] | undefined;
  /** Why the table is not wren's shape (a chain or rule changed, something added), or undefined. */
  readonly misshapen?: string;
}

/** The kernel's NAT tables, or why there can be none. */
export type NatRead =
  | { readonly supported: true; readonly tables: Readonly<Record<Family, NatTableRead | undefined>> }
  | { readonly supported: false; readonly reason: string };

export const FAMILIES: readonly Family[] = [4, 6];
