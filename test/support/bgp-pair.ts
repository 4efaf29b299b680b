// Two network namespaces joined by a veth, each with a BIRD: a node (172.16.30.6, AS 64512, its
// BIRD run by kernel/bird/ from the configuration wren renders) and a router (172.16.30.1, AS
// 64513, a plain router configuration that learns into its kernel). Everything is removed by
// `remove()` — the BIRDs killed by pid, the namespaces deleted, the directories gone — also when
// a test failed, and on a worker's exit at the latest.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { run, runOk } from '../../kernel/exec.js';
import { BirdDaemon, birdPaths, type BirdPaths } from '../../kernel/bird/bird-daemon.js';
import type { AsNumber, Cidr, IpAddr } from '../../kernel/values.js';
import type { BgpPeer } from '../../routing/bgp/bgp-objects.js';
import { renderBirdConfig } from '../../routing/bgp/bird-config.js';
import { nodeBgp } from '../../routing/bgp/node-peers.js';
import { renderRouterConfig, type RouterNeighbor } from '../../routing/bgp/router-config.js';
import { EMPTY_SNAPSHOT } from '../../routing/cluster.js';
import { cleanUpOnExit } from './exit-cleanup.js';
import { node as clusterNode } from './seed-cluster.js';

export const NODE_IP = '172.16.30.6' as IpAddr;
export const ROUTER_IP = '172.16.30.1' as IpAddr;
export const NODE_AS = 64512 as AsNumber;
export const ROUTER_AS = 64513 as AsNumber;

export interface BgpPair {
  readonly nodeNs: string;
  readonly routerNs: string;
  readonly nodePaths: BirdPaths;
  readonly routerPaths: BirdPaths;
  /** wren's configuration of the node's BIRD for these blocks. */
  nodeConfig(exports: readonly string[]): string;
  /** Starts (or takes over) the node's BIRD with these blocks. */
  startNode(exports: readonly string[]): Promise<Awaited<ReturnType<typeof BirdDaemon.takeOverOrStart>>>;
  /** The router, with one neighbour per node by default, or a range (BIRD's dynamic BGP) as the lab may use. */
  startRouter(neighbors?: readonly RouterNeighbor[]): Promise<BirdDaemon>;
  /** The router's kernel routes learned from BIRD: `10.244.1.0/26 via 172.16.30.6`. */
  routerRoutes(): Promise<string[]>;
  /** SIGKILL of whatever BIRD runs in a directory (its pid file). */
  kill(paths: BirdPaths): Promise<void>;
  remove(): Promise<void>;
}

export async function bgpPair(label: string): Promise<BgpPair> {
  const id = randomBytes(3).toString('hex');
  const nodeNs = `wren-t-${label}-n${id}`;
  const routerNs = `wren-t-${label}-r${id}`;
  const nodePaths = birdPaths(`/run/wren-test/bgp-${id}/node`);
  const routerPaths = birdPaths(`/run/wren-test/bgp-${id}/router`);
  const pids = new Set<number>();
  const forget = cleanUpOnExit({ pids: () => [...pids], dirs: () => [`/run/wren-test/bgp-${id}`] });
  const peer: BgpPeer = { name: 'router', peerIP: ROUTER_IP, asNumber: ROUTER_AS };
  const bgp = nodeBgp({ ...EMPTY_SNAPSHOT, nodes: [clusterNode('node-1', `${NODE_IP}/24`)], bgpPeers: [peer] }, 'node-1');
  const pidOf = async (paths: BirdPaths) => Number((await readFile(paths.pidFile, 'utf8').catch(() => '')).trim()) || undefined;
  const pair: BgpPair = {
    nodeNs,
    routerNs,
    nodePaths,
    routerPaths,
    nodeConfig: (exports) => renderBirdConfig({ bgp, exports: exports as Cidr[] }) ?? '',
    startNode: async (exports) => {
      const started = await BirdDaemon.takeOverOrStart(nodePaths, pair.nodeConfig(exports), { netns: nodeNs });
      const pid = started.bird.pid ?? (await pidOf(nodePaths));
      if (pid !== undefined) pids.add(pid);
      return started;
    },
    startRouter: async (neighbors = [{ ip: NODE_IP, asNumber: NODE_AS }]) => {
      const config = renderRouterConfig({ routerId: ROUTER_IP, asNumber: ROUTER_AS, neighbors });
      const { bird } = await BirdDaemon.takeOverOrStart(routerPaths, config, { netns: routerNs });
      if (bird.pid !== undefined) pids.add(bird.pid);
      return bird;
    },
    routerRoutes: async () => {
      const out = await runOk('ip', ['-n', routerNs, 'route', 'show', 'proto', 'bird']);
      return out.split('\n').filter((l) => l !== '').map((l) => l.replace(/ dev \S+.*$/, '').trim());
    },
    kill: async (paths) => {
      const pid = await pidOf(paths);
      if (pid === undefined) return;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        return;
      }
      while (running(pid)) await new Promise((r) => setTimeout(r, 10));
    },
    remove: async () => {
      for (const paths of [nodePaths, routerPaths]) await pair.kill(paths);
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      for (const ns of [nodeNs, routerNs]) await run('ip', ['netns', 'del', ns]);
      await rm(`/run/wren-test/bgp-${id}`, { recursive: true, force: true });
      forget();
    },
  };
  try {
    for (const ns of [nodeNs, routerNs]) await runOk('ip', ['netns', 'add', ns]);
    await runOk('ip', ['-n', nodeNs, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', routerNs]);
    await runOk('ip', ['-n', nodeNs, '-batch', '-'], `link set lo up\naddr add ${NODE_IP}/24 dev eth0\nlink set eth0 up\nroute add default via ${ROUTER_IP}\n`);
    await runOk('ip', ['-n', routerNs, '-batch', '-'], `link set lo up\naddr add ${ROUTER_IP}/24 dev eth0\nlink set eth0 up\n`);
  } catch (error) {
    await pair.remove();
    throw error;
  }
  return pair;
}

/** Alive and not a zombie waiting for init to reap it. */
function running(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}
