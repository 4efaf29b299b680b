// The pod MTU on workload veths: each admitted local workload's host-side interface gets it, and
// only those (admission refused any other, and the host interface is never one: this is the last
// check before the kernel). Looked at every pass, from the links as last read: a pod's new veth
// gets its MTU in the pass that routes it.
import type { Op } from '../../kernel/plan.js';
import type { IfaceName } from '../../kernel/values.js';
import type { WorkloadIfaceTest } from '../../routing/workload-iface.js';
import type { LinkTable } from './link-table.js';
import type { DataplaneManager, PlanInput, PlanPart } from './manager.js';

export interface WorkloadMtuWant {
  readonly mtu: number;
  readonly hostIface: IfaceName;
  /** Whether a local workload's route uses this interface (the route engine knows). */
  readonly routed: (name: IfaceName) => boolean;
}

export class WorkloadMtuManager implements DataplaneManager<WorkloadMtuWant> {
  private want: WorkloadMtuWant | undefined;

  constructor(private readonly isWorkloadIface: WorkloadIfaceTest) {}

  setDesired(want: WorkloadMtuWant): void {
    this.want = want;
  }

  /** It decides from the links, which the dataplane's link table holds. */
  reset(): void {}

  pending(input: PlanInput): PlanPart {
    return { setup: this.ops(input.links) };
  }

  /** Accepted MTUs are folded into the link table (link-table.ts); refused ones differ there still. */
  applied(): void {}

  ops(links: LinkTable): Op[] {
    const want = this.want;
    const ops: Op[] = [];
    if (want === undefined) return ops;
    for (const link of links.all) {
      if (link.mtu === want.mtu || !this.isWorkloadIface(link.name) || link.name === want.hostIface) continue;
      if (want.routed(link.name)) ops.push({ op: 'link-mtu', name: link.name, mtu: want.mtu });
    }
    return ops;
  }
}
