// /status as the HTTP server serves it: one dry-run computation shared by the requests that
// arrive while it runs, and its answer reused for STATUS_MAX_AGE_MS after, whatever the number
// of callers. `wren_status_computations_total` counts the computations actually run, so an
// operator (and the test) can see that a burst of requests cost one.
import { Counter, type Registry } from 'prom-client';
import { SharedResult } from './shared-result.js';

export const STATUS_MAX_AGE_MS = 1000;

export function sharedStatus<T extends object>(compute: () => Promise<T>, registry: Registry): () => Promise<T & { computedAt: string }> {
  const shared = new SharedResult(async () => ({ ...(await compute()), computedAt: new Date().toISOString() }), STATUS_MAX_AGE_MS);
  new Counter({
    name: 'wren_status_computations_total',
    help: 'Status reports computed (a dry-run pass each); concurrent /status requests share one',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(shared.computations);
    },
  });
  return () => shared.get();
}
