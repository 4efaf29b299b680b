// Problems counted per reason, with the first few of each listed. A cluster where 100,000 blocks
// name a node that does not exist gives one reason with a count and three examples, on stderr,
// in the agent's log, in /status and in the metric — not 100,000 lines.
//
// "First" is by kind, name, field and message, not by arrival: the same problems give the same
// summary in whatever order a datastore or the routing engine hands them over, so the agent can
// log a summary only when it changes.
import { PROBLEM_REASONS, reasonOf, type ObjectProblem, type ProblemReason } from '../routing/cluster.js';

/** Problems listed per reason; the rest are counted. */
export const PROBLEMS_LISTED = 3;

export interface ReasonSummary {
  readonly count: number;
  readonly first: readonly ObjectProblem[];
}

export interface ProblemSummary {
  readonly total: number;
  /** Only reasons that occur, in PROBLEM_REASONS order. */
  readonly byReason: Readonly<Partial<Record<ProblemReason, ReasonSummary>>>;
}

export const NO_PROBLEMS: ProblemSummary = { total: 0, byReason: {} };

/** One pass over the problems, however many: each reason keeps a count and its smallest few. */
export function summariseProblems(problems: Iterable<ObjectProblem>, listed = PROBLEMS_LISTED): ProblemSummary {
  const counts = new Map<ProblemReason, { count: number; first: ObjectProblem[] }>();
  let total = 0;
  for (const problem of problems) {
    total += 1;
    const reason = reasonOf(problem);
    let entry = counts.get(reason);
    if (entry === undefined) counts.set(reason, (entry = { count: 0, first: [] }));
    entry.count += 1;
    keepSmallest(entry.first, problem, listed);
  }
  const byReason: Partial<Record<ProblemReason, ReasonSummary>> = {};
  for (const reason of PROBLEM_REASONS) {
    const entry = counts.get(reason);
    if (entry !== undefined) byReason[reason] = { count: entry.count, first: entry.first.map(withoutReason) };
  }
  return { total, byReason };
}

/** The reasons that occur, with their summaries, in PROBLEM_REASONS order. */
export function reasonsOf(summary: ProblemSummary): [ProblemReason, ReasonSummary][] {
  const out: [ProblemReason, ReasonSummary][] = [];
  for (const reason of PROBLEM_REASONS) {
    const entry = summary.byReason[reason];
    if (entry !== undefined) out.push([reason, entry]);
  }
  return out;
}

/** Whether two summaries say the same: counts and listed problems alike. */
export function sameSummary(a: ProblemSummary, b: ProblemSummary): boolean {
  if (a.total !== b.total) return false;
  return PROBLEM_REASONS.every((reason) => {
    const x = a.byReason[reason];
    const y = b.byReason[reason];
    if (x === undefined || y === undefined) return x === y;
    return x.count === y.count && x.first.length === y.first.length && x.first.every((p, i) => compareProblems(p, y.first[i] as ObjectProblem) === 0);
  });
}

/** `KIND NAME FIELD: message`, the one-line form of a problem. */
export function problemText(p: ObjectProblem): string {
  return `${p.kind}/${p.name} ${p.field}: ${p.message}`;
}

/** Lines for a person: each listed problem, then how many more of that reason were not listed. */
export function summaryLines(summary: ProblemSummary): string[] {
  const lines: string[] = [];
  for (const [reason, entry] of reasonsOf(summary)) {
    for (const p of entry.first) lines.push(problemText(p));
    const more = entry.count - entry.first.length;
    if (more > 0) lines.push(`… and ${more} more ${reason}`);
  }
  return lines;
}

/** Inserts `problem` into `smallest` (sorted, at most `limit` long) if it belongs there. */
function keepSmallest(smallest: ObjectProblem[], problem: ObjectProblem, limit: number): void {
  if (limit <= 0) return;
  const last = smallest[smallest.length - 1];
  if (smallest.length === limit && last !== undefined && compareProblems(problem, last) >= 0) return;
  let at = smallest.length;
  while (at > 0 && compareProblems(problem, smallest[at - 1] as ObjectProblem) < 0) at -= 1;
  smallest.splice(at, 0, problem);
  if (smallest.length > limit) smallest.pop();
}

function compareProblems(a: ObjectProblem, b: ObjectProblem): number {
  return compareText(a.kind, b.kind) || compareText(a.name, b.name) || compareText(a.field, b.field) || compareText(a.message, b.message);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The reason is the summary's key already. */
function withoutReason(p: ObjectProblem): ObjectProblem {
  return { kind: p.kind, name: p.name, field: p.field, message: p.message };
}
