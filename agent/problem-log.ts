// The agent's problems in its log: one event per reason, with the count and the first few, and
// only when the summary changes. A pass every few seconds on a cluster with 100,000 refused
// objects would otherwise write 100,000 lines each time, or the same lines again and again.
import type { Logger } from 'pino';
import { NO_PROBLEMS, problemText, reasonsOf, sameSummary, type ProblemSummary } from './problem-summary.js';

export class ProblemLog {
  #last: ProblemSummary = NO_PROBLEMS;

  constructor(private readonly log: Logger) {}

  /** Logs the summary unless it says what the last one logged said. */
  report(summary: ProblemSummary): void {
    if (sameSummary(summary, this.#last)) return;
    this.#last = summary;
    if (summary.total === 0) {
      this.log.info('no problems left');
      return;
    }
    for (const [reason, entry] of reasonsOf(summary)) {
      this.log.warn({ reason, count: entry.count, first: entry.first.map(problemText), total: summary.total }, 'problems');
    }
  }
}
