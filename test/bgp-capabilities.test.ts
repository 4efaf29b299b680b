// What the DaemonSet grants BIRD is what it needs: with the container's capabilities, NET_ADMIN
// (wren's) and NET_BIND_SERVICE, BIRD — run as root with every other capability dropped from
// every set (setpriv), wren's configuration, in the node's namespace — binds BGP's port 179,
// establishes and the router learns the node's block. Without NET_BIND_SERVICE it cannot listen
// on 179 and the session never comes up.
import { mkdir, writeFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { answers } from '../kernel/bird/bird-daemon.js';
import { birdCommand } from '../kernel/bird/bird-socket.js';
import { parseBgpProtocols } from '../kernel/bird/protocols.js';
import { spawn, type Spawned } from '../kernel/exec.js';
import { bgpPair, NODE_IP, type BgpPair } from './support/bgp-pair.js';
import { until } from './support/until.js';

const BLOCK = '10.244.1.0/26';
let pair: BgpPair | undefined;
let bird: Spawned | undefined;
afterEach(async () => {
  bird?.process.kill('SIGKILL');
  await bird?.process.catch(() => undefined);
  await pair?.remove();
  [pair, bird] = [undefined, undefined];
});

/** BIRD with wren's configuration, as root holding only `caps` in every set; its log collected. */
async function confinedBird(p: BgpPair, caps: string[]): Promise<{ log: () => string }> {
  await mkdir(p.nodePaths.dir, { recursive: true });
  await writeFile(p.nodePaths.config, p.nodeConfig([BLOCK]));
  const set = `-all,${caps.map((c) => `+${c}`).join(',')}`;
  bird = spawn('ip', ['netns', 'exec', p.nodeNs, 'setpriv', `--inh-caps=${set}`, `--ambient-caps=${set}`, `--bounding-set=${set}`, '--', '/usr/sbin/bird', '-f', '-c', p.nodePaths.config, '-s', p.nodePaths.socket], { stdout: 'ignore', stderr: 'pipe' });
  let log = '';
  bird.process.stderr?.on('data', (chunk: Buffer) => {
    log += chunk.toString();
  });
  await until(() => answers(p.nodePaths.socket), 5000, 'BIRD answering');
  return { log: () => log };
}

const session = async (p: BgpPair) => (parseBgpProtocols(await birdCommand(p.nodePaths.socket, 'show protocols all')))[0];

describe('BIRD with the DaemonSet\'s capabilities', { timeout: 60_000 }, () => {
  it('NET_ADMIN and NET_BIND_SERVICE: listens on 179, establishes, the router learns the block', async () => {
    pair = await bgpPair('bcap');
    await pair.startRouter();
    await confinedBird(pair, ['net_admin', 'net_bind_service']);
    await until(async () => (await pair!.routerRoutes()).length === 1, 15_000, 'the block at the router');
    expect(await pair.routerRoutes()).toEqual([`${BLOCK} via ${NODE_IP}`]);
    expect(await session(pair)).toMatchObject({ state: 'up', bgpState: 'Established' });
  });

  it('NET_ADMIN alone: no listening socket on 179, no session', async () => {
    pair = await bgpPair('bcap');
    await pair.startRouter();
    const { log } = await confinedBird(pair, ['net_admin']);
    await until(async () => (await session(pair!))?.info.includes('No listening socket') === true, 10_000, 'the session refused');
    expect(log()).toMatch(/bind: Permission denied/);
    await new Promise((r) => setTimeout(r, 2000));
    expect(await pair.routerRoutes()).toEqual([]);
  });
});
