// Scenario 5, idle cost: CPU seconds (utime+stime+cutime+cstime from /proc, the agent with its
// `ip monitor` and `ip -batch` children) over a window in which nothing changes, beside BIRD's
// over the same window, BIRD idling with the same routes in a namespace of its own. Nothing
// polls the agent during the window; its passes are counted from /metrics before and after.
//
// The window defaults to the agent's resync period (90 s), not 60 s: the resync pass — and the
// garbage collection that follows it — is most of an idle agent's cost, and a 60 s window holds
// one or none depending on where it falls. Over one whole period the average is the agent's
// steady state; the figures are also given per 60 s. Such a window starts after the agent's first
// resync: the first check after start looks at every line of the table once (the echoes of its
// own writes leave little to parse, but the listing is still split and looked up line by line),
// a start-up cost reported apart, as that pass's duration, rather than an idle one.
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentEnv } from '../agent-env.js';
import { AGENT_RESYNC_S, type AgentProcess } from '../agent-process.js';
import { cpuBetween, treeCpu } from '../proc.js';
import type { Progress } from '../progress.js';
import type { IdleResult } from '../results.js';

export async function idleCost(env: AgentEnv, seconds: number, birdPid: number | undefined, progress: Progress): Promise<IdleResult> {
  const firstResyncMs = seconds >= AGENT_RESYNC_S ? await firstResync(env.agent) : undefined;
  await env.agent.idle();
  const before = await env.agent.metrics();
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
    ...(firstResyncMs === undefined ? {} : { firstResyncMs }),
    ...(bird0 !== undefined && bird1 !== undefined ? { birdCpuS: cpuBetween(bird0, bird1) } : {}),
  };
  progress(`idle ${seconds} s at ${env.cluster.expectedRoutes} routes: agent ${result.agentCpuS.toFixed(2)} CPU-s (${result.agentPasses} passes)${result.birdCpuS === undefined ? '' : `, BIRD ${result.birdCpuS.toFixed(2)} CPU-s`}`);
  return result;
}

/** Waits for the agent's first resync pass (it runs one period after start) and returns its duration. */
async function firstResync(agent: AgentProcess): Promise<number> {
  const deadline = performance.now() + (AGENT_RESYNC_S + 60) * 1000;
  for (;;) {
    const pass = (await agent.passesLogged(0)).find((p) => p.reasons.includes('resync'));
    if (pass !== undefined) return pass.ms;
    if (performance.now() > deadline) throw new Error(`the agent in ${agent.netns} logged no resync pass within ${AGENT_RESYNC_S + 60} s`);
    await sleep(500);
  }
}
