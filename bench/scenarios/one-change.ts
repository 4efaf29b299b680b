// Scenario 2, one change: a block added in etcd, then deleted, one at a time, against a running
// agent. Latency is from just before the etcd write is issued to the route's line on `ip monitor`
// (a long-lived one, started before), timed by the monitor's own stamp. Between changes the agent
// is left to go idle, so every sample starts from a quiet agent.
import { blockKey } from '../../calico/index.js';
import { block } from '../../test/support/index.js';
import type { AgentEnv } from '../agent-env.js';
import { remoteName, spareBlockCidr } from '../cluster.js';
import { blockKv } from '../etcd-kvs.js';
import type { Progress } from '../progress.js';
import type { RouteMonitor } from '../route-monitor.js';
import { latency, type Latency } from '../stats.js';

export interface ChangeOptions {
  readonly changes: number;
  /** Stop early (with at least `minChanges`) once this much time has gone by. */
  readonly budgetMs: number;
  readonly minChanges: number;
}

const LINE_TIMEOUT_MS = 30_000;

export async function oneChange(env: AgentEnv, monitor: RouteMonitor, options: ChangeOptions, progress: Progress): Promise<{ add: Latency; del: Latency; all: Latency }> {
  const adds: number[] = [];
  const dels: number[] = [];
  const started = performance.now();
  const { blocks, pods } = env.cluster.spec;
  for (let k = 0; k < options.changes; k++) {
    if (k >= options.minChanges && performance.now() - started > options.budgetMs) break;
    const cidr = spareBlockCidr(blocks, pods, k);
    const kv = blockKv(block(cidr, remoteName(k % env.cluster.remoteNodes), [[0]]));
    const key = blockKey(cidr);

    await env.agent.idle();
    const added = monitor.next((l) => l.startsWith(`${cidr} `), LINE_TIMEOUT_MS);
    const t0 = performance.now();
    const created = await env.etcd.create(key, kv.value);
    if (!created.ok) throw new Error(`block ${cidr} already in etcd`);
    adds.push((await added).at - t0);

    await env.agent.idle();
    const removed = monitor.next((l) => l.startsWith(`Deleted ${cidr} `), LINE_TIMEOUT_MS);
    const t1 = performance.now();
    const deleted = await env.etcd.compareAndDelete(key, created.revision);
    if (!deleted.ok) throw new Error(`block ${cidr}: delete lost a race (${deleted.reason})`);
    dels.push((await removed).at - t1);
  }
  const result = { add: latency(adds), del: latency(dels), all: latency([...adds, ...dels]) };
  progress(`one change at ${env.cluster.expectedRoutes} routes: ${adds.length} adds p50 ${result.add.p50.toFixed(1)} ms p99 ${result.add.p99.toFixed(1)} ms, ${dels.length} deletes p50 ${result.del.p50.toFixed(1)} ms p99 ${result.del.p99.toFixed(1)} ms`);
  return result;
}
