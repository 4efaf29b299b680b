// Scenario 4, drift repair: one of wren's routes deleted by hand (`ip route del`), repeatedly,
// each time a different remote block's. The latency is between two lines of the same `ip
// monitor`: the deletion and the route's return, so how the deletion was made does not count.
import type { AgentEnv } from '../agent-env.js';
import { deleteRoute } from '../kernel-routes.js';
import type { Progress } from '../progress.js';
import type { RouteMonitor } from '../route-monitor.js';
import { latency, type Latency } from '../stats.js';
import type { ChangeOptions } from './one-change.js';

const LINE_TIMEOUT_MS = 30_000;

export async function driftRepair(env: AgentEnv, monitor: RouteMonitor, options: ChangeOptions, progress: Progress): Promise<Latency> {
  const samples: number[] = [];
  const started = performance.now();
  // Remote blocks, in order: the routes whose loss breaks traffic to another node.
  const remote = env.cluster.snapshot.blocks.filter((b) => b.affinityNode !== env.cluster.localNode);
  for (let k = 0; k < options.changes; k++) {
    if (k >= options.minChanges && performance.now() - started > options.budgetMs) break;
    const dst = remote[(k * 7919) % remote.length]?.cidr;
    if (dst === undefined) throw new Error('no remote block to delete');
    await env.agent.idle();
    const gone = monitor.next((l) => l.startsWith(`Deleted ${dst} `), LINE_TIMEOUT_MS);
    const back = monitor.next((l) => l.startsWith(`${dst} `), LINE_TIMEOUT_MS);
    await deleteRoute(env.netns, dst, 199);
    const [a, b] = await Promise.all([gone, back]);
    samples.push(b.at - a.at);
  }
  const result = latency(samples);
  progress(`drift repair at ${env.cluster.expectedRoutes} routes: ${samples.length} repairs p50 ${result.p50.toFixed(1)} ms p99 ${result.p99.toFixed(1)} ms`);
  return result;
}
