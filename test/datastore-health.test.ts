// Readiness tells the truth about the datastore: `wren agent` whose etcd (or Kubernetes API) is
// gone for longer than --datastore-timeout answers /readyz 503 naming the datastore and why,
// keeps every route and stays live (/healthz 200), shows the last contact in `wren status`, and
// is ready again once the datastore answers.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { httpGet } from '../util/http-client.js';
import { snapshotObjects } from '../calico/objects/snapshot-render.js';
import { buildCluster, LOCAL_CIDR, LOCAL_NODE } from '../bench/cluster.js';
import { clusterKvs } from '../bench/etcd-kvs.js';
import { bulkLoad } from '../bench/etcd-load.js';
import { run, runOk, spawn } from '../kernel/exec.js';
import { startTestEtcd } from './support/etcd-harness.js';
import { kubeconfigYaml } from '../lab/kube-apiserver/bootstrap.js';
import { kubeApiServerBuild, useRealKubeApi } from './support/real-kube-api/index.js';
import { scratchNs, type ScratchNs } from './support/scratch-ns.js';
import { until } from './support/until.js';
import { requireBuiltCli, WREN_MAIN as MAIN } from './support/built-cli.js';

const BOUND_S = 2;
const cluster = buildCluster({ blocks: 20, pods: 0, encap: 'vxlan', localTunnel: false });
let dir: string;
let ns: ScratchNs;

beforeAll(async () => {
  await requireBuiltCli();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wren-health-'));
  ns = await scratchNs('health', LOCAL_CIDR);
});
afterEach(async () => {
  await ns?.remove();
  await rm(dir, { recursive: true, force: true });
});

/** `wren agent` on the host, routing the scratch namespace (--netns), with a short datastore bound. */
function startAgent(datastore: string[]) {
  const listen = { path: join(dir, 'agent.sock') };
  const agent = spawn('node', [MAIN, 'agent', '--netns', ns.name, '--node', LOCAL_NODE, '--node-ip', LOCAL_CIDR, ...datastore, '--http-listen', `unix:${listen.path}`, '--mtu-file', '', '--datastore-timeout', String(BOUND_S)], {
    env: { WREN_LOG_LEVEL: 'warn', PATH: process.env.PATH ?? '' },
    stdout: { file: join(dir, 'agent.log') },
    stderr: { file: join(dir, 'agent.log') },
  });
  return {
    listen,
    stop: async () => {
      agent.process.kill('SIGKILL');
      await agent.process.catch(() => undefined);
    },
  };
}

const routes = () => runOk('ip', ['-n', ns.name, 'route', 'show', 'proto', '199']);

/** The datastore goes away: ready within the bound, 503 after it with the reason, routes and liveness untouched; back to ready when it returns. */
async function outage(listen: { path: string }, goAway: () => Promise<void>, comeBack: () => Promise<void>, reason: RegExp): Promise<void> {
  await until(async () => (await httpGet(listen, '/readyz')).status === 200, 30_000, 'agent ready');
  // Ready after the first pass; later passes may still add routes (the node's own registration
  // coming back through the datastore): the kernel is settled once the pending diff is empty.
  const pending = async () => (JSON.parse((await httpGet(listen, '/status')).body) as { pendingDiff: { total: number } | null }).pendingDiff?.total;
  await until(async () => (await pending()) === 0, 10_000, 'nothing pending');
  const before = await routes();
  expect(before).toContain('blackhole 10.0.0.0/26');
  await goAway();
  await until(async () => (await httpGet(listen, '/readyz')).status === 503, 20_000, '/readyz 503');
  // Unready no sooner than the bound after the datastore's last answer (which may come a moment
  // before it is killed, so the kill is not the clock's start).
  const unreadyAt = Date.now();
  const lastAnswer = (JSON.parse((await httpGet(listen, '/status')).body) as { datastoreContact: { lastContactAt: string | null } }).datastoreContact;
  expect(lastAnswer.lastContactAt).not.toBeNull();
  expect(unreadyAt - Date.parse(lastAnswer.lastContactAt ?? '')).toBeGreaterThanOrEqual(BOUND_S * 1000);
  const unready = await httpGet(listen, '/readyz');
  expect(unready.body).toMatch(reason);
  expect(await httpGet(listen, '/healthz')).toEqual({ status: 200, body: 'ok\n' });
  expect(await routes()).toBe(before);
  const human = await run('node', [MAIN, 'status', '--http-listen', `unix:${listen.path}`]);
  expect(human.stdout).toMatch(/^ {2}contact {5}last \d{4}-\d\d-\d\dT[\d:.]+Z, FAILING since \d{4}-\d\d-\d\dT[\d:.]+Z: /m);

  await comeBack();
  await until(async () => (await httpGet(listen, '/readyz')).status === 200, 30_000, '/readyz 200 again');
  expect(await routes()).toBe(before);
  // /status may answer from a report up to a second old: wait for one made after the return.
  const contact = async () => (JSON.parse((await httpGet(listen, '/status')).body) as { datastoreContact: { lastContactAt: string; failingSince: string | null } }).datastoreContact;
  await until(async () => (await contact()).failingSince === null, 5000, 'status without failure');
  expect(Date.parse((await contact()).lastContactAt)).toBeGreaterThan(unreadyAt);
}

describe('readiness follows the datastore', () => {
  it('etcd killed: 503 naming etcd after the bound, routes kept, live; ready again once etcd is back', async () => {
    const etcd = await startTestEtcd();
    await bulkLoad(etcd.endpoint, clusterKvs(cluster.snapshot, LOCAL_NODE));
    const agent = startAgent(['--datastore', 'etcdv3', '--etcd-endpoints', etcd.endpoint]);
    try {
      const endpoint = etcd.endpoint.replace(/[.]/g, '\\.');
      await outage(agent.listen, () => etcd.kill(), () => etcd.restart(), new RegExp(`^datastore etcdv3 failing for \\d+ s \\(last contact \\S+\\): etcd ${endpoint}: 14 UNAVAILABLE`));
    } finally {
      await agent.stop();
    }
  }, 90_000);
});

describe.skipIf(kubeApiServerBuild === undefined)('readiness follows a real Kubernetes API server', () => {
  const api = useRealKubeApi();

  it('API server killed: 503 naming the API after the bound, routes kept, live; ready again once it is back', async () => {
    let agent: ReturnType<typeof startAgent> | undefined;
    try {
      for (const object of snapshotObjects(cluster.snapshot)) await api().objects.put(object as Record<string, unknown>);
      const kubeconfig = join(dir, 'kubeconfig');
      await writeFile(kubeconfig, kubeconfigYaml({ server: api().server.url, caPem: api().pki.caPem, token: await api().wrenToken(), user: 'wren' }));
      agent = startAgent(['--datastore', 'kubernetes', '--kubeconfig', kubeconfig]);
      await outage(agent.listen, () => api().server.kill(), () => api().server.restart(), /^datastore kubernetes failing for \d+ s \(last contact \S+\): [a-z.]+: .*(ECONNREFUSED|Premature close|socket hang up)/);
    } finally {
      await agent?.stop();
    }
  }, 90_000);
});
