// wren's NAT tables (Calico's natOutgoing): the tables the admitted pools want (routing/nat.ts)
// against the tables as last read (kernel/nat/), the operations for what differs
// (kernel/nat/nat-diff.ts), and the kernel's answer folded back. All of a plan's NAT operations
// are one phase, run as one `nft -f -` transaction.
//
// Nothing is decided without a read: until the first one (and after a refused transaction, or
// a change the nft monitor reported) the manager is stale and plans nothing; the pass reads the
// tables first. A node without nft or nf_tables plans nothing at all, and says so as a problem
// while a pool wants NAT; routing goes on. Drift — wren's table deleted or changed by hand — is
// found by the next read and repaired; such writes are counted as repairs.
import type { OpFailure } from '../../kernel/kernel.js';
import type { NatOp } from '../../kernel/nat/nat-render.js';
import type { Plan } from '../../kernel/plan.js';
import type { KernelState } from '../../kernel/state.js';
import { renderNatOp } from '../../kernel/nat/nat-render.js';
import { natTableOps } from '../../kernel/nat/nat-diff.js';
import { FAMILIES, NAT_TABLE, type NatRead, type NatTable } from '../../kernel/nat/nat-state.js';
import type { Family } from '../../kernel/values.js';
import type { ObjectProblem } from '../../routing/cluster.js';
import { NO_NAT, natTableOf, type DesiredNat } from '../../routing/nat.js';
import { phaseOps, type DataplaneManager, type PlanPart } from './manager.js';

/** What `/status` and the metrics show of NAT. */
export interface NatStatus {
  /** False on a node without nft or nf_tables (`unsupported` says which). */
  readonly supported: boolean;
  readonly unsupported?: string;
  /** The tables the pools want: a family with a natOutgoing pool has one. */
  readonly wanted: readonly NatTable[];
  /** The families whose table is in the kernel, as last read or written. */
  readonly present: readonly Family[];
  /** Transactions that put a table right after it had drifted from what wren wrote. */
  readonly repairs: number;
  /** Why wren holds back a repair (its table reads back unlike what it wrote), if it does. */
  readonly held?: string;
}

/** A repair identical to the last one this soon after it means the table does not read back as written. */
const SAME_REPAIR_MS = 1000;

export class NatManager implements DataplaneManager<DesiredNat> {
  private desired: DesiredNat = NO_NAT;
  /** The tables as last read or written; undefined before the first read (or on a kernel without NAT). */
  private actual: NatRead | undefined;
  /** A read is due before anything is decided: none yet, a refused transaction, a change seen. */
  private unread = true;
  private dirty = false;
  /** The wanted tables have been written (or found) since they last changed: a write now is a repair. */
  private settled = false;
  private repairs = 0;
  private lastRepair: { text: string; at: number } | undefined;
  private held: string | undefined;

  constructor(private readonly now: () => number = () => performance.now()) {}

  setDesired(nat: DesiredNat): void {
    if (JSON.stringify(nat) !== JSON.stringify(this.desired)) this.settled = false;
    this.desired = nat;
    this.dirty = true;
  }

  reset(state: KernelState): void {
    this.readTables(state.nat);
  }

  /** A read of the kernel's tables (undefined: this kernel has no NAT): decided afresh against it. */
  readTables(read: NatRead | undefined): void {
    this.actual = read;
    this.unread = read === undefined;
    this.dirty = true;
  }

  /** The tables must be read before the next decision (the nft monitor saw a change). */
  markStale(): void {
    this.unread = true;
  }

  get stale(): boolean {
    return this.unread;
  }

  pending(): PlanPart {
    return { nat: this.ops() };
  }

  /** The operations for what differs, when either side changed since the last plan. */
  ops(): NatOp[] {
    const actual = this.actual;
    if (!this.dirty || this.unread || actual === undefined || !actual.supported) return [];
    this.dirty = false;
    const ops = FAMILIES.flatMap((f) => natTableOps(natTableOf(this.desired, f), actual.tables[f]));
    if (ops.length === 0) {
      this.settled = true;
      this.held = undefined;
      return ops;
    }
    if (!this.settled) return ops;
    // Drift. The same repair again at once would be a loop: wren's own write reads back unlike
    // what it wrote (another nft's JSON, say). Held until the tables or the pools change.
    const text = ops.flatMap(renderNatOp).join('\n');
    if (this.lastRepair?.text === text && this.now() - this.lastRepair.at < SAME_REPAIR_MS) {
      this.held = `${NAT_TABLE} reads back unlike what wren wrote; not rewritten again until it or a pool changes`;
      return [];
    }
    this.lastRepair = { text, at: this.now() };
    this.repairs += 1;
    return ops;
  }

  /** The kernel's answer to a plan with NAT operations: applied, the tables are as wanted; refused, they are read again first. */
  applied(plan: Plan, failures: readonly OpFailure[]): void {
    if (phaseOps(plan, 'nat').length === 0) return;
    const refused = failures.some((f) => f.phase === 'nat');
    if (refused) {
      this.unread = true;
      return;
    }
    const tables = { 4: undefined, 6: undefined } as Record<Family, ReturnType<typeof natTableOf>>;
    for (const t of this.desired.tables) tables[t.family] = t;
    this.actual = { supported: true, tables };
    this.settled = true;
  }

  /** A node that cannot have the NAT a pool wants, and a repair held back: each one problem. */
  problems(nodeName: string): ObjectProblem[] {
    const problems = natProblems(this.desired, this.actual, nodeName);
    if (this.held !== undefined) problems.push({ kind: 'Node', name: nodeName, field: 'natOutgoing', message: this.held });
    return problems;
  }

  status(): NatStatus {
    const actual = this.actual;
    const present = actual?.supported === true ? FAMILIES.filter((f) => actual.tables[f] !== undefined) : [];
    return {
      supported: actual?.supported !== false,
      ...(actual?.supported === false ? { unsupported: actual.reason } : {}),
      wanted: this.desired.tables,
      present,
      repairs: this.repairs,
      ...(this.held === undefined ? {} : { held: this.held }),
    };
  }
}

/** While a pool wants NAT on a node that cannot have it (no nft, no nf_tables): one problem saying so. */
export function natProblems(desired: DesiredNat, read: NatRead | undefined, nodeName: string): ObjectProblem[] {
  if (read?.supported !== false || desired.tables.length === 0) return [];
  const families = desired.tables.map((t) => `IPv${t.family}`).join(' and ');
  return [{ kind: 'Node', name: nodeName, field: 'natOutgoing', message: `${families} pools have natOutgoing but ${read.reason}: their traffic leaves this node unmasqueraded` }];
}
