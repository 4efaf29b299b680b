// What is wrong with each object right now, so each distinct problem (kind, name, field,
// message) is reported once while it lasts, not on every watch event or relist. Once the object
// is fixed or deleted its entry goes, and the same problem coming back is news again.
import type { ObjectProblem } from '../../routing/cluster.js';
import type { ObjectKind } from './api.js';

export type ProblemSink = (problem: ObjectProblem) => void;

interface Entry {
  readonly problems: readonly ObjectProblem[];
  /** Rejected (missing from the snapshot), rather than kept with a field dropped. */
  readonly invalid: boolean;
}

export class ProblemLedger {
  readonly #entries = new Map<ObjectKind, Map<string, Entry>>();
  readonly #report: ProblemSink;

  constructor(report: ProblemSink) {
    this.#report = report;
  }

  /** Records the object's problems now (none: forget it), reporting those not already known. */
  track(kind: ObjectKind, key: string, problems: readonly ObjectProblem[], invalid: boolean): void {
    let byKey = this.#entries.get(kind);
    if (byKey === undefined) this.#entries.set(kind, (byKey = new Map()));
    const known = new Set((byKey.get(key)?.problems ?? []).map(signature));
    for (const problem of problems) if (!known.has(signature(problem))) this.#report(problem);
    if (problems.length === 0 && !invalid) byKey.delete(key);
    else byKey.set(key, { problems, invalid });
  }

  keys(kind: ObjectKind): string[] {
    return [...(this.#entries.get(kind)?.keys() ?? [])];
  }

  get invalidCount(): number {
    return this.#all().filter((entry) => entry.invalid).length;
  }

  problems(): ObjectProblem[] {
    return this.#all().flatMap((entry) => entry.problems);
  }

  #all(): Entry[] {
    return [...this.#entries.values()].flatMap((byKey) => [...byKey.values()]);
  }
}

function signature(problem: ObjectProblem): string {
  return JSON.stringify([problem.kind, problem.name, problem.field, problem.message]);
}
