// /status under load, as an operator's dashboards and a curious team would hit it: 30 requests
// at once cost one dry-run computation (counted by wren_status_computations_total) and get the
// same answer, and a list that grows with the cluster (here 150 conflicts) comes back as its
// first 100 with the total, also in `wren status`.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpGet } from '../util/http-client.js';
import { renderSnapshotFile } from '../calico/objects/snapshot-render.js';
import { STATUS_LIST_CAP } from '../agent/status.js';
import { buildCluster, LOCAL_CIDR, LOCAL_NODE } from '../bench/cluster.js';
import { run, spawn } from '../kernel/exec.js';
import { scratchNs, type ScratchNs } from './support/scratch-ns.js';
import { until } from './support/until.js';
import { requireBuiltCli, WREN_MAIN as MAIN } from './support/built-cli.js';

const CONFLICTS = 150;
let dir: string;
let ns: ScratchNs;

beforeAll(async () => {
  await requireBuiltCli();
  dir = await mkdtemp(join(tmpdir(), 'wren-status-'));
  ns = await scratchNs('status', LOCAL_CIDR);
});
afterAll(async () => {
  await ns?.remove();
  await rm(dir, { recursive: true, force: true });
});

const computations = async (listen: { path: string }) => Number(/^wren_status_computations_total (\d+)$/m.exec((await httpGet(listen, '/metrics')).body)?.[1]);

describe('/status under concurrent requests', () => {
  it('30 requests at once share one computation, and long lists come back capped with their totals', async () => {
    const cluster = buildCluster({ blocks: CONFLICTS, pods: 0, encap: 'vxlan', localTunnel: true });
    const remote = cluster.snapshot.blocks.filter((b) => b.affinityNode !== LOCAL_NODE).map((b) => b.cidr);
    // A foreign route on every remote block's key: each is a conflict the agent reports and leaves.
    await ns.ip(remote.map((cidr) => `route add ${cidr} dev eth0 proto static`));
    const file = join(dir, 'cluster.yaml');
    await writeFile(file, renderSnapshotFile(cluster.snapshot));
    const listen = { path: join(dir, 'agent.sock') };
    const agent = spawn('ip', ['netns', 'exec', ns.name, 'node', MAIN, 'agent', '--snapshot', file, '--http-listen', `unix:${listen.path}`, '--mtu-file', ''], {
      env: { NODENAME: LOCAL_NODE, WREN_LOG_LEVEL: 'warn', PATH: process.env.PATH ?? '' },
    });
    try {
      await until(async () => (await httpGet(listen, '/readyz')).status === 200, 20_000, 'agent ready');
      const before = await computations(listen);
      const answers = await Promise.all(Array.from({ length: 30 }, () => httpGet(listen, '/status', 10_000)));
      expect(answers.map((a) => a.status)).toEqual(Array(30).fill(200));
      expect(new Set(answers.map((a) => a.body)).size).toBe(1);
      expect(await computations(listen)).toBe(before + 1);

      const status = JSON.parse(answers[0]!.body) as { computedAt: string; routes: { conflicts: { total: number; first: { dst: string }[] } }; pendingDiff: { total: number; first: string[] } };
      expect(status.routes.conflicts.total).toBe(CONFLICTS);
      expect(status.routes.conflicts.first.map((c) => c.dst)).toEqual(remote.slice(0, STATUS_LIST_CAP));
      expect(status.pendingDiff).toEqual({ total: 0, first: [] });
      expect(Date.now() - Date.parse(status.computedAt)).toBeLessThan(10_000);

      const human = await run('node', [MAIN, 'status', '--http-listen', `unix:${listen.path}`]);
      expect(human.stdout.split('\n').filter((l) => l.startsWith('  conflict'))).toHaveLength(STATUS_LIST_CAP + 1);
      expect(human.stdout).toContain(`  conflict    … and ${CONFLICTS - STATUS_LIST_CAP} more`);
    } finally {
      agent.process.kill('SIGKILL');
      await agent.process.catch(() => undefined);
    }
  }, 40_000);
});
