// The routes' manager: the route table (kernel/route-table/) behind the dataplane's one manager
// interface. It decides after the devices: a device being re-created takes its routes with it,
// and a device being created or brought up can carry routes in the same plan.
import type { OpFailure } from '../../kernel/kernel.js';
import type { Plan } from '../../kernel/plan.js';
import type { RouteOps, RouteTable } from '../../kernel/route-table/route-table.js';
import type { KernelState } from '../../kernel/state.js';
import type { IfaceName } from '../../kernel/values.js';
import type { DesiredRoute } from '../../routing/route-classes.js';
import type { DataplaneManager, PlanInput, PlanPart } from './manager.js';

const NO_ROUTE_OPS: RouteOps = { ops: [], replaced: 0, removed: 0, keys: 0, unchanged: 0 };

export class RouteManager implements DataplaneManager<readonly DesiredRoute[]> {
  /** What the last plan did to the routes (counts for the pass's report). */
  last: RouteOps = NO_ROUTE_OPS;

  constructor(readonly table: RouteTable<DesiredRoute>) {}

  setDesired(routes: readonly DesiredRoute[]): void {
    this.table.setAllDesired(routes);
  }

  reset(state: KernelState): void {
    this.table.reset(state.routes);
  }

  pending(input: PlanInput): PlanPart {
    const up: IfaceName[] = [];
    for (const op of input.before.setup ?? []) {
      // Deleting a device takes its routes with it: they must be written again.
      if (op.op === 'link-delete') this.table.dropRoutesOf(op.name);
      else if (op.op === 'link-up') up.push(op.name);
    }
    this.last = this.table.pending({ allowDeletes: input.allowDeletes, graceIfaces: input.graceIfaces, links: input.links.ready(up) });
    return { routes: this.last.ops };
  }

  applied(plan: Plan, failures: readonly OpFailure[]): void {
    this.table.applied(plan.find((p) => p.name === 'routes')?.ops ?? [], failures);
  }
}
