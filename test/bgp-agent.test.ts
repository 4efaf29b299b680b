// `wren agent --bgp on` on etcd, end to end on a real kernel: the node's namespace and a router
// namespace running a plain BIRD (AS 64513), the cluster's BGPConfiguration, BGPPeer, Nodes and
// blocks in a real etcd in Calico's v3 layout. The router learns the node's block and nothing
// else, the off-subnet node's block gets no onlink route on the node (the fabric's), a block
// written to etcd reaches the router's kernel within 1 s (p50/p99 over 20 changes), /status,
// `wren status`, /metrics and /readyz tell the peer's state (down: still ready, and named),
// kill -9 of the agent loses nothing at the router and the next agent takes its BIRD over, and
// the node's removal from the cluster withdraws its block at once.
import type { BgpPeerRow } from '../kernel/bird/protocols.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RouteMonitor } from '../bench/route-monitor.js';
import { answers } from '../kernel/bird/bird-daemon.js';
import { run, runOk, spawn, type Spawned } from '../kernel/exec.js';
import { httpGet } from '../util/http-client.js';
import { bgpPair, NODE_IP, ROUTER_IP, type BgpPair } from './support/bgp-pair.js';
import { requireBuiltCli, WREN_MAIN } from './support/built-cli.js';
import { startTestEtcd, testClient } from './support/etcd-harness.js';
import { until } from './support/until.js';

const V3 = 'projectcalico.org/v3';
const R = '/calico/resources/v3/projectcalico.org';
const json = (value: unknown) => JSON.stringify(value);
const blockKey = (cidr: string) => `/calico/ipam/v2/assignment/ipv4/block/${cidr.replace('/', '-')}`;
const affinityKey = (node: string, cidr: string) => `/calico/ipam/v2/host/${node}/ipv4/block/${cidr.replace('/', '-')}`;
const blockValue = (cidr: string, node: string) => json({ cidr, affinity: `host:${node}`, allocations: Array(64).fill(null), unallocated: Array.from({ length: 64 }, (_, i) => i), attributes: [], deleted: false });
const OWN = '10.244.1.0/26';
const MORE = '10.244.1.64/26';
const FAR = '10.244.2.0/26';

let pair: BgpPair | undefined;
let agent: Spawned | undefined;
let monitor: RouteMonitor | undefined;
let dir: string | undefined;

beforeAll(async () => {
  await requireBuiltCli();
});
afterEach(async () => {
  monitor?.stop();
  agent?.process.kill('SIGKILL');
  await agent?.process.catch(() => undefined);
  await pair?.remove();
  if (dir !== undefined && process.env.KEEP_LOG === undefined) await rm(dir, { recursive: true, force: true });
  [pair, agent, monitor, dir] = [undefined, undefined, undefined, undefined];
});

async function cluster() {
  const etcd = await startTestEtcd();
  const client = testClient(etcd.endpoint);
  await client.create(`${R}/ippools/pool`, json({ kind: 'IPPool', apiVersion: V3, metadata: { name: 'pool' }, spec: { cidr: '10.244.0.0/16', blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never' } }));
  await client.create(`${R}/nodes/node-1`, json({ kind: 'Node', apiVersion: V3, metadata: { name: 'node-1' }, spec: { bgp: { ipv4Address: `${NODE_IP}/24`, asNumber: 64512 } } }));
  // node-2 sits on another subnet, behind the router: its block is the fabric's to carry.
  await client.create(`${R}/nodes/node-2`, json({ kind: 'Node', apiVersion: V3, metadata: { name: 'node-2' }, spec: { bgp: { ipv4Address: '172.16.31.7/24' } } }));
  await client.create(`${R}/bgpconfigurations/default`, json({ kind: 'BGPConfiguration', apiVersion: V3, metadata: { name: 'default' }, spec: { asNumber: 64512, nodeToNodeMeshEnabled: false } }));
  await client.create(`${R}/bgppeers/tor`, json({ kind: 'BGPPeer', apiVersion: V3, metadata: { name: 'tor' }, spec: { peerIP: ROUTER_IP, asNumber: 64513 } }));
  for (const [node, cidr] of [['node-1', OWN], ['node-2', FAR]] as const) {
    await client.create(blockKey(cidr), blockValue(cidr, node));
    await client.create(affinityKey(node, cidr), '{"state":"confirmed","deleted":false}');
  }
  const remove = async (key: string) => {
    const kv = await client.get(key);
    if (kv !== undefined) await client.compareAndDelete(key, kv.modRevision);
  };
  return { etcd, client, remove };
}

function startAgent(p: BgpPair, endpoint: string, socket: string, log: string): Spawned {
  return spawn('node', [WREN_MAIN, 'agent', '--netns', p.nodeNs, '--node', 'node-1', '--node-ip', `${NODE_IP}/24`, '--datastore', 'etcdv3', '--etcd-endpoints', endpoint, '--http-listen', `unix:${socket}`, '--mtu-file', '', '--bgp', 'on', '--bgp-dir', p.nodePaths.dir], {
    env: { WREN_LOG_LEVEL: 'info', PATH: process.env.PATH ?? '' },
    stdout: { file: log },
    stderr: { file: log },
  });
}

interface StatusBgp { bird: { pid: number | null; started: string | null; answering: boolean; left: boolean }; exports: string[]; peers: BgpPeerRow[] }

describe('wren agent --bgp on', { timeout: 120_000 }, () => {
  it('advertises its block to the router, and follows the datastore, the peer and its own restarts', async () => {
    pair = await bgpPair('bgpa');
    await pair.startRouter();
    const { etcd, client, remove } = await cluster();
    dir = await mkdtemp(join(tmpdir(), 'wren-bgp-agent-'));
    const listen = { path: join(dir, 'agent.sock') };
    const status = async () => (JSON.parse((await httpGet(listen, '/status')).body) as { bgp: StatusBgp }).bgp;
    agent = startAgent(pair, etcd.endpoint, listen.path, join(dir, 'agent.log'));

    // The router learns the node's block, and only it; the node routes the far block through its default route.
    await until(async () => (await pair!.routerRoutes()).length > 0, 30_000, 'the block at the router');
    expect(await pair.routerRoutes()).toEqual([`${OWN} via ${NODE_IP}`]);
    const nodeRoutes = await runOk('ip', ['-n', pair.nodeNs, 'route', 'show', 'proto', '199']);
    expect(nodeRoutes).toContain(`blackhole ${OWN}`);
    expect(nodeRoutes).not.toContain(FAR);
    await until(async () => (await status()).peers[0]?.routesExported === 1, 10_000, 'status read from BIRD');
    const first = await status();
    expect(first).toMatchObject({ bird: { started: 'started', answering: true, left: false }, exports: [OWN] });
    expect(first.peers).toEqual([{ peer: ROUTER_IP, port: 179, asNumber: 64513, type: 'global', state: 'up', since: expect.stringMatching(/^\d{4}-/), info: 'Established', routesExported: 1, bgpPeer: 'tor', protocol: 'Global_172_16_30_1' }]);
    const human = await run('node', [WREN_MAIN, 'status', '--http-listen', `unix:${listen.path}`]);
    expect(human.stdout).toMatch(/^bgp {11}PEER ADDRESS +\| AS +\| PEER TYPE \| STATE \| SINCE +\| INFO$/m);
    expect(human.stdout).toMatch(/^bgp {11}172\.16\.30\.1 +\| 64513 \| global +\| up +\| \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \| Established$/m);
    const metrics = (await httpGet(listen, '/metrics')).body;
    expect(metrics).toContain('wren_bgp_peer_up{peer="172.16.30.1",type="global"} 1');
    expect(metrics).toContain('wren_bgp_peer_routes_exported{peer="172.16.30.1"} 1');
    expect(await httpGet(listen, '/readyz')).toEqual({ status: 200, body: 'ok\n' });

    // A block written to etcd, and taken away again: datastore to the router's kernel, 20 times.
    monitor = new RouteMonitor(pair.routerNs);
    await monitor.ready();
    const samples: number[] = [];
    for (let i = 0; i < 20; i++) {
      const adding = i % 2 === 0;
      const seen = monitor.next((line) => (adding ? !line.startsWith('Deleted') : line.startsWith('Deleted')) && line.includes(MORE), 3000);
      const started = performance.now();
      if (adding) {
        await client.create(blockKey(MORE), blockValue(MORE, 'node-1'));
        await client.create(affinityKey('node-1', MORE), '{"state":"confirmed","deleted":false}');
      } else {
        await remove(affinityKey('node-1', MORE));
        await remove(blockKey(MORE));
      }
      samples.push((await seen).at - started);
    }
    samples.sort((a, b) => a - b);
    const [p50, p99] = [samples[9] ?? NaN, samples[19] ?? NaN];
    console.log(`etcd write → the router's kernel, ms: p50 ${p50.toFixed(1)}, p99 ${p99.toFixed(1)} (n=20)`);
    expect(p99).toBeLessThan(1000);

    // The router goes away: the peer is named on /readyz, which stays 200; it comes back.
    const routerPid = Number((await run('cat', [pair.routerPaths.pidFile])).stdout.trim());
    await pair.kill(pair.routerPaths);
    await until(async () => (await httpGet(listen, '/readyz')).body.includes('BGP peer down'), 15_000, '/readyz naming the peer');
    const ready = await httpGet(listen, '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatch(/^ok: BGP peer down: 172\.16\.30\.1 \(AS 64513, start: [^)]+\); routing inside the cluster does not depend on them\n$/);
    expect((await httpGet(listen, '/metrics')).body).toContain('wren_bgp_peer_up{peer="172.16.30.1",type="global"} 0');
    expect(routerPid).toBeGreaterThan(0);
    await pair.startRouter();
    await until(async () => (await status()).peers[0]?.state === 'up', 20_000, 'the session back up');
    await until(async () => (await pair!.routerRoutes()).length === 1, 5000, 'the block back at the router');
    monitor.stop();

    // kill -9 of the agent: BIRD and the router's routes stay; the next agent takes BIRD over.
    monitor = new RouteMonitor(pair.routerNs);
    await monitor.ready();
    const withdrawn: string[] = [];
    monitor.subscribe((hit) => {
      if (hit.line.startsWith('Deleted') && hit.line.includes(OWN)) withdrawn.push(hit.line);
    });
    const birdPid = (await status()).bird.pid;
    agent.process.kill('SIGKILL');
    await agent.process.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await answers(pair.nodePaths.socket)).toBe(true);
    expect(await pair.routerRoutes()).toEqual([`${OWN} via ${NODE_IP}`]);
    agent = startAgent(pair, etcd.endpoint, listen.path, join(dir, 'agent.log'));
    await until(async () => (await status()).bird.started === 'took-over' && (await status()).peers[0]?.state === 'up', 30_000, 'BIRD taken over');
    expect((await status()).bird.pid).toBe(birdPid);
    expect(withdrawn).toEqual([]);

    // The node leaves the cluster: its Node and its block go, and the router drops the block at once.
    const leaving = performance.now();
    await remove(`${R}/nodes/node-1`);
    await until(async () => (await pair!.routerRoutes()).length === 0, 5000, 'the block withdrawn at the router');
    console.log(`node removed → block gone from the router's kernel in ${(performance.now() - leaving).toFixed(0)} ms`);
    await until(async () => (await status()).bird.left, 5000, 'status saying the node left');
    expect(await answers(pair.nodePaths.socket)).toBe(false);
  });
});
