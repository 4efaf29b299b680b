// `wren agent` as an operator runs it: a process inside the node's namespace, configured by
// flags and environment, answering on its HTTP endpoints, following its cluster source, and
// leaving every route in place on SIGTERM.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpGet } from '../util/http-client.js';
import { renderSnapshotFile } from '../calico/objects/snapshot-render.js';
import { run, spawn } from '../kernel/exec.js';
import { IpKernel } from '../kernel/kernel.js';
import { MAIN_TABLE } from '../kernel/state.js';
import { scratchNs, type ScratchNs } from './support/scratch-ns.js';
import { seedCluster } from './support/seed-cluster.js';
import { until } from './support/until.js';
import { requireBuiltCli, WREN_MAIN } from './support/built-cli.js';

let dir: string;
let ns: ScratchNs;

beforeAll(async () => {
  await requireBuiltCli();
  dir = await mkdtemp(join(tmpdir(), 'wren-agent-'));
  ns = await scratchNs('agent');
});
afterAll(async () => {
  await ns?.remove();
  await rm(dir, { recursive: true, force: true });
});

describe('wren agent', () => {
  it('refuses a bad setting with one line naming it and what is allowed', async () => {
    const result = await run('node', [WREN_MAIN, 'agent', '--node', 'Not_A_Node', '--snapshot', '/nonexistent']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual(['wren agent: bad setting --node (NODENAME, WREN_NODENAME): "Not_A_Node" must be a Kubernetes node name (lower-case DNS subdomain)']);
    const env = await run('env', ['WREN_ROUTE_PROTOCOL=80', 'node', WREN_MAIN, 'agent', '--node', 'a', '--snapshot', '/nonexistent']);
    expect(env.stderr.trim()).toMatch(/^wren agent: bad setting --proto \(WREN_ROUTE_PROTOCOL\): "80" is the protocol of felix \(Calico Felix's default\), whose routes wren would take for its own; allowed: [^\n]+$/);
  });

  it('runs in the node namespace, serves health, metrics and status, follows changes, and keeps routes on SIGTERM', async () => {
    const file = join(dir, 'cluster.yaml');
    const sock = join(dir, 'agent.sock');
    const listen = { path: sock };
    const snapshot = seedCluster({ vxlan: 'Always' });
    await writeFile(file, renderSnapshotFile(snapshot));
    const agent = spawn('ip', ['netns', 'exec', ns.name, 'node', WREN_MAIN, 'agent', '--snapshot', file, '--http-listen', `unix:${sock}`, '--mtu-file', join(dir, 'mtu')], {
      env: { NODENAME: 'minikube', WREN_LOG_LEVEL: 'info', PATH: process.env.PATH ?? '' },
    });
    let logs = '';
    agent.process.stdout?.on('data', (d: Buffer) => (logs += d.toString()));
    try {
      await until(async () => (await httpGet(listen, '/readyz')).status === 200);
      const kernel = new IpKernel(ns.name);
      const owned = async () => (await kernel.readRoutes(MAIN_TABLE)).filter((r) => r.proto === 199).map((r) => r.dst as string).sort();
      expect(await owned()).toEqual(['10.244.120.64/26', '10.244.151.0/26', '10.244.205.192/26']);
      expect((await httpGet(listen, '/healthz')).status).toBe(200);
      const metrics = (await httpGet(listen, '/metrics')).body;
      expect(metrics).toContain('wren_routes_desired{class="vxlan"} 2');
      expect(metrics).toContain('wren_routes_programmed{class="blackhole"} 1');
      expect(metrics).toContain('wren_mtu_bytes{device="vxlan4"} 1450');
      const status = JSON.parse((await httpGet(listen, '/status')).body) as { node: string; inSync: boolean; pendingDiff: { total: number; first: string[] } };
      expect(status).toMatchObject({ node: 'minikube', inSync: true, pendingDiff: { total: 0, first: [] } });
      expect(await readFile(join(dir, 'mtu'), 'utf8')).toBe('1450\n');
      const human = await run('node', [WREN_MAIN, 'status', '--http-listen', `unix:${sock}`]);
      expect(human.exitCode).toBe(0);
      expect(human.stdout).toContain('datastore     snapshot (in sync)');
      expect(human.stdout).toContain('routes        2 vxlan, 1 blackhole');
      expect(human.stdout).toContain('pending       nothing: the kernel matches');

      await writeFile(file, renderSnapshotFile({ ...snapshot, blocks: snapshot.blocks.filter((b) => b.affinityNode !== 'minikube-m03') }));
      await until(async () => (await owned()).length === 2);

      agent.process.kill('SIGTERM');
      const exit = await agent.process;
      expect(exit.exitCode).toBe(0);
      expect(await owned()).toEqual(['10.244.120.64/26', '10.244.205.192/26']);
      const events = logs.trim().split('\n').map((l) => JSON.parse(l) as { msg: string });
      expect(events.map((e) => e.msg)).toContain('agent stopped; routes left in place');
    } finally {
      agent.process.kill('SIGKILL');
    }
  });
});
