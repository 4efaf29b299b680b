// Memory under load: a running agent's resident set while 30 /metrics requests arrive at once,
// then 30 /status requests, as dashboards and a curious team would send them (/metrics first: a
// /status dry run leaves the heap it grew resident, which would hide what /metrics costs). The kernel's peak
// counter (VmHWM) is reset before each burst (/proc/PID/clear_refs), so the peak reported is the
// burst's, not start-up's; the agent's process tree (its `ip` children too, which a pod's memory
// limit also counts) is sampled every 10 ms as well. Each burst is repeated (ROUNDS) more than
// the /status reuse window apart, so each /status burst runs a fresh computation.
//
// With --only status-load the agent is started for this alone (`statusLoadSuite`); a full run
// measures it at the end of the agent scenarios, on the same agent.
import { setTimeout as sleep } from 'node:timers/promises';
import { httpGet } from '../../util/index.js';
import { STATUS_MAX_AGE_MS } from '../../agent/index.js';
import { startAgentEnv, type AgentEnv } from '../agent-env.js';
import { buildCluster } from '../cluster.js';
import { memory, resetPeakMemory, treeRssKb } from '../proc.js';
import type { Progress } from '../progress.js';
import type { BurstResult, LoadResult, StatusLoadResult } from '../results.js';

export const CONCURRENCY = 30;
const ROUNDS = 3;
const MB = 1024;

export async function memoryUnderLoad(env: AgentEnv, progress: Progress): Promise<LoadResult> {
  await env.agent.idle();
  const idle = await memory(env.agent.pid);
  if (idle === undefined) throw new Error('agent is gone');
  const metrics = await bursts(env, '/metrics');
  const status = await bursts(env, '/status');
  const result: LoadResult = { startTreePeakMb: env.startTreePeakMb, concurrency: CONCURRENCY, idleRssMb: idle.rssKb / MB, status, metrics };
  progress(`${CONCURRENCY} concurrent /status at ${env.cluster.expectedRoutes} routes: peak ${status.peakMb.toFixed(0)} MB (tree ${status.treePeakMb.toFixed(0)} MB), ${status.computations} computation(s) in ${ROUNDS} bursts; /metrics: peak ${metrics.peakMb.toFixed(0)} MB`);
  return result;
}

/** The agent started for this measurement alone, then the load. */
export async function statusLoadSuite(o: { stem: string; blocks: number; blocksPerNode: number; pods: number }, progress: Progress): Promise<StatusLoadResult> {
  const cluster = buildCluster({ blocks: o.blocks, pods: o.pods, encap: 'vxlan', localTunnel: false, blocksPerNode: o.blocksPerNode });
  const env = await startAgentEnv(cluster, { stem: o.stem });
  try {
    progress(`agent at ${cluster.expectedRoutes} routes: started and converged in ${Math.round(env.startMs)} ms`);
    const start = await memory(env.agent.pid);
    if (start === undefined) throw new Error('agent is gone');
    const load = await memoryUnderLoad(env, progress);
    return { encap: 'vxlan', blocks: o.blocks, routes: cluster.expectedRoutes, remoteNodes: cluster.remoteNodes, pods: o.pods, startMs: env.startMs, startHwmMb: start.hwmKb / MB, load };
  } finally {
    await env.close();
  }
}

/** ROUNDS bursts of CONCURRENCY requests for `path`; the worst round's figures. */
async function bursts(env: AgentEnv, path: '/status' | '/metrics'): Promise<BurstResult> {
  const pid = env.agent.pid;
  const before = await statusComputations(env);
  let worst: BurstResult | undefined;
  for (let round = 0; round < ROUNDS; round++) {
    await sleep(STATUS_MAX_AGE_MS + 200);
    await resetPeakMemory(pid);
    let treePeakKb = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        treePeakKb = Math.max(treePeakKb, await treeRssKb(pid));
        await sleep(10);
      }
    })();
    const started = performance.now();
    const answers = await Promise.all(Array.from({ length: CONCURRENCY }, () => httpGet({ path: env.agent.socket }, path, 120_000)));
    const ms = performance.now() - started;
    sampling = false;
    await sampler;
    const failed = answers.find((a) => a.status !== 200);
    if (failed !== undefined) throw new Error(`agent ${path} answered ${failed.status}: ${failed.body.slice(0, 200)}`);
    const after = await memory(pid);
    if (after === undefined) throw new Error('agent is gone');
    const burst = { peakMb: after.hwmKb / MB, rssAfterMb: after.rssKb / MB, treePeakMb: treePeakKb / MB, ms, bytes: answers.reduce((most, a) => Math.max(most, Buffer.byteLength(a.body)), 0), computations: 0 };
    if (worst === undefined || burst.peakMb > worst.peakMb) worst = burst;
  }
  if (worst === undefined) throw new Error('no burst ran');
  return { ...worst, computations: (await statusComputations(env)) - before };
}

async function statusComputations(env: AgentEnv): Promise<number> {
  const { body } = await httpGet({ path: env.agent.socket }, '/metrics', 10_000);
  return Number(/^wren_status_computations_total (\d+)$/m.exec(body)?.[1] ?? Number.NaN);
}
