// The kernel double's fault switches (kernel-double.ts): each armed for a number of firings,
// each counting its hits so a test can check that the fault it injected was actually met.
import type { Op } from '../../kernel/plan.js';

export type ReadKind = 'routes' | 'listing' | 'links' | 'neighbors' | 'fdb';

/** A fault switch as the test sees it: how often it fired, and how many firings are left. */
export interface Fault {
  readonly hits: number;
  readonly remaining: number;
}

interface Armed {
  hits: number;
  remaining: number;
}

interface LineFault extends Armed {
  readonly match: (op: Op, line: string) => boolean;
  readonly error: string;
}

interface ReadFault extends Armed {
  readonly what: ReadKind | 'any';
  readonly error: string;
}

interface KillFault extends Armed {
  readonly afterLine: number;
}

export class DoubleFaults {
  private readonly lines: LineFault[] = [];
  private readonly reads: ReadFault[] = [];
  private readonly kills: KillFault[] = [];

  failNext(match: LineFault['match'], error: string, count: number): Fault {
    return push(this.lines, { match, error, hits: 0, remaining: count });
  }

  failNextRead(what: ReadFault['what'], error: string, count: number): Fault {
    return push(this.reads, { what, error, hits: 0, remaining: count });
  }

  killMidBatch(afterLine: number): Fault {
    return push(this.kills, { afterLine, hits: 0, remaining: 1 });
  }

  /** The error to refuse this line with, if a fault takes it. */
  line(op: Op, line: string): string | undefined {
    return fire(this.lines.find((f) => f.remaining > 0 && f.match(op, line)))?.error;
  }

  /** The error this read fails with, if a fault takes it. */
  read(what: ReadKind): string | undefined {
    return fire(this.reads.find((f) => f.remaining > 0 && (f.what === what || f.what === 'any')))?.error;
  }

  /** Whether the batch process dies now, with `done` lines of this apply run. */
  dies(done: number): boolean {
    return fire(this.kills.find((k) => k.remaining > 0 && k.afterLine === done)) !== undefined;
  }
}

function push<T extends Armed>(list: T[], fault: T): Fault {
  list.push(fault);
  return fault;
}

function fire<T extends Armed>(fault: T | undefined): T | undefined {
  if (fault === undefined) return undefined;
  fault.remaining -= 1;
  fault.hits += 1;
  return fault;
}
