// The agent scenarios' world, the lab's wiring at benchmark scale: an underlay namespace with
// a bridge and Debian's etcd on the bridge's gateway address (data on tmpfs, so a disk's fsync
// is not in the figures), one node namespace with `eth0` on the bridge and a `cali…` veth per
// local pod, the cluster loaded into etcd, and `wren agent` in the node namespace reading etcd
// over the underlay. This process reaches etcd through its unix socket.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EtcdClient } from '../calico/index.js';
import { runOk } from '../kernel/index.js';
import { createTopology, startEtcdServer, type EtcdServer, type Topology } from '../lab/index.js';
import { AgentProcess } from './agent-process.js';
import type { BenchCluster } from './cluster.js';
import { NODE_SUBNET } from './cluster.js';
import { clusterKvs } from './etcd-kvs.js';
import { bulkLoad } from './etcd-load.js';
import { countRoutes } from './kernel-routes.js';
import { cleanupStack } from './cleanup-stack.js';
import { caliLines } from './node-ns.js';
import { treeRssKb } from './proc.js';

export interface AgentEnv {
  readonly cluster: BenchCluster;
  readonly netns: string;
  readonly etcd: EtcdClient;
  readonly agent: AgentProcess;
  /** From the agent's start to all its routes in the kernel (etcd listed, node registered, first pass). */
  readonly startMs: number;
  /** The highest RSS of the agent and its `ip` children together, sampled while it converged, MB. */
  readonly startTreePeakMb: number;
  close(): Promise<void>;
}

const ETCD_SHM = '/dev/shm';

export interface AgentEnvOptions {
  /** Namespace prefix: the run's stem, so an interrupted run's leftovers are found by it. */
  readonly stem: string;
  /** Node options for the agent process (e.g. --cpu-prof). */
  readonly agentArgs?: readonly string[];
  readonly convergeTimeoutMs?: number;
}

export async function startAgentEnv(cluster: BenchCluster, options: AgentEnvOptions): Promise<AgentEnv> {
  const cleanups = cleanupStack();
  const close = cleanups.close;
  try {
    const dir = await mkdtemp(join(tmpdir(), 'wren-b-agent-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const topology: Topology = await createTopology({ prefix: options.stem, subnets: [NODE_SUBNET], nodes: [{ name: cluster.localNode, ip: cluster.localCidr.split('/')[0] ?? '' }] });
    cleanups.push(() => topology.destroy());
    const node = topology.node(cluster.localNode);
    await runOk('ip', ['-n', node.netns, '-batch', '-'], `${caliLines(cluster.localIfaces).join('\n')}\n`);

    const gateway = topology.subnets[0]?.gateway;
    if (gateway === undefined) throw new Error('topology has no subnet');
    const server: EtcdServer = await startEtcdServer({
      name: 'wren-bench',
      host: gateway,
      clientPort: 2379,
      peerPort: 2380,
      launcher: ['ip', 'netns', 'exec', topology.underlayNetns],
      unixSocket: true,
      parentDir: ETCD_SHM,
    });
    cleanups.push(() => server.destroy());
    const socket = server.socketEndpoint;
    if (socket === undefined) throw new Error('etcd has no unix socket');
    await bulkLoad(socket, clusterKvs(cluster.snapshot, cluster.localNode));
    const etcd = new EtcdClient({ endpoints: socket });
    cleanups.push(async () => etcd.close());

    const started = performance.now();
    const agent = new AgentProcess(node.netns, cluster.localNode, dir, `http://${gateway}:2379`, options.agentArgs);
    cleanups.push(() => agent.stop());
    const deadline = started + (options.convergeTimeoutMs ?? 180_000);
    let treePeakKb = 0;
    for (;;) {
      treePeakKb = Math.max(treePeakKb, agent.exited === undefined ? await treeRssKb(agent.pid) : 0);
      const m = await agent.tryMetrics();
      if (m !== undefined && m.programmed >= cluster.expectedRoutes) break;
      if (agent.exited !== undefined) throw new Error(`agent ended during start-up (${agent.exited}); see ${agent.log}`);
      if (performance.now() > deadline) throw new Error(`agent did not converge: ${m?.programmed ?? 0} of ${cluster.expectedRoutes} routes programmed`);
      await sleep(50);
    }
    const startMs = performance.now() - started;
    const inKernel = await countRoutes(node.netns, 199);
    if (inKernel !== cluster.expectedRoutes) throw new Error(`agent converged on ${inKernel} routes in the kernel, expected ${cluster.expectedRoutes}`);
    return { cluster, netns: node.netns, etcd, agent, startMs, startTreePeakMb: treePeakKb / 1024, close };
  } catch (error) {
    await close();
    throw error;
  }
}
