// BGP to the fabric, as `wren lab up --bgp` wires it: a node namespace on one subnet of a
// two-subnet underlay, a router namespace between them running a plain BIRD (AS 64513, any node of
// the subnet may peer), etcd on the router's address, the cluster's BGPConfiguration (AS 64512, no
// mesh) and a BGPPeer pointing the node at the router, and `wren agent --bgp on` in the node with
// its own BIRD. Measured: from just before a block (and its affinity) is written to etcd to the
// route's line on an `ip monitor` in the router's namespace (the block announced, learned, in the
// router's kernel), and the same for its withdrawal (affinity and block deleted); then the memory
// of the node's BIRD beside the agent's. Everything is removed at the end, BIRDs first (they are
// detached: a SIGTERM of the agent leaves its BIRD running, as a restart must).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { affinityKey, blockKey, EtcdClient, resourceKey } from '../../calico/index.js';
import { BirdDaemon, birdPaths, type AsNumber, type BirdPaths, type Cidr } from '../../kernel/index.js';
import { createTopology, startEtcdServer } from '../../lab/index.js';
import { renderRouterConfig } from '../../routing/index.js';
import { httpGet } from '../../util/index.js';
import { AgentProcess } from '../agent-process.js';
import { cleanupStack } from '../cleanup-stack.js';
import { memory } from '../proc.js';
import type { Progress } from '../progress.js';
import { RouteMonitor } from '../route-monitor.js';
import { latency } from '../stats.js';
import { waitQuiet } from '../quiet.js';
import type { BgpFabricResult } from '../results.js';

const NODE = 'bench-bgp';
const NODE_SUBNET = '172.16.30.0/24';
const SUBNETS = [NODE_SUBNET, '172.16.31.0/24'];
const NODE_AS = 64512;
const ROUTER_AS = 64513;
const LINE_TIMEOUT_MS = 10_000;
const MB = 1024;

export async function bgpFabric(o: { readonly stem: string; readonly changes: number }, progress: Progress): Promise<BgpFabricResult> {
  const cleanups = cleanupStack();
  try {
    const dir = await mkdtemp(join(tmpdir(), 'wren-b-bgp-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const topology = await createTopology({ prefix: o.stem, subnets: SUBNETS, nodes: [{ name: NODE, subnet: NODE_SUBNET }] });
    cleanups.push(() => topology.destroy());
    const node = topology.node(NODE);
    const router = topology.routerNetns;
    if (router === undefined) throw new Error('the topology has no router');
    const server = await startEtcdServer({ name: 'wren-bench-bgp', host: node.gateway, clientPort: 2379, peerPort: 2380, launcher: ['ip', 'netns', 'exec', router], unixSocket: true, parentDir: '/dev/shm' });
    cleanups.push(() => server.destroy());
    const etcd = new EtcdClient({ endpoints: server.socketEndpoint ?? '' });
    cleanups.push(async () => etcd.close());
    await writeCluster(etcd, node.gateway);

    const routerPaths = birdPaths(join(dir, 'router'));
    const nodePaths = birdPaths(join(dir, 'node'));
    cleanups.push(() => stopBird(routerPaths), () => stopBird(nodePaths));
    await BirdDaemon.takeOverOrStart(routerPaths, renderRouterConfig({ routerId: node.gateway, asNumber: ROUTER_AS as AsNumber, neighbors: [{ range: NODE_SUBNET as Cidr }] }), { netns: router });
    const agent = new AgentProcess(node.netns, NODE, dir, `http://${node.gateway}:2379`, [], { WREN_BGP: 'on', WREN_BGP_DIR: nodePaths.dir });
    cleanups.push(() => agent.stop());
    const sessionMs = await sessionUp(agent);
    progress(`BGP: the node's session to the router up ${Math.round(sessionMs)} ms after the agent started`);

    const monitor = new RouteMonitor(router);
    cleanups.push(async () => monitor.stop());
    await monitor.ready();
    await waitQuiet();
    const adds: number[] = [];
    const withdrawals: number[] = [];
    for (let k = 0; k < o.changes; k++) {
      const cidr = `10.244.${k % 256}.${64 * Math.floor(k / 256)}/26` as Cidr;
      const keys = [blockKey(cidr), affinityKey(NODE, cidr)];
      await agent.idle();
      const learned = monitor.next((l) => l.startsWith(`${cidr} `), LINE_TIMEOUT_MS);
      const t0 = performance.now();
      await put(etcd, keys[0] ?? '', blockValue(cidr));
      await put(etcd, keys[1] ?? '', '{"state":"confirmed","deleted":false}');
      adds.push((await learned).at - t0);

      await agent.idle();
      const withdrawn = monitor.next((l) => l.startsWith(`Deleted ${cidr} `), LINE_TIMEOUT_MS);
      const t1 = performance.now();
      for (const key of [...keys].reverse()) await remove(etcd, key);
      withdrawals.push((await withdrawn).at - t1);
    }
    const add = latency(adds);
    const withdraw = latency(withdrawals);
    progress(`BGP: etcd → the router's kernel over ${adds.length} blocks: p50 ${add.p50.toFixed(1)} ms, p99 ${add.p99.toFixed(1)} ms; withdrawal p50 ${withdraw.p50.toFixed(1)} ms, p99 ${withdraw.p99.toFixed(1)} ms`);

    const agentMem = await memory(agent.pid);
    const birdPid = await pidOf(nodePaths);
    const birdMem = birdPid === undefined ? undefined : await memory(birdPid);
    const routerPid = await pidOf(routerPaths);
    const routerMem = routerPid === undefined ? undefined : await memory(routerPid);
    if (agentMem === undefined || birdMem === undefined) throw new Error('the agent or its BIRD is gone');
    return {
      sessionMs,
      add,
      withdraw,
      agentRssMb: agentMem.rssKb / MB,
      agentHwmMb: agentMem.hwmKb / MB,
      birdRssMb: birdMem.rssKb / MB,
      birdHwmMb: birdMem.hwmKb / MB,
      ...(routerMem === undefined ? {} : { routerBirdRssMb: routerMem.rssKb / MB }),
    };
  } finally {
    await cleanups.close();
  }
}

/** A pool without encapsulation, the BGPConfiguration and the node's BGPPeer, as the lab writes them. */
async function writeCluster(etcd: EtcdClient, routerIp: string): Promise<void> {
  const v3 = (kind: string, name: string, spec: Record<string, unknown>) => JSON.stringify({ kind, apiVersion: 'projectcalico.org/v3', metadata: { name }, spec });
  await put(etcd, resourceKey('ippools', 'pool'), v3('IPPool', 'pool', { cidr: '10.244.0.0/16', blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: false, nodeSelector: 'all()' }));
  await put(etcd, resourceKey('bgpconfigurations', 'default'), v3('BGPConfiguration', 'default', { asNumber: NODE_AS, nodeToNodeMeshEnabled: false }));
  await put(etcd, resourceKey('bgppeers', 'router'), v3('BGPPeer', 'router', { node: NODE, peerIP: routerIp, asNumber: ROUTER_AS }));
}

/** An empty block of the node's, as Calico's IPAM stores it. */
function blockValue(cidr: Cidr): string {
  return JSON.stringify({ cidr, affinity: `host:${NODE}`, allocations: Array(64).fill(null), unallocated: Array.from({ length: 64 }, (_, i) => i), attributes: [], deleted: false });
}

async function put(etcd: EtcdClient, key: string, value: string): Promise<void> {
  const created = await etcd.create(key, value);
  if (!created.ok) throw new Error(`${key} is already in etcd`);
}

async function remove(etcd: EtcdClient, key: string): Promise<void> {
  const kv = await etcd.get(key);
  if (kv === undefined) throw new Error(`${key} is not in etcd`);
  const deleted = await etcd.compareAndDelete(key, kv.modRevision);
  if (!deleted.ok) throw new Error(`${key}: delete lost a race (${deleted.reason})`);
}

/** Until the agent's /status says its one session is established; how long that took. */
async function sessionUp(agent: AgentProcess, timeoutMs = 60_000): Promise<number> {
  const started = performance.now();
  for (;;) {
    const answer = await httpGet({ path: agent.socket }, '/status', 2000).catch(() => undefined);
    const peers = answer?.status === 200 ? (JSON.parse(answer.body) as { bgp?: { peers?: { state: string }[] } }).bgp?.peers : undefined;
    if (peers?.[0]?.state === 'up') return performance.now() - started;
    if (agent.exited !== undefined) throw new Error(`the agent ended (${agent.exited}); see ${agent.log}`);
    if (performance.now() - started > timeoutMs) throw new Error(`no BGP session within ${timeoutMs / 1000} s; see ${agent.log}`);
    await sleep(100);
  }
}

async function pidOf(paths: BirdPaths): Promise<number | undefined> {
  const text = await readFile(paths.pidFile, 'utf8').catch(() => '');
  return /^[1-9][0-9]*\s*$/.test(text) ? Number(text) : undefined;
}

/** BIRD outlives the agent: told to go (`down`), and waited for by its pid file's pid. */
async function stopBird(paths: BirdPaths): Promise<void> {
  const pid = await pidOf(paths);
  await (await BirdDaemon.find(paths))?.shutdown('withdraw');
  for (let i = 0; pid !== undefined && i < 200 && running(await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '')); i++) await sleep(10);
}

/** A process's /proc status says it still runs (a zombie waiting to be reaped does not). */
function running(status: string): boolean {
  return status !== '' && !/^State:\s+Z/m.test(status);
}
