// What the reconcile loop (loop.ts) is configured with and tells its observers.
import type { LoopReport } from './loop-report.js';
import type { MtuFileStatus } from './mtu-file-keeper.js';

export interface LoopOptions {
  readonly resyncIntervalMs: number;
  readonly graceMs: number;
  readonly retryInitialMs: number;
  readonly retryMaxMs: number;
  readonly mtuFile?: string;
}

export const DEFAULT_LOOP_OPTIONS: LoopOptions = { resyncIntervalMs: 90_000, graceMs: 10_000, retryInitialMs: 100, retryMaxMs: 10_000 };

export interface PassObserver {
  /** Called after every pass, successful or not. */
  onPass(report: LoopReport | undefined, error: unknown, trigger: PassTrigger): void;
}

export interface PassTrigger {
  readonly reasons: ReadonlySet<string>;
  /** When the oldest event this pass answers was seen (performance.now()). */
  readonly since: number;
}

export interface LoopStatus {
  readonly inSync: boolean;
  /** start() has been called: the agent calls it once the node is registered. */
  readonly started: boolean;
  readonly passes: number;
  readonly running: boolean;
  readonly lastPassAt?: number;
  readonly lastSuccessAt?: number;
  readonly lastError?: string;
  readonly lastReport?: LoopReport;
  /** Why the cluster as it is now is refused (no pass runs, nothing is withdrawn). */
  readonly clusterRefused?: string;
  readonly mtuFile?: MtuFileStatus;
}
