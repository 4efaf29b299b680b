// BIRD as kernel/bird/ runs it, against a plain router BIRD in a namespace of its own, on a real
// kernel: the session comes up, the router learns exactly the node's blocks (never a default
// route, even one slipped into the list), a block's change reaches the router's kernel within
// 1 s (measured over 20 changes), graceful restart keeps the routes at the router across a
// kill -9 of the node's BIRD, a running BIRD is taken over rather than doubled, a node leaving
// withdraws at once, and the session's state reads back typed.
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { RouteMonitor } from '../bench/route-monitor.js';
import { run } from '../kernel/exec.js';
import { birdPaths } from '../kernel/bird/bird-daemon.js';
import { BirdUnreachableError, birdCommand } from '../kernel/bird/bird-socket.js';
import { parseBgpProtocols } from '../kernel/bird/protocols.js';
import type { Cidr } from '../kernel/values.js';
import { bgpPair, NODE_AS, NODE_IP, ROUTER_AS, ROUTER_IP, type BgpPair } from './support/bgp-pair.js';
import { until } from './support/until.js';

const BLOCK = '10.244.1.0/26';
const OTHER = '10.244.1.64/26';
let pair: BgpPair | undefined;
let monitor: RouteMonitor | undefined;

afterEach(async () => {
  monitor?.stop();
  monitor = undefined;
  await pair?.remove();
  pair = undefined;
});

/** The node's BIRD's sessions, read without changing its configuration. */
async function sessions(p: BgpPair) {
  return parseBgpProtocols(await birdCommand(p.nodePaths.socket, 'show protocols all'));
}

function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

describe('BIRD run by wren, against a router', { timeout: 90_000 }, () => {
  it('establishes; the router learns the node\'s blocks and nothing else, not even a default route slipped into the list', async () => {
    pair = await bgpPair('bgp');
    await pair.startRouter();
    // The node's kernel has a default route and a route of wren's own: BIRD reads neither.
    await pair.startNode([BLOCK, OTHER, '0.0.0.0/0']);
    await until(async () => (await pair!.routerRoutes()).length >= 2, 15_000, 'routes at the router');
    await new Promise((r) => setTimeout(r, 500));
    expect((await pair.routerRoutes()).sort()).toEqual([`${BLOCK} via ${NODE_IP}`, `${OTHER} via ${NODE_IP}`]);
    const [session] = await sessions(pair);
    expect(session).toMatchObject({ name: 'Global_172_16_30_1', state: 'up', info: 'Established', bgpState: 'Established', neighborAddress: ROUTER_IP, neighborAs: ROUTER_AS, localAs: NODE_AS, routes: { imported: 0, exported: 2 } });
    expect(session?.since).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
    const status = await readFile(`/proc/${(await readFile(pair.nodePaths.pidFile, 'utf8')).trim()}/status`, 'utf8');
    console.log(`the node's BIRD with one session and two blocks: ${/VmRSS:\s+(\d+ kB)/.exec(status)?.[1]} RSS, ${/VmHWM:\s+(\d+ kB)/.exec(status)?.[1]} peak`);
  });

  it('a block added or removed reaches the router\'s kernel within 1 s: p50 and p99 over 20 changes', async () => {
    pair = await bgpPair('bgp');
    await pair.startRouter();
    const { bird } = await pair.startNode([BLOCK]);
    await until(async () => (await pair!.routerRoutes()).length === 1, 15_000, 'the first block at the router');
    monitor = new RouteMonitor(pair.routerNs);
    await monitor.ready();
    const toPeer: number[] = [];
    const reload: number[] = [];
    for (let i = 0; i < 20; i++) {
      const adding = i % 2 === 0;
      const seen = monitor.next((line) => (adding ? !line.startsWith('Deleted') : line.startsWith('Deleted')) && line.includes(OTHER), 2000);
      const started = performance.now();
      const { ms } = await bird.configure(pair.nodeConfig(adding ? [BLOCK, OTHER] : [BLOCK]));
      reload.push(ms);
      toPeer.push((await seen).at - started);
    }
    const figures = { reloadP50: percentile(reload, 50), reloadP99: percentile(reload, 99), toPeerP50: percentile(toPeer, 50), toPeerP99: percentile(toPeer, 99) };
    console.log(`BIRD reconfigure ms p50 ${figures.reloadP50.toFixed(1)} p99 ${figures.reloadP99.toFixed(1)}; block to the router's kernel ms p50 ${figures.toPeerP50.toFixed(1)} p99 ${figures.toPeerP99.toFixed(1)} (n=20)`);
    expect(figures.toPeerP99).toBeLessThan(1000);
    expect(await pair.routerRoutes()).toEqual([`${BLOCK} via ${NODE_IP}`]);
  });

  it('graceful restart: the router keeps the routes across a kill -9 of the node\'s BIRD, and the restarted one takes them up without a withdrawal', async () => {
    pair = await bgpPair('bgp');
    await pair.startRouter();
    const first = await pair.startNode([BLOCK]);
    expect(first.how).toBe('started');
    await until(async () => (await pair!.routerRoutes()).length === 1, 15_000, 'the block at the router');
    monitor = new RouteMonitor(pair.routerNs);
    await monitor.ready();
    const withdrawals: string[] = [];
    monitor.subscribe((hit) => {
      if (hit.line.startsWith('Deleted') && hit.line.includes(BLOCK)) withdrawals.push(hit.line);
    });
    await pair.kill(pair.nodePaths);
    await new Promise((r) => setTimeout(r, 3000));
    expect(await pair.routerRoutes()).toEqual([`${BLOCK} via ${NODE_IP}`]);
    const again = await pair.startNode([BLOCK]);
    expect(again.how).toBe('restarted');
    await until(async () => (await sessions(pair!))[0]?.bgpState === 'Established', 15_000, 're-established');
    await new Promise((r) => setTimeout(r, 1000));
    expect(withdrawals).toEqual([]);
    expect(await pair.routerRoutes()).toEqual([`${BLOCK} via ${NODE_IP}`]);
  });

  it('a BIRD already running on the socket is taken over: no second BIRD, the session stays up, the new blocks are sent', async () => {
    pair = await bgpPair('bgp');
    await pair.startRouter();
    const first = await pair.startNode([BLOCK]);
    await until(async () => (await sessions(pair!))[0]?.bgpState === 'Established', 15_000, 'established');
    const since = (await sessions(pair))[0]?.since;
    const second = await pair.startNode([BLOCK, OTHER]);
    expect(second.how).toBe('took-over');
    expect(second.bird.pid).toBe(first.bird.pid);
    await until(async () => (await pair!.routerRoutes()).length === 2, 5000, 'the new block at the router');
    expect((await sessions(pair))[0]?.since).toBe(since);
    const birds = (await run('pgrep', ['-f', `-s ${pair.nodePaths.socket}`])).stdout.trim().split('\n');
    expect(birds).toHaveLength(1);
  });

  it('a node leaving (withdraw) tells the router, which drops its routes at once; graceful leaves them', async () => {
    pair = await bgpPair('bgp');
    await pair.startRouter();
    const { bird } = await pair.startNode([BLOCK]);
    await until(async () => (await pair!.routerRoutes()).length === 1, 15_000, 'the block at the router');
    const started = performance.now();
    await bird.shutdown('withdraw');
    await until(async () => (await pair!.routerRoutes()).length === 0, 1000, 'the withdrawal at the router');
    console.log(`withdraw on leaving: gone from the router's kernel after ${(performance.now() - started).toFixed(0)} ms`);
    await expect(birdCommand(pair.nodePaths.socket, 'show status')).rejects.toBeInstanceOf(BirdUnreachableError);

    const again = await pair.startNode([BLOCK]);
    await until(async () => (await pair!.routerRoutes()).length === 1, 15_000, 'the block back at the router');
    await again.bird.shutdown('graceful');
    await new Promise((r) => setTimeout(r, 2000));
    expect(await pair.routerRoutes()).toEqual([`${BLOCK} via ${NODE_IP}`]);
  });

  it('a router that goes down shows as down with BIRD\'s reason, and the session comes back with it', async () => {
    pair = await bgpPair('bgp');
    const router = await pair.startRouter();
    await pair.startNode([BLOCK]);
    await until(async () => (await pair!.routerRoutes()).length === 1, 15_000, 'the block at the router');
    await router.shutdown('withdraw');
    await until(async () => (await sessions(pair!))[0]?.state !== 'up', 5000, 'the session down');
    const [down] = await sessions(pair);
    expect(down).toMatchObject({ name: 'Global_172_16_30_1', neighborAddress: ROUTER_IP });
    expect(down?.info).not.toBe('Established');
    await pair.startRouter();
    await until(async () => (await pair!.routerRoutes()).length === 1, 20_000, 'the block back at the router');
    expect((await sessions(pair))[0]?.bgpState).toBe('Established');
  });

  it('a router accepting a whole range (BIRD\'s dynamic BGP) learns the node\'s blocks too', async () => {
    pair = await bgpPair('bgp');
    await pair.startRouter([{ range: '172.16.30.0/24' as Cidr }]);
    await pair.startNode([BLOCK]);
    await until(async () => (await pair!.routerRoutes()).length === 1, 15_000, 'the block at the router');
    expect(await pair.routerRoutes()).toEqual([`${BLOCK} via ${NODE_IP}`]);
    const router = parseBgpProtocols(await birdCommand(pair.routerPaths.socket, 'show protocols all'));
    expect(router.map((s) => [s.name, s.bgpState, s.neighborAddress, s.neighborAs])).toEqual([['nodes0', 'Passive', undefined, 0], ['node0_1', 'Established', NODE_IP, NODE_AS]]);
  });

  it('refuses a directory whose socket path cannot be a unix socket, or that is not a plain path', () => {
    expect(() => birdPaths(`/run/${'x'.repeat(100)}`)).toThrow(/107 bytes/);
    expect(() => birdPaths('/run/wren/../etc')).toThrow(RangeError);
    expect(() => birdPaths('/run/wren/a b')).toThrow(RangeError);
    expect(() => birdPaths('relative/dir')).toThrow(RangeError);
  });
});

