// Pod egress in `wren lab`, end to end through the built CLI: the lab's host outside the cluster
// (203.0.113.10) counts the source of every echo request it receives, so each test asserts what
// arrived there, not only whether a reply came back. With the pool's natOutgoing (the lab's
// default) a pod's ping arrives from its node's address and is answered, behind the underlay's
// gateway and behind the router; pod to pod keeps the pod's address; an agent killed with -9
// under a ping stream loses no reply; without natOutgoing the pod's own address arrives and no
// reply can come back.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEchoSources, watchEchoSources } from '../kernel/echo-sources.js';
import { run, spawn } from '../kernel/exec.js';
import { listNetns } from '../lab/topology/index.js';
import { requireBuiltCli, WREN_MAIN } from './support/built-cli.js';

const labs = new Set<string>();
beforeAll(requireBuiltCli);
afterAll(async () => {
  for (const name of labs) await run('node', [WREN_MAIN, 'lab', 'down', '--name', name]);
});

interface Status {
  natOutgoing: boolean;
  external: { name: string; ip: string; netns: string } | null;
  nodes: { name: string; ip: string; subnet: string }[];
  pods: { name: string; node: string; netns: string; ip: string }[];
}

async function wren(...args: string[]) {
  const r = await run('node', [WREN_MAIN, ...args]);
  return { code: r.exitCode, out: r.stdout, err: r.stderr };
}

/** A lab, brought up with these flags; its status as `wren lab status --json` gives it. */
async function labUp(...flags: string[]): Promise<{ name: string; status: Status }> {
  const name = `t${randomBytes(3).toString('hex')}`;
  labs.add(name);
  const up = await wren('lab', 'up', '--name', name, '--pods-per-node', '1', ...flags);
  expect(up.code, up.err).toBe(0);
  return { name, status: JSON.parse((await wren('lab', 'status', '--name', name, '--json')).out) as Status };
}

/** What the outside host (or any lab namespace with the watch) saw, read as a user would. */
async function sourcesSeen(name: string, target: string): Promise<{ address: string; packets: number }[]> {
  const listed = await wren('lab', 'exec', target, '--name', name, '--', 'nft', '-j', 'list', 'table', 'inet', 'wren-echo-sources');
  expect(listed.code, listed.err).toBe(0);
  return parseEchoSources(listed.out);
}

describe('natOutgoing on (the lab default), one subnet: the outside behind the underlay gateway', () => {
  let name: string;
  let s: Status;
  beforeAll(async () => {
    ({ name, status: s } = await labUp('--nodes', '2'));
  });

  it('status shows the pool natOutgoing and the outside host, with the fields scripts rely on', () => {
    expect(s.natOutgoing).toBe(true);
    expect(s.external).toEqual({ name: 'outside', ip: '203.0.113.10', netns: expect.stringMatching(new RegExp(`^wl-${name}-[0-9a-f]{6}-ex$`)) });
  });

  it("wren lab ping POD outside is answered, and the outside saw the node's address", async () => {
    const pod = s.pods.find((p) => p.node === 'node-1')!;
    await watchEchoSources(s.external!.netns);
    const ping = await wren('lab', 'ping', pod.name, 'outside', '-c', '3', '--name', name);
    expect(ping.code, ping.out).toBe(0);
    expect(ping.out).toContain('3 packets transmitted, 3 received');
    expect(await sourcesSeen(name, 'outside')).toEqual([{ address: s.nodes.find((n) => n.name === 'node-1')!.ip, packets: 3 }]);
  });

  it('wren lab exec reaches it too, from every pod, each behind its own node', async () => {
    await watchEchoSources(s.external!.netns);
    for (const pod of s.pods) {
      const exec = await wren('lab', 'exec', pod.name, '--name', name, '--', 'ping', '-c', '1', '-W', '2', '203.0.113.10');
      expect(exec.code, exec.out).toBe(0);
    }
    expect(await sourcesSeen(name, 'outside')).toEqual(s.nodes.map((n) => ({ address: n.ip, packets: 1 })));
  });

  it("a pod on another node sees the pod's own address", async () => {
    const [from, to] = [s.pods.find((p) => p.node === 'node-1')!, s.pods.find((p) => p.node === 'node-2')!];
    await watchEchoSources(to.netns);
    const ping = await wren('lab', 'ping', from.name, to.name, '-c', '2', '--name', name);
    expect(ping.code, ping.out).toBe(0);
    expect(await sourcesSeen(name, to.name)).toEqual([{ address: from.ip, packets: 2 }]);
  });

  it('kill -9 and restart of the agent under a ping stream to the outside loses no reply', async () => {
    const pod = s.pods.find((p) => p.node === 'node-1')!;
    await watchEchoSources(s.external!.netns);
    const pinger = spawn('ip', ['netns', 'exec', pod.netns, 'ping', '-i', '0.02', '-w', '4', '203.0.113.10']);
    let output = '';
    pinger.process.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    await new Promise((r) => setTimeout(r, 500));
    const restarted = await wren('lab', 'agent', 'restart', 'node-1', '--name', name);
    expect(restarted.code, restarted.err).toBe(0);
    await pinger.process.catch(() => undefined);
    const stats = /(\d+) packets transmitted, (\d+) received/.exec(output);
    expect(stats, output).not.toBeNull();
    expect(Number(stats![1])).toBeGreaterThan(100);
    expect(stats![2]).toBe(stats![1]);
    // Every one of them left with the node's address, before, during and after the restart.
    expect(await sourcesSeen(name, 'outside')).toEqual([{ address: s.nodes.find((n) => n.name === 'node-1')!.ip, packets: Number(stats![1]) }]);
  }, 30_000);

  it('down removes the outside host with the rest', async () => {
    expect((await wren('lab', 'down', '--name', name)).code).toBe(0);
    labs.delete(name);
    expect((await listNetns()).filter((n) => n.startsWith(`wl-${name}-`))).toEqual([]);
  });
});

describe('natOutgoing on, two subnets: the outside behind the router', () => {
  it("a pod on either subnet reaches it, and it saw that pod's node", async () => {
    const { name, status: s } = await labUp('--nodes', '2', '--cross-subnet');
    expect(new Set(s.nodes.map((n) => n.subnet)).size).toBe(2);
    await watchEchoSources(s.external!.netns);
    for (const pod of s.pods) {
      const ping = await wren('lab', 'ping', pod.name, 'outside', '-c', '1', '--name', name);
      expect(ping.code, ping.out).toBe(0);
    }
    expect(await sourcesSeen(name, 'outside')).toEqual(s.nodes.map((n) => ({ address: n.ip, packets: 1 })));
    await wren('lab', 'down', '--name', name);
    labs.delete(name);
  });
});

describe('--no-nat-outgoing', () => {
  it('the pool has no natOutgoing: the outside saw the pod address, and no reply could come back', async () => {
    const { name, status: s } = await labUp('--nodes', '1', '--no-nat-outgoing');
    expect(s.natOutgoing).toBe(false);
    const pod = s.pods[0]!;
    await watchEchoSources(s.external!.netns);
    const ping = await wren('lab', 'ping', pod.name, 'outside', '-c', '2', '--name', name);
    expect(ping.code).toBe(1);
    expect(ping.out).toContain('2 packets transmitted, 0 received');
    expect(await sourcesSeen(name, 'outside')).toEqual([{ address: pod.ip, packets: 2 }]);
    await wren('lab', 'down', '--name', name);
    labs.delete(name);
  });
});
