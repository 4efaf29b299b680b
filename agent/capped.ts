// "The first N, and how many there are": how every list that grows with the cluster (pending
// diff, held routes, conflicts, problems) is reported, so a /status answer or a log line stays
// the same size at 100 blocks and at 100,000. The items are walked once and only N are kept.

export interface Capped<T> {
  /** How many items there were in all. */
  readonly total: number;
  /** The first `n` of them, in their order. */
  readonly first: T[];
}

export function capped<T>(items: Iterable<T>, n: number): Capped<T> {
  const first: T[] = [];
  let total = 0;
  for (const item of items) {
    if (total < n) first.push(item);
    total += 1;
  }
  return { total, first };
}
