// Every namespace the benchmark makes is `wren-b-<6 hex>-…`: the hex is per run, so two runs
// never collide and a crashed run's leftovers are recognisable (and removable by that prefix).
import { randomBytes } from 'node:crypto';

export const BENCH_PREFIX = 'wren-b';

export function runStem(): string {
  return `${BENCH_PREFIX}-${randomBytes(3).toString('hex')}`;
}

let counter = 0;

/** A fresh namespace name under the run's stem: `<stem>-<label><n>`. */
export function netnsName(stem: string, label: string): string {
  counter += 1;
  return `${stem}-${label}${counter}`;
}
