// `wren lab up`: a cluster in network namespaces, routed by wren. Underlay and nodes first,
// then etcd where every node can reach it (with `--datastore kubernetes`, a kube-apiserver over
// it, and the Node objects a kubelet would make), the IP pool, one agent per node (each
// registers its node and tunnel address, as calico-node would), then pods, created as Calico's
// CNI plugin creates them. The state is saved as soon as there is something to clean up.
import { join } from 'node:path';
import { watchEchoSources } from '../kernel/echo-sources.js';
import { parseCidr, type Cidr } from '../kernel/values.js';
import { startEtcdServer } from './etcd-server.js';
import { createTopology } from './topology/index.js';
import { agentDatastore, startAgent } from './agents.js';
import { CLUSTER_AS, ROUTER_AS, routerBirdDir, routerPeer, startRouterBird, waitForFabric } from './bgp.js';
import { labDown } from './down.js';
import { ETCD_PORT, Lab } from './lab.js';
import { findKubeApiServer } from './kube-apiserver/build.js';
import { startLabApiServer } from './kube-apiserver/lab-server.js';
import { openLabDatastore } from './lab-datastore.js';
import { preflight } from './preflight.js';
import type { Progress } from './progress.js';
import { checkName, claimLabDir, labDir, LabError, loadLab, saveLab, type Encap, type LabState } from './state.js';

export interface UpOptions {
  readonly name: string;
  readonly nodes: number;
  readonly encap: Encap;
  readonly crossSubnet: boolean;
  readonly podsPerNode: number;
  readonly pool: string;
  readonly blockSize: number;
  /** The pool's natOutgoing; default true, as Calico's installer writes its default pool. */
  readonly natOutgoing?: boolean;
  /** Where Calico's objects live: etcd (the default: fastest) or a kube-apiserver over it. */
  readonly datastore?: 'etcdv3' | 'kubernetes';
  /** The router speaks BGP and every agent runs BIRD (lab/bgp.ts); needs the router (`crossSubnet`). */
  readonly bgp?: boolean;
}

export const SUBNETS = ['172.16.30.0/24', '172.16.31.0/24'];

export async function labUp(o: UpOptions, progress: Progress): Promise<Lab> {
  checkName(o.name);
  const pool = parseCidr(o.pool);
  if (pool === undefined || pool.includes(':')) throw new LabError(`--pool ${o.pool} is not an IPv4 prefix like 10.244.0.0/16`);
  if (!Number.isInteger(o.blockSize) || o.blockSize < Number(pool.split('/')[1]) || o.blockSize > 30) throw new LabError(`--block-size ${o.blockSize} must be from the pool's length to 30`);
  if (!Number.isInteger(o.nodes) || o.nodes < 1 || o.nodes > 50) throw new LabError(`--nodes ${o.nodes} must be from 1 to 50`);
  if (!Number.isInteger(o.podsPerNode) || o.podsPerNode < 0 || o.podsPerNode > 20) throw new LabError(`--pods-per-node ${o.podsPerNode} must be from 0 to 20`);
  if (o.bgp === true && !o.crossSubnet) throw new LabError('--bgp needs --cross-subnet: the BGP speaker is the router between the two subnets');
  await preflight(o.encap, o.bgp === true);

  if ((await loadLab(o.name)) !== undefined) {
    progress.step(`replacing the existing lab "${o.name}"`);
    await labDown(o.name);
    progress.done();
  }

  await claimLabDir(o.name);
  try {
    return await build(o, pool as Cidr, progress);
  } catch (error) {
    // Nothing half-made is left behind: processes, namespaces (found by prefix) and files.
    await labDown(o.name).catch(() => undefined);
    throw error;
  }
}

async function build(o: UpOptions, pool: Cidr, progress: Progress): Promise<Lab> {
  const natOutgoing = o.natOutgoing ?? true;
  const kubeBuild = o.datastore === 'kubernetes' ? await findKubeApiServer(progress) : undefined;
  progress.step(`building ${o.nodes} node(s) on ${o.crossSubnet ? `two subnets joined by a router (${SUBNETS.join(', ')})` : `one subnet (${SUBNETS[0]})`}`);
  const subnets = o.crossSubnet ? SUBNETS : SUBNETS.slice(0, 1);
  const topology = await createTopology({
    prefix: `wl-${o.name}`,
    subnets,
    nodes: Array.from({ length: o.nodes }, (_, i) => ({ name: `node-${i + 1}`, subnet: subnets[o.crossSubnet && i >= Math.ceil(o.nodes / 2) ? 1 : 0] })),
    external: {},
  });
  const outside = topology.external;
  // It records the source of every ping it receives: what masquerading did is visible there.
  if (outside !== undefined) await watchEchoSources(outside.netns);
  progress.done(`${topology.namespaces.length} namespaces${outside ? `; outside the cluster: ${outside.name} at ${outside.ip}` : ''}`);

  progress.step('starting etcd on the underlay');
  const host = topology.subnets[0]?.gateway ?? '';
  const launcher = ['ip', 'netns', 'exec', topology.routerNetns ?? topology.underlayNetns];
  const etcd = await startEtcdServer({ name: 'wren-lab', host, clientPort: ETCD_PORT, launcher, dir: join(labDir(o.name), 'etcd'), unixSocket: true, detached: true });
  let state: LabState = {
    kind: 'wren-lab',
    version: 1,
    name: o.name,
    createdAt: new Date().toISOString(),
    encap: o.encap,
    crossSubnet: o.crossSubnet,
    pool,
    blockSize: o.blockSize,
    natOutgoing,
    topology: topology.toState(),
    etcd: { pid: etcd.pid ?? 0, endpoint: etcd.endpoint, socket: etcd.socketEndpoint ?? '', dir: etcd.dir },
    agents: {},
    pods: [],
  };
  await saveLab(state);
  progress.done(etcd.endpoint);
  if (kubeBuild !== undefined) {
    progress.step('starting kube-apiserver on the underlay (Calico\'s CRDs, wren\'s RBAC, its ServiceAccount token)');
    const netns = topology.routerNetns ?? topology.underlayNetns;
    state = { ...state, kubernetes: await startLabApiServer({ build: kubeBuild, dir: join(labDir(o.name), 'kube'), host, netns, etcdEndpoint: etcd.endpoint }) };
    await saveLab(state);
    progress.done(state.kubernetes?.url);
  }

  progress.step(`writing the IP pool ${pool} (${o.encap === 'none' ? 'no encapsulation' : `${o.encap}${o.crossSubnet ? ' CrossSubnet' : ' Always'}`}, /${o.blockSize} blocks, natOutgoing ${natOutgoing})`);
  const store = openLabDatastore(state);
  try {
    await store.writePool(pool, o.blockSize, o.encap, o.crossSubnet, natOutgoing);
    // The kubelets' part: each Node and its status addresses (on etcd, calico-node makes its own record).
    for (const node of topology.nodes) await store.addNode(node.name, node.ip);
    if (o.bgp === true) {
      await store.writeBgpConfiguration(CLUSTER_AS, false);
      for (const node of topology.nodes) await store.writeBgpPeer(routerPeer(node));
    }
  } finally {
    store.close();
  }
  progress.done();

  const router = topology.routerNetns;
  if (o.bgp === true && router !== undefined) {
    progress.step(`starting BIRD on the router (AS ${ROUTER_AS}; BGPConfiguration AS ${CLUSTER_AS} without the mesh, a BGPPeer per node to its subnet's gateway)`);
    // Saved first, so `down` ends this BIRD even if the start fails halfway.
    state = { ...state, bgp: { router: { netns: router, asNumber: ROUTER_AS, dir: routerBirdDir(o.name) } } };
    await saveLab(state);
    await startRouterBird(o.name, router, topology.subnets);
    progress.done(`accepting sessions from ${topology.subnets.map((s) => s.cidr).join(', ')}`);
  }

  progress.step('starting one wren agent per node');
  const agents: Record<string, LabState['agents'][string]> = {};
  for (const node of topology.nodes) agents[node.name] = await startAgent(o.name, node, agentDatastore(state), o.bgp === true);
  state = { ...state, agents };
  await saveLab(state);
  const lab = new Lab(state);
  await lab.waitForAgents();
  progress.done('registered and ready');

  if (o.podsPerNode > 0) {
    progress.step(`creating ${o.podsPerNode * o.nodes} pod(s)`);
    for (const node of topology.nodes) {
      for (let i = 1; i <= o.podsPerNode; i++) await lab.addPod(`pod-${node.name.replace(/^node-/, '')}-${i}`, node.name);
    }
    progress.done();
  }
  if (state.bgp !== undefined) {
    progress.step('waiting for every node\'s BGP session and its blocks at the router');
    await waitForFabric(Object.values(agents), state.bgp.router.netns);
    progress.done();
  }
  return lab;
}
