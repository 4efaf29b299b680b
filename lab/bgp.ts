// The lab's BGP (`wren lab up --bgp`): its router becomes a BGP speaker — BIRD 2 with AS 64513,
// accepting a session from any node on either of its subnets (BIRD's dynamic BGP, so a node added
// later needs no change here) and learning the nodes' blocks into its kernel — and the cluster's
// objects point every node at it: the BGPConfiguration `default` (AS 64512, no mesh) and one
// BGPPeer per node (`spec.node`) naming the router's address on that node's own subnet, as a
// top-of-rack switch is peered. Each agent runs its own BIRD in its node's namespace.
//
// BIRD is detached: it outlives the agent (that is what keeps a kill -9 from losing routes), so
// the lab ends every BIRD itself, by the pid file in its directory.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BirdDaemon, birdPaths, type BirdPaths } from '../kernel/bird/bird-daemon.js';
import type { BgpPeerRow } from '../kernel/bird/protocols.js';
import type { AsNumber, Cidr, IpAddr } from '../kernel/values.js';
import { renderRouterConfig } from '../routing/bgp/router-config.js';
import { alive, stopProcess } from './agents.js';
import type { LabBgpPeer } from './lab-datastore.js';
import { runOk } from '../kernel/exec.js';
import { httpGet } from '../util/http-client.js';
import { labDir, LabError, type LabAgent } from './state.js';

export const CLUSTER_AS = 64512 as AsNumber;
export const ROUTER_AS = 64513 as AsNumber;

/** What the lab's state keeps of its router's BIRD. */
export interface LabRouterBgp {
  readonly netns: string;
  readonly asNumber: number;
  readonly dir: string;
}

/**
 * The router's BIRD directory. A node's is `<lab>/<node>/bird` (agents.ts); `_` is in no node's
 * name, so no node's directory can be this one.
 */
export function routerBirdDir(lab: string): string {
  return join(labDir(lab), '_router', 'bird');
}

/** The BGPPeer that points `node` at the router's address on the node's subnet (its default gateway). */
export function routerPeer(node: { readonly name: string; readonly gateway: IpAddr }): LabBgpPeer {
  return { name: `lab-router-${node.name}`, node: node.name, peerIP: node.gateway, asNumber: ROUTER_AS };
}

/** The router's BIRD, taken over if one already runs there: any node on its subnets may peer. */
export async function startRouterBird(lab: string, netns: string, subnets: readonly { readonly cidr: Cidr; readonly gateway: IpAddr }[]): Promise<void> {
  const first = subnets[0];
  if (first === undefined) throw new RangeError('the router has no subnet');
  const paths = birdPaths(routerBirdDir(lab));
  const config = renderRouterConfig({ routerId: first.gateway, asNumber: ROUTER_AS, neighbors: subnets.map((s) => ({ range: s.cidr })) });
  // A router started again starts afresh, not as restarting (-R): the nodes hold nothing of it to
  // keep, and a restarting BIRD would hold its routes back from its kernel until its peers return.
  if ((await BirdDaemon.find(paths)) === undefined) await rm(paths.config, { force: true });
  await BirdDaemon.takeOverOrStart(paths, config, { netns });
}

/**
 * A node leaving: its BIRD closes every session with a Cease, so the router drops the node's
 * blocks at once rather than when its hold timer runs out; then it is ended for certain.
 */
export async function withdrawNodeBird(dir: string): Promise<void> {
  const paths = birdPaths(dir);
  const pid = await birdPid(paths);
  await (await BirdDaemon.find(paths))?.shutdown('withdraw');
  if (pid !== undefined) await stopProcess(pid, 2000);
}

/** Ends the BIRD of a directory (SIGTERM, then SIGKILL), if one runs; whether one did. */
export async function stopBird(dir: string): Promise<boolean> {
  const pid = await birdPid(birdPaths(dir));
  if (pid === undefined || !alive(pid)) return false;
  await stopProcess(pid, 2000);
  return true;
}

/** The pid in BIRD's pid file, if that process is still a BIRD (a stale file's pid may be anyone's by now). */
async function birdPid(paths: BirdPaths): Promise<number | undefined> {
  const text = await readFile(paths.pidFile, 'utf8').catch(() => '');
  if (!/^[1-9][0-9]*\s*$/.test(text)) return undefined;
  const pid = Number(text);
  const command = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
  return command.trim() === 'bird' ? pid : undefined;
}

/** The sessions an agent reports; none when it does not answer (its health says why). */
export async function agentBgpPeers(agent: LabAgent): Promise<BgpPeerRow[]> {
  const answer = await httpGet({ path: agent.socket }, '/status', 3000).catch(() => undefined);
  if (answer?.status !== 200) return [];
  const peers = (JSON.parse(answer.body) as { bgp?: { peers?: BgpPeerRow[] } }).bgp?.peers ?? [];
  return peers.map(({ peer, asNumber, type, state, since, info, routesExported }) => ({ peer, asNumber, type, state, since, info, routesExported }));
}

/** What the router's BIRD put into its kernel: `10.244.146.128/26 via 172.16.30.2`. */
export async function learnedRoutes(netns: string): Promise<{ prefix: string; via: string }[]> {
  const out = await runOk('ip', ['-n', netns, '-j', 'route', 'show', 'proto', 'bird']).catch(() => '[]');
  const routes = JSON.parse(out === '' ? '[]' : out) as { dst: string; gateway?: string; nexthops?: { gateway?: string }[] }[];
  return routes.map((r) => ({ prefix: r.dst, via: r.gateway ?? (r.nexthops ?? []).map((h) => h.gateway ?? '').join(',') }));
}

/**
 * Until every agent's sessions are established and the router holds every route they announce:
 * what `up` waits for, so the status it prints is the converged one. Throws after `timeoutMs`.
 */
export async function waitForFabric(agents: readonly LabAgent[], routerNetns: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const peers = (await Promise.all(agents.map(agentBgpPeers))).flat();
    const announced = peers.reduce((sum, p) => sum + (p.routesExported ?? 0), 0);
    const up = peers.length >= agents.length && peers.every((p) => p.state === 'up');
    if (up && (await learnedRoutes(routerNetns)).length >= announced) return;
    if (Date.now() > deadline) throw new LabError(`BGP sessions not all established after ${timeoutMs / 1000} s: ${peers.filter((p) => p.state !== 'up').map((p) => `${p.peer} ${p.state} ${p.info}`).join(', ') || 'routes missing at the router'}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
