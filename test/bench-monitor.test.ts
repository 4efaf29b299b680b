// The benchmark's clock, `ip monitor route`, when it falls behind: a netlink overrun drops
// events, so a count of BIRD's routes would wait for lines that never come. The monitor says so
// at once, and BIRD's run ends with that reason instead of a two-minute timeout (the cold-sync
// scenario then runs BIRD again in a fresh namespace). The overrun is made certain by stopping
// the monitor (SIGSTOP) while the routes are written, with a socket buffer of a few messages.
import { afterEach, describe, expect, it } from 'vitest';
import { buildCluster, LOCAL_NODE } from '../bench/cluster.js';
import { birdInstalled, MonitorOverrun, setUpNonRoutes, startBird } from '../bench/contenders/bird.js';
import { createNodeNs } from '../bench/node-ns.js';
import { RouteMonitor } from '../bench/route-monitor.js';
import { planFor } from '../bench/wren-lines.js';
import { countRoutes } from '../bench/kernel-routes.js';
import { runOk } from '../kernel/exec.js';
import { freeze } from './support/freeze.js';
import { scratchNs } from './support/scratch-ns.js';

/** Small enough that a burst of a few thousand routes overruns it (the kernel's floor is ~2 KiB). */
const TINY_RCVBUF = 4096;
const bird = await birdInstalled();

/** Stops the namespace's monitor until the returned function is called. */
async function freezeMonitor(netns: string): Promise<() => Promise<void>> {
  const pid = (await runOk('pgrep', ['-f', `^ip -n ${netns} -ts -rcvbuf ${TINY_RCVBUF} monitor route$`])).trim();
  expect(pid).toMatch(/^\d+$/);
  return freeze(pid);
}
/**
 * A monitor with the tiny buffer, subscribed. The namespace's own events (IPv6 routes of links
 * just brought up arrive in a burst) can overrun so small a buffer before the test's burst, and
 * iproute2 6.1 may then exit: such a monitor is replaced, after a second for the burst to pass.
 */
async function tinyMonitor(netns: string): Promise<RouteMonitor> {
  for (let attempt = 1; ; attempt++) {
    const monitor = new RouteMonitor(netns, TINY_RCVBUF);
    try {
      await monitor.ready();
      if (monitor.overruns.length === 0) return monitor;
      if (attempt === 5) {
        monitor.stop();
        throw new Error(`the monitor overran before the test began: ${monitor.overruns.join(' | ')}`);
      }
    } catch (error) {
      if (attempt === 5) {
        monitor.stop();
        throw error;
      }
    }
    monitor.stop();
    await new Promise((r) => setTimeout(r, 1000));
  }
}
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('bench route monitor', () => {
  it("times each line by `ip`'s own stamp, so a pause of the benchmark's process is not counted", async () => {
    const ns = await scratchNs('bmts');
    cleanups.push(() => ns.remove());
    const monitor = new RouteMonitor(ns.name);
    cleanups.push(() => monitor.stop());
    await monitor.ready();
    const seen = monitor.next((line) => line.startsWith('blackhole 192.0.2.77 '), 5000);
    const before = performance.now();
    await runOk('ip', ['-n', ns.name, 'route', 'add', 'blackhole', '192.0.2.77/32', 'proto', '251']);
    const written = performance.now();
    // The line waits in the pipe while this process is busy, as it would behind a collection.
    while (performance.now() - written < 300);
    const hit = await seen;
    expect(hit.line).toBe('blackhole 192.0.2.77 proto 251 ');
    expect(hit.at).toBeGreaterThan(before);
    expect(hit.at - written).toBeLessThan(150); // well under the 300 ms pause, with room for a loaded machine
  });

  it('reports an overrun as soon as the kernel drops events', async () => {
    const ns = await scratchNs('bmon');
    cleanups.push(() => ns.remove());
    const monitor = await tinyMonitor(ns.name);
    cleanups.push(() => monitor.stop());
    const thaw = await freezeMonitor(ns.name);
    cleanups.push(thaw);
    const lines = Array.from({ length: 2000 }, (_, i) => `route add 10.${100 + (i >> 8)}.${i & 255}.0/24 via 172.16.30.7 dev eth0`);
    await runOk('ip', ['-n', ns.name, '-batch', '-'], `${lines.join('\n')}\n`);
    await thaw();
    const line = await Promise.race([monitor.overran, new Promise<string>((r) => setTimeout(() => r('(none within 5 s)'), 5000))]);
    expect(line).toMatch(/No buffer space/);
    expect(monitor.lines).toBeLessThan(2000);
  });

  it.skipIf(!bird)('ends a BIRD run whose monitor overran with that reason, not a timeout (needs BIRD 2)', async () => {
    const cluster = buildCluster({ blocks: 3000, pods: 0, encap: 'none', localTunnel: false });
    const ns = await createNodeNs(`wren-t-bbird-${process.pid}`, cluster.localCidr, cluster.localIfaces);
    cleanups.push(() => ns.remove());
    const plan = await planFor(ns.name, cluster.snapshot, LOCAL_NODE);
    await setUpNonRoutes(ns.name, plan.phases);
    const monitor = await tinyMonitor(ns.name);
    cleanups.push(() => monitor.stop());
    const thaw = await freezeMonitor(ns.name);
    cleanups.push(thaw);
    const started = performance.now();
    const running = startBird(ns.name, cluster.localCidr.split('/')[0] ?? '', plan.routes, monitor, 60_000);
    running.catch(() => undefined); // awaited below, after the thaw
    while ((await countRoutes(ns.name, 'bird')) < cluster.expectedRoutes) await new Promise((r) => setTimeout(r, 50));
    await thaw();
    await expect(running).rejects.toBeInstanceOf(MonitorOverrun);
    expect(performance.now() - started).toBeLessThan(20_000);
  });
});
