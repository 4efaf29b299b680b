// The one interface every dataplane manager has: the wanted state of its kind in, the kernel's
// state in, operations out (by phase of the one plan), and the kernel's answer back. The
// dataplane (dataplane.ts) asks its managers in order, so a later one sees what the earlier ones
// planned: the route table, which devices are being created or re-created.
import type { OpFailure } from '../../kernel/kernel.js';
import type { Op, Phase, Plan, Tool } from '../../kernel/plan.js';
import type { KernelState } from '../../kernel/state.js';
import type { IfaceName } from '../../kernel/values.js';
import type { LinkTable } from './link-table.js';

export type PhaseName = Phase['name'];

/** The plan's phases, in the order the kernel takes them (kernel/plan.ts), with the tool of each. */
export const PHASES: readonly { readonly name: PhaseName; readonly tool: Tool }[] = [
  { name: 'setup', tool: 'ip' },
  { name: 'fdb', tool: 'bridge' },
  { name: 'neighbors', tool: 'ip' },
  { name: 'routes', tool: 'ip' },
  { name: 'stale-neighbors', tool: 'ip' },
  { name: 'teardown', tool: 'ip' },
  { name: 'nat', tool: 'nft' },
];

/** A manager's operations for one plan, by phase. */
export type PlanPart = Partial<Record<PhaseName, readonly Op[]>>;

export interface PlanInput {
  readonly allowDeletes: boolean;
  readonly graceIfaces?: ReadonlySet<IfaceName>;
  readonly links: LinkTable;
  /** What the managers asked before this one planned, by phase. */
  readonly before: PlanPart;
}

export interface DataplaneManager<Wanted> {
  /** The wanted state of this manager's kind (a full pass). */
  setDesired(wanted: Wanted): void;
  /** The kernel as read whole: this manager's part of it is decided afresh. */
  reset(state: KernelState): void;
  /** The operations for what differs now (empty when nothing changed since the last plan). */
  pending(input: PlanInput): PlanPart;
  /** The kernel's answer to the plan: accepted writes are the kernel's now; refused ones are looked at again. */
  applied(plan: Plan, failures: readonly OpFailure[]): void;
}

/** The operations of one phase of a plan. */
export function phaseOps(plan: Plan, name: PhaseName): readonly Op[] {
  return plan.find((p) => p.name === name)?.ops ?? [];
}
