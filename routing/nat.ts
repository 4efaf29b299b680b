// Calico's natOutgoing, as the NAT tables this node wants (kernel/nat/nat-state.ts).
//
// Felix masquerades traffic whose source is in a pool with natOutgoing and whose destination is
// outside every pool (felix/dataplane/linux/masq_mgr.go): pod-to-pod traffic keeps the pod's
// address, across nodes too, and everything leaving the cluster's pools takes the node's.
// Disabled pools count as Felix counts them: they hand out no new addresses, but their pods
// still run, so they are still pools (never masqueraded to) and still masquerade if they say so.
//
// Only admitted pools are given (routing/admission.ts): a refused pool — over the node's own
// space, a /0, an older pool's — gets no rule and is no exclusion either. Each family has a table
// only while one of its pools has natOutgoing: the rules go when no pool needs them.
import type { Cidr, Family } from '../kernel/values.js';
import { cidrContains, addressOf, compareCidrs, familyOf, prefixLength } from '../kernel/values.js';
import { FAMILIES, type NatTable } from '../kernel/nat/nat-state.js';
import type { IpPool } from './cluster.js';

/** The NAT tables wanted: one per family that has a natOutgoing pool, none for the others. */
export interface DesiredNat {
  readonly tables: readonly NatTable[];
}

export const NO_NAT: DesiredNat = { tables: [] };

export function desiredNat(admittedPools: readonly IpPool[]): DesiredNat {
  const tables: NatTable[] = [];
  for (const family of FAMILIES) {
    const pools = admittedPools.filter((p) => familyOf(p.cidr) === family);
    const masquerade = disjointCover(pools.filter((p) => p.natOutgoing === true).map((p) => p.cidr));
    if (masquerade.length === 0) continue;
    tables.push({ family, masquerade, pools: disjointCover(pools.map((p) => p.cidr)) });
  }
  return { tables };
}

export function natTableOf(nat: DesiredNat, family: Family): NatTable | undefined {
  return nat.tables.find((t) => t.family === family);
}

/**
 * The prefixes with every one inside another left out, in address order: the same addresses as
 * an nftables interval set, which refuses overlapping elements ("conflicting intervals"). Two
 * prefixes either nest or are disjoint, so what remains is disjoint.
 */
export function disjointCover(cidrs: readonly Cidr[]): Cidr[] {
  // Shorter first at the same address: the one that covers comes before what it covers.
  const sorted = [...new Set(cidrs)].sort(compareCidrs);
  const out: Cidr[] = [];
  for (const cidr of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && prefixLength(last) <= prefixLength(cidr) && cidrContains(last, addressOf(cidr))) continue;
    out.push(cidr);
  }
  return out;
}
