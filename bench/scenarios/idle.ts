// Scenario 5, idle cost: CPU seconds (utime+stime+cutime+cstime from /proc, the agent with its
// `ip monitor` and `ip -batch` children) over a window in which nothing changes, beside BIRD's
// over the same window, BIRD idling with the same routes in a namespace of its own. Nothing
// polls the agent during the window; its passes are counted from /metrics before and after.
//
// The window defaults to the agent's resync period (90 s), not 60 s: the resync pass — and the
// garbage collection that follows it — is most of an idle agent's cost, and a 60 s window holds
// one or none depending on where it falls. Over one whole period the average is the agent's
// steady state; the figures are also given per 60 s.
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentEnv } from '../agent-env.js';
import { cpuBetween, treeCpu } from '../proc.js';
import type { Progress } from '../progress.js';
import type { IdleResult } from '../results.js';

export async function idleCost(env: AgentEnv, seconds: number, birdPid: number | undefined, progress: Progress): Promise<IdleResult> {
  const before = await env.agent.idle();
  const agent0 = await treeCpu(env.agent.pid);
  const bird0 = birdPid === undefined ? undefined : await treeCpu(birdPid);
  await sleep(seconds * 1000);
  const agent1 = await treeCpu(env.agent.pid);
  const bird1 = birdPid === undefined ? undefined : await treeCpu(birdPid);
  const after = await env.agent.metrics();
  const result: IdleResult = {
    seconds,
    agentCpuS: cpuBetween(agent0, agent1),
    agentPasses: after.passes - before.passes,
    ...(bird0 !== undefined && bird1 !== undefined ? { birdCpuS: cpuBetween(bird0, bird1) } : {}),
  };
  progress(`idle ${seconds} s at ${env.cluster.expectedRoutes} routes: agent ${result.agentCpuS.toFixed(2)} CPU-s (${result.agentPasses} passes)${result.birdCpuS === undefined ? '' : `, BIRD ${result.birdCpuS.toFixed(2)} CPU-s`}`);
  return result;
}
