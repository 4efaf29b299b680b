// `wren lab up --encap none --cross-subnet --bgp` end to end, through the built CLI, on both
// datastores (the API server where its build is cached): the router (BIRD, AS 64513) learns every
// node's block from the node's own BIRD; pods on the two subnets reach each other through it with
// no tunnel device and TTL 61, and `wren lab verify` expects exactly that; the outside host reaches
// a pod with its own address (no NAT); the router's BIRD killed and started again: the sessions
// drop and come back with every block; a node's session disabled and enabled: its blocks leave
// and return; kill -9 of an agent under a ping stream through the router loses nothing; `node del`
// withdraws the node's blocks; `node add` joins the fabric; `down` ends every BIRD. Each lab is
// removed also on failure.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEchoSources, watchEchoSources } from '../kernel/echo-sources.js';
import { run, spawn } from '../kernel/exec.js';
import { alive } from '../lab/agents.js';
import { startRouterBird } from '../lab/bgp.js';
import { loadLab } from '../lab/state.js';
import { listNetns } from '../lab/topology/index.js';
import { requireBuiltCli, WREN_MAIN } from './support/built-cli.js';
import { kubeApiServerBuild } from './support/real-kube-api/index.js';
import { until } from './support/until.js';

interface Status {
  nodes: { name: string; ip: string; subnet: string; blocks: string[]; bgpPeers: { peer: string; asNumber: number; type: string; state: string; info: string }[] }[];
  router: { netns: string; asNumber: number; learned: { prefix: string; via: string }[] } | null;
  external: { name: string; ip: string; netns: string } | null;
  pods: { name: string; node: string; netns: string; ip: string }[];
}
interface Pair { from: string; to: string; ok: boolean; ttl: number; expectedTtl: number; path: string; expectedPath: string; pass: boolean }

const labs = new Set<string>();
beforeAll(requireBuiltCli);
afterAll(async () => {
  for (const name of labs) await run('node', [WREN_MAIN, 'lab', 'down', '--name', name]);
});

async function wren(...args: string[]) {
  const r = await run('node', [WREN_MAIN, ...args]);
  return { code: r.exitCode, out: r.stdout, err: r.stderr };
}

const learned = (s: Status) => s.router!.learned.map((r) => `${r.prefix} via ${r.via}`).sort();
const expectedLearned = (s: Status) => s.nodes.flatMap((n) => n.blocks.map((b) => `${b} via ${n.ip}`)).sort();
const allUp = (s: Status) => s.nodes.every((n) => n.bgpPeers.length === 1 && n.bgpPeers[0]?.state === 'up');

/** The pids in the lab's BIRD pid files: every node's, and the router's. */
async function birdPids(name: string): Promise<number[]> {
  const state = (await loadLab(name))!;
  const dirs = [...Object.values(state.agents).map((a) => a.birdDir!), state.bgp!.router.dir];
  return Promise.all(dirs.map(async (dir) => Number((await readFile(join(dir, 'bird.pid'), 'utf8')).trim())));
}

/** A ping stream's summary: transmitted and received. */
function pingStream(netns: string, target: string, seconds: number) {
  const pinger = spawn('ip', ['netns', 'exec', netns, 'ping', '-i', '0.02', '-w', String(seconds), target]);
  let output = '';
  pinger.process.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  return pinger.process.catch(() => undefined).then(() => {
    const stats = /(\d+) packets transmitted, (\d+) received/.exec(output);
    return { transmitted: Number(stats?.[1] ?? 0), received: Number(stats?.[2] ?? -1), output };
  });
}

describe.each([
  { datastore: 'etcd', flags: [] as string[], skip: false },
  { datastore: 'kubernetes', flags: ['--datastore', 'kubernetes'], skip: kubeApiServerBuild === undefined },
])('wren lab up --encap none --cross-subnet --bgp ($datastore)', ({ flags, skip }) => {
  const name = `b${randomBytes(3).toString('hex')}`;
  const status = async () => JSON.parse((await wren('lab', 'status', '--name', name, '--json')).out) as Status;
  let s: Status;

  it.skipIf(skip)('the router learns every block from the nodes, each node has its router peer up', async () => {
    labs.add(name);
    const up = await wren('lab', 'up', '--name', name, '--encap', 'none', '--cross-subnet', '--bgp', '--nodes', '4', '--pods-per-node', '1', ...flags);
    expect(up.code, up.err).toBe(0);
    expect(up.out).toContain('starting BIRD on the router (AS 64513');
    await until(async () => {
      s = await status();
      return allUp(s) && learned(s).join() === expectedLearned(s).join();
    }, 30_000, 'every session up and every block at the router');
    expect(s.router).toMatchObject({ netns: expect.stringMatching(new RegExp(`^wl-${name}-[0-9a-f]{6}-rt$`)), asNumber: 64513 });
    expect(new Set(s.nodes.map((n) => n.subnet)).size).toBe(2);
    for (const node of s.nodes) {
      const gateway = node.subnet.replace(/0\/24$/, '1');
      expect(node.bgpPeers).toEqual([{ peer: gateway, asNumber: 64513, type: 'node specific', state: 'up', since: expect.any(String), info: 'Established', routesExported: node.blocks.length }]);
    }
    expect(learned(s)).toHaveLength(4);
    // The human form names each node's peer.
    expect((await wren('lab', 'status', '--name', name)).out).toMatch(/BGP router: AS 64513 .* learned 10\.244\./);
  }, 120_000);

  it.skipIf(skip)('pods on different subnets reach each other through the router: TTL 61, no tunnel device, verify expects it', async () => {
    const verify = await wren('lab', 'verify', '--name', name, '--json');
    const result = JSON.parse(verify.out) as { pass: boolean; pairs: Pair[] };
    expect(verify.code, verify.out).toBe(0);
    expect(result.pass).toBe(true);
    const subnetOf = (pod: string) => s.nodes.find((n) => n.name === s.pods.find((p) => p.name === pod)!.node)!.subnet;
    const across = result.pairs.filter((p) => subnetOf(p.from) !== subnetOf(p.to));
    expect(across).toHaveLength(8);
    for (const pair of across) expect(pair).toMatchObject({ ok: true, ttl: 61, expectedTtl: 61, path: 'fabric' });
    for (const pair of result.pairs.filter((p) => subnetOf(p.from) === subnetOf(p.to))) expect(pair).toMatchObject({ ok: true, ttl: 62, path: 'direct' });
    for (const node of s.nodes) {
      const links = await wren('lab', 'exec', node.name, '--name', name, '--', 'ip', '-o', 'link');
      expect(links.out).not.toMatch(/vxlan|tunl0|ipip/);
    }
  }, 60_000);

  it.skipIf(skip)('the outside host reaches a pod directly: the pod sees its address, not a NAT one', async () => {
    for (const pod of s.pods) {
      await watchEchoSources(pod.netns);
      const ping = await wren('lab', 'ping', 'outside', pod.name, '-c', '2', '--name', name);
      expect(ping.code, ping.out).toBe(0);
      const seen = await wren('lab', 'exec', pod.name, '--name', name, '--', 'nft', '-j', 'list', 'table', 'inet', 'wren-echo-sources');
      expect(parseEchoSources(seen.out)).toEqual([{ address: '203.0.113.10', packets: 2 }]);
    }
    const trace = await wren('lab', 'exec', 'outside', '--name', name, '--', 'ip', 'route', 'get', s.pods[0]!.ip);
    expect(trace.out).toContain('via 203.0.113.1');
  }, 60_000);

  it.skipIf(skip)('the router\'s BIRD killed: every session drops; started again: every block is learned again', async () => {
    const state = (await loadLab(name))!;
    const routerPid = (await birdPids(name)).at(-1)!;
    process.kill(routerPid, 'SIGKILL');
    await until(async () => (await status()).nodes.every((n) => n.bgpPeers[0]?.state !== 'up'), 15_000, 'every node seeing its peer down');
    await startRouterBird(name, state.bgp!.router.netns, state.topology.subnets);
    await until(async () => {
      const now = await status();
      return allUp(now) && learned(now).join() === expectedLearned(s).join();
    }, 30_000, 'sessions and blocks back');
  }, 60_000);

  it.skipIf(skip)('a node\'s session disabled: the router drops its blocks; enabled: they come back', async () => {
    const node = s.nodes[0]!;
    const dir = (await loadLab(name))!.agents[node.name]!.birdDir!;
    const protocol = `Node_${node.bgpPeers[0]!.peer.replace(/\./g, '_')}`;
    const birdc = (verb: string) => wren('lab', 'exec', node.name, '--name', name, '--', 'birdc', '-s', join(dir, 'bird.ctl'), verb, protocol);
    expect((await birdc('disable')).code).toBe(0);
    await until(async () => !learned(await status()).some((r) => r.endsWith(`via ${node.ip}`)), 5000, 'the blocks gone from the router');
    expect((await status()).nodes[0]?.bgpPeers[0]?.state).not.toBe('up');
    expect((await birdc('enable')).code).toBe(0);
    await until(async () => learned(await status()).join() === expectedLearned(s).join(), 15_000, 'the blocks back');
  }, 60_000);

  it.skipIf(skip)('kill -9 of an agent under pings from the outside and across subnets: none lost, BIRD kept', async () => {
    const node = s.nodes[0]!;
    const pod = s.pods.find((p) => p.node === node.name)!;
    const far = s.pods.find((p) => s.nodes.find((n) => n.name === p.node)!.subnet !== node.subnet)!;
    const before = await birdPids(name);
    const streams = [pingStream(s.external!.netns, pod.ip, 4), pingStream(far.netns, pod.ip, 4)];
    await new Promise((r) => setTimeout(r, 500));
    const restarted = await wren('lab', 'agent', 'restart', node.name, '--name', name);
    expect(restarted.code, restarted.err).toBe(0);
    for (const stream of await Promise.all(streams)) {
      expect(stream.transmitted, stream.output).toBeGreaterThan(100);
      expect(stream.received, stream.output).toBe(stream.transmitted);
    }
    expect(await birdPids(name)).toEqual(before);
    expect(learned(await status()).join()).toBe(expectedLearned(s).join());
  }, 60_000);

  it.skipIf(skip)('node del withdraws its blocks from the router at once', async () => {
    const leaving = s.nodes.at(-1)!;
    const started = Date.now();
    const del = await wren('lab', 'node', 'del', leaving.name, '--name', name);
    expect(del.code, del.err).toBe(0);
    const remaining = expectedLearned(s).filter((r) => !r.endsWith(`via ${leaving.ip}`));
    await until(async () => learned(await status()).join() === remaining.join(), 5000, 'the blocks of the node withdrawn');
    console.log(`node del → its blocks gone from the router's kernel: ${Date.now() - started} ms (the command included)`);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await status()).nodes.map((n) => n.name)).not.toContain(leaving.name);
  }, 60_000);

  it.skipIf(skip)('node add joins the fabric: its BGPPeer, its session, its block at the router, its pod reached through it', async () => {
    const add = await wren('lab', 'node', 'add', 'node-5', '--name', name);
    expect(add.code, add.err).toBe(0);
    const pod = await wren('lab', 'pod', 'add', 'pod-5-1', '--node', 'node-5', '--name', name);
    expect(pod.code, pod.err).toBe(0);
    let now = await status();
    await until(async () => {
      now = await status();
      return allUp(now) && learned(now).join() === expectedLearned(now).join();
    }, 20_000, 'node-5 peered and its block at the router');
    const joined = now.nodes.find((n) => n.name === 'node-5')!;
    expect(joined.bgpPeers[0]).toMatchObject({ peer: joined.subnet.replace(/0\/24$/, '1'), state: 'up' });
    const far = now.pods.find((p) => now.nodes.find((n) => n.name === p.node)!.subnet !== joined.subnet)!;
    const ping = await wren('lab', 'exec', far.name, '--name', name, '--', 'ping', '-c', '1', '-W', '2', now.pods.find((p) => p.name === 'pod-5-1')!.ip);
    expect(ping.out).toMatch(/ttl=61 /);
  }, 60_000);

  it.skipIf(skip)('down ends every BIRD, the router\'s too', async () => {
    const pids = await birdPids(name);
    expect(pids.every(alive)).toBe(true);
    expect((await wren('lab', 'down', '--name', name)).code).toBe(0);
    labs.delete(name);
    expect(pids.filter(alive)).toEqual([]);
    expect((await listNetns()).filter((n) => n.startsWith(`wl-${name}-`))).toEqual([]);
  }, 60_000);
});

describe('--bgp needs the router', () => {
  it('without --cross-subnet it is refused before anything is made', async () => {
    const name = `b${randomBytes(3).toString('hex')}`;
    const up = await wren('lab', 'up', '--name', name, '--encap', 'none', '--bgp');
    expect(up.code).toBe(1);
    expect(up.err).toBe('wren lab: --bgp needs --cross-subnet: the BGP speaker is the router between the two subnets\n');
    expect((await listNetns()).filter((n) => n.startsWith(`wl-${name}-`))).toEqual([]);
  });
});
