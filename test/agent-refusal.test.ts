// `wren agent` on a snapshot file that stops being a whole cluster and becomes whole again:
// while the file is emptied (or loses this node), the routes stay, /readyz is 503 with the
// reason and /status says it; once the file is restored, the agent is ready and routes it again.
// Problems are reported per reason: /status, the metric, and one log event per reason.
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpGet } from '../util/http-client.js';
import { renderSnapshotFile } from '../calico/objects/snapshot-render.js';
import { spawn } from '../kernel/exec.js';
import { IpKernel } from '../kernel/kernel.js';
import { MAIN_TABLE } from '../kernel/state.js';
import { WREN_MAIN, requireBuiltCli } from './support/built-cli.js';
import { scratchNs, type ScratchNs } from './support/scratch-ns.js';
import { seedCluster } from './support/seed-cluster.js';
import { until } from './support/until.js';

const ALL = ['10.244.120.64/26', '10.244.151.0/26', '10.244.205.192/26'];
let dir: string;
let ns: ScratchNs;

beforeAll(async () => {
  await requireBuiltCli();
  dir = await mkdtemp(join(tmpdir(), 'wren-agent-refusal-'));
  ns = await scratchNs('agref');
});
afterAll(async () => {
  await ns?.remove();
  await rm(dir, { recursive: true, force: true });
});

interface Status {
  clusterRefused: string | null;
  pendingDiff: unknown;
  problems: { total: number; byReason: Record<string, { count: number; first: { kind: string; name: string }[] }> };
}

/** Replaces the file in one step (written aside, then renamed), so the agent never reads it half-written. */
async function replaceFile(path: string, text: string): Promise<void> {
  await writeFile(`${path}.new`, text);
  await rename(`${path}.new`, path);
}

/** Five pools whose CIDR is not a CIDR: five problems of one reason, listed three and counted five. */
function withBadPools(yaml: string): string {
  const bad = Array.from({ length: 5 }, (_, i) => `---\napiVersion: crd.projectcalico.org/v1\nkind: IPPool\nmetadata: {name: bad-${i}}\nspec: {cidr: "not-a-cidr-${i}", blockSize: 26}\n`);
  return `${yaml}${bad.join('')}`;
}

describe('wren agent on a snapshot file that is emptied, then restored', () => {
  it('keeps the routes and says why while the file cannot be a cluster, and resumes when it is whole', async () => {
    const file = join(dir, 'cluster.yaml');
    const listen = { path: join(dir, 'agent.sock') };
    const snapshot = seedCluster({ vxlan: 'Always' });
    const whole = renderSnapshotFile(snapshot);
    await writeFile(file, whole);
    const agent = spawn('ip', ['netns', 'exec', ns.name, 'node', WREN_MAIN, 'agent', '--snapshot', file, '--http-listen', `unix:${listen.path}`, '--mtu-file', ''], {
      env: { NODENAME: 'minikube', WREN_LOG_LEVEL: 'info', PATH: process.env.PATH ?? '' },
    });
    let logs = '';
    agent.process.stdout?.on('data', (d: Buffer) => (logs += d.toString()));
    const kernel = new IpKernel(ns.name);
    const owned = async () => (await kernel.readRoutes(MAIN_TABLE)).filter((r) => r.proto === 199).map((r) => r.dst as string).sort();
    const readyz = async () => httpGet(listen, '/readyz');
    const status = async () => JSON.parse((await httpGet(listen, '/status')).body) as Status;
    try {
      await until(async () => (await readyz()).status === 200);
      expect(await owned()).toEqual(ALL);

      for (const [broken, reason, write] of [
        ['', 'the file is empty', writeFile], // emptied in place: `: > cluster.yaml`
        [whole.slice(0, Math.floor(whole.length / 2)), 'the file is truncated', replaceFile],
        [renderSnapshotFile({ ...snapshot, nodes: snapshot.nodes.filter((n) => n.name !== 'minikube') }), 'node "minikube" is not in the cluster', replaceFile],
      ] as const) {
        await write(file, broken);
        await until(async () => (await readyz()).status === 503);
        const refused = await readyz();
        expect(refused.body).toMatch(/^cluster refused, nothing withdrawn: /);
        expect(refused.body).toContain(reason);
        // /status may be a moment old (concurrent requests share one report).
        await until(async () => (await status()).clusterRefused?.includes(reason) ?? false);
        expect((await status()).pendingDiff).toBeNull();
        // Given time to do damage, it does none.
        await new Promise((r) => setTimeout(r, 500));
        expect(await owned()).toEqual(ALL);
        expect((await readyz()).status).toBe(503);

        await replaceFile(file, whole);
        await until(async () => (await readyz()).status === 200);
        await until(async () => (await status()).clusterRefused === null);
        expect(await owned()).toEqual(ALL);
      }

      // Restored with a change: routed at once.
      await replaceFile(file, withBadPools(renderSnapshotFile({ ...snapshot, blocks: snapshot.blocks.filter((b) => b.affinityNode !== 'minikube-m03') })));
      await until(async () => (await owned()).length === 2);
      expect(await owned()).toEqual(['10.244.120.64/26', '10.244.205.192/26']);
      await until(async () => (await status()).problems.total >= 5);
      const problems = (await status()).problems;
      const invalid = Object.values(problems.byReason).find((r) => r.first.some((p) => p.name.startsWith('bad-')));
      expect(invalid?.count).toBe(5);
      expect(invalid?.first.map((p) => p.name)).toEqual(['bad-0', 'bad-1', 'bad-2']);
      const metrics = (await httpGet(listen, '/metrics')).body;
      const byReason = [...metrics.matchAll(/^wren_problems\{reason="([a-z-]+)"\} (\d+)$/gm)];
      expect(byReason.reduce((n, m) => n + Number(m[2]), 0)).toBe(problems.total);
      expect(byReason.length).toBeGreaterThan(10); // every reason has a series, 0 when absent

      agent.process.kill('SIGTERM');
      expect((await agent.process).exitCode).toBe(0);
      const events = logs.trim().split('\n').map((l) => JSON.parse(l) as { msg: string; reason?: string; count?: number; first?: string[] });
      expect(events.filter((e) => e.msg === 'cluster refused; nothing withdrawn until it is whole').map((e) => e.reason)).toEqual(['empty', 'truncated', 'no-node']);
      expect(events.filter((e) => e.msg === 'cluster whole again; passes resume')).toHaveLength(3);
      // The five bad pools: one event with the count and the first three, not five lines.
      const logged = events.filter((e) => e.msg === 'problems' && e.first?.some((p) => p.includes('bad-')));
      expect(logged).toHaveLength(1);
      expect(logged[0]).toMatchObject({ count: 5, first: [expect.stringMatching(/^IPPool\/bad-0 /), expect.stringMatching(/^IPPool\/bad-1 /), expect.stringMatching(/^IPPool\/bad-2 /)] });
    } finally {
      if (agent.process.exitCode === null) agent.process.kill('SIGKILL');
      await agent.process.catch(() => undefined);
    }
  });
});
