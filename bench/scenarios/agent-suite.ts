// Scenarios 2–5 at one size, against one running agent: the cluster loaded into etcd, the agent
// started and converged, then one change, drift repair, the unchanged pass, idle cost (beside a
// BIRD holding the same routes in a namespace of its own), the agent's memory, and its memory
// under 30 concurrent /status and /metrics requests.
import { startAgentEnv } from '../agent-env.js';
import { buildCluster, LOCAL_NODE } from '../cluster.js';
import { setUpNonRoutes, startBird, type RunningBird } from '../contenders/bird.js';
import { countRoutes } from '../kernel-routes.js';
import { netnsName } from '../names.js';
import { createNodeNs, type NodeNs } from '../node-ns.js';
import { memory } from '../proc.js';
import type { Progress } from '../progress.js';
import type { AgentResult, IdleResult } from '../results.js';
import { RouteMonitor } from '../route-monitor.js';
import { planFor } from '../wren-lines.js';
import { waitQuiet } from '../quiet.js';
import { driftRepair } from './drift.js';
import { idleCost } from './idle.js';
import { oneChange, type ChangeOptions } from './one-change.js';
import { memoryUnderLoad } from './status-load.js';
import { agentUnchangedPass } from './unchanged-pass.js';

export interface AgentSuiteOptions {
  readonly stem: string;
  readonly blocks: number;
  readonly blocksPerNode: number;
  readonly pods: number;
  readonly changes: ChangeOptions;
  readonly unchangedReps: number;
  /** Undefined: no idle measurement at this size. */
  readonly idleSeconds?: number;
  readonly bird: boolean;
}

const MB = 1024;

export async function agentSuite(o: AgentSuiteOptions, progress: Progress): Promise<AgentResult> {
  const cluster = buildCluster({ blocks: o.blocks, pods: o.pods, encap: 'vxlan', localTunnel: false, blocksPerNode: o.blocksPerNode });
  const env = await startAgentEnv(cluster, { stem: o.stem });
  let monitor: RouteMonitor | undefined;
  try {
    progress(`agent at ${cluster.expectedRoutes} routes: started and converged in ${Math.round(env.startMs)} ms`);
    monitor = new RouteMonitor(env.netns);
    await monitor.ready();
    // Each scenario starts on a quiet machine: a namespace deleted earlier (a cold-sync run's,
    // with 100,000 routes) is torn down later by kernel workers that hold the RTNL lock, and a
    // route written meanwhile waits for it.
    await waitQuiet();
    const change = await oneChange(env, monitor, o.changes, progress);
    await waitQuiet();
    const drift = await driftRepair(env, monitor, o.changes, progress);
    await waitQuiet();
    const unchangedPass = await agentUnchangedPass(env, monitor, o.unchangedReps, progress);
    let idle: IdleResult | undefined;
    let birdHwmMb: number | undefined;
    if (o.idleSeconds !== undefined) {
      const withBird = o.bird ? await idleBird(o, progress) : undefined;
      try {
        idle = await idleCost(env, o.idleSeconds, withBird?.bird.pid, progress);
        const birdMem = withBird === undefined ? undefined : await memory(withBird.bird.pid);
        birdHwmMb = birdMem === undefined ? undefined : birdMem.hwmKb / MB;
      } finally {
        await withBird?.close();
      }
    }
    const mem = await memory(env.agent.pid);
    if (mem === undefined) throw new Error('agent is gone');
    // Last: the bursts reset the agent's VmHWM, so the peak above is taken first.
    const load = await memoryUnderLoad(env, progress);
    return {
      encap: 'vxlan',
      blocks: o.blocks,
      routes: cluster.expectedRoutes,
      remoteNodes: cluster.remoteNodes,
      pods: o.pods,
      startMs: env.startMs,
      change,
      drift,
      unchangedPass,
      ...(idle === undefined ? {} : { idle }),
      agentHwmMb: mem.hwmKb / MB,
      agentRssMb: mem.rssKb / MB,
      ...(birdHwmMb === undefined ? {} : { birdHwmMb }),
      load,
    };
  } finally {
    monitor?.stop();
    await env.close();
  }
}

/** BIRD holding the same routes, converged, in a node namespace of its own, for the idle window. */
async function idleBird(o: AgentSuiteOptions, progress: Progress): Promise<{ bird: RunningBird; close: () => Promise<void> }> {
  const cluster = buildCluster({ blocks: o.blocks, pods: o.pods, encap: 'vxlan', localTunnel: true, blocksPerNode: o.blocksPerNode });
  const ns: NodeNs = await createNodeNs(netnsName(o.stem, 'i'), cluster.localCidr, cluster.localIfaces);
  const monitor = new RouteMonitor(ns.name);
  let bird: RunningBird | undefined;
  const close = async () => {
    await bird?.stop();
    monitor.stop();
    await ns.remove();
  };
  try {
    const plan = await planFor(ns.name, cluster.snapshot, LOCAL_NODE);
    await setUpNonRoutes(ns.name, plan.phases);
    await monitor.ready();
    bird = await startBird(ns.name, cluster.localCidr.split('/')[0] ?? '', plan.routes, monitor, 120_000);
    const n = await countRoutes(ns.name, 'bird');
    if (n !== cluster.expectedRoutes) throw new Error(`BIRD for the idle window: ${n} routes, expected ${cluster.expectedRoutes}`);
    monitor.stop();
    progress(`BIRD idling beside the agent with ${n} routes`);
    return { bird, close };
  } catch (error) {
    await close();
    throw error;
  }
}
