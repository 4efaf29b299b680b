// NAT's metrics (dataplane/nat-manager.ts): whether this node can have NAT at all, how many pool
// prefixes each family's table holds, which tables are in the kernel, and how often a table had
// to be put right after a hand changed it.
import { Counter, Gauge, type Registry } from 'prom-client';
import { FAMILIES } from '../kernel/nat/nat-state.js';
import type { NatStatus } from './dataplane/nat-manager.js';

export class NatMetrics {
  private readonly supported: Gauge;
  private readonly pools: Gauge;
  private readonly tables: Gauge;
  private readonly repairs: Counter;
  private repairsSeen = 0;

  constructor(registry: Registry) {
    this.supported = new Gauge({ name: 'wren_nat_supported', help: 'Whether this node can have NAT (0: no nft or no nf_tables, see /status)', registers: [registry] });
    this.pools = new Gauge({ name: 'wren_nat_pools', help: "Pool prefixes in wren's NAT tables, by family and set: masquerade (natOutgoing pools) or all (never masqueraded to)", labelNames: ['family', 'set'], registers: [registry] });
    this.tables = new Gauge({ name: 'wren_nat_tables', help: "Whether wren's NAT table of the family is in the kernel", labelNames: ['family'], registers: [registry] });
    this.repairs = new Counter({ name: 'wren_nat_repairs_total', help: "Transactions that put wren's NAT tables right after they drifted (changed or deleted by hand)", registers: [registry] });
  }

  set(status: NatStatus): void {
    this.supported.set(status.supported ? 1 : 0);
    for (const family of FAMILIES) {
      const table = status.wanted.find((t) => t.family === family);
      this.pools.set({ family: `ipv${family}`, set: 'masquerade' }, table?.masquerade.length ?? 0);
      this.pools.set({ family: `ipv${family}`, set: 'all' }, table?.pools.length ?? 0);
      this.tables.set({ family: `ipv${family}` }, status.present.includes(family) ? 1 : 0);
    }
    this.repairs.inc(status.repairs - this.repairsSeen);
    this.repairsSeen = status.repairs;
  }
}
