// Request counters per qualified resource and verb, so tests can assert protocol behaviour such as
// "the informer relisted" (one more list) or "it re-watched" (one more watch).
import type { Verb } from './types.js';
import { VERBS } from './types.js';

export type ResourceStats = Record<Verb, number> & { openWatches: number };

const zero = (): ResourceStats => ({ ...(Object.fromEntries(VERBS.map((v) => [v, 0])) as Record<Verb, number>), openWatches: 0 });

export class RequestStats {
  private readonly byResource = new Map<string, ResourceStats>();

  private entry(resource: string): ResourceStats {
    let e = this.byResource.get(resource);
    if (e === undefined) {
      e = zero();
      this.byResource.set(resource, e);
    }
    return e;
  }

  count(resource: string, verb: Verb): void {
    this.entry(resource)[verb]++;
  }

  watchOpened(resource: string): void {
    this.entry(resource).openWatches++;
  }

  watchClosed(resource: string): void {
    this.entry(resource).openWatches--;
  }

  /** A copy; resources never requested read as all zeroes. */
  snapshot(resources: readonly string[]): Record<string, ResourceStats> {
    return Object.fromEntries(resources.map((r) => [r, { ...(this.byResource.get(r) ?? zero()) }]));
  }
}
