// Agents as an operator runs them (`wren agent` inside each node's namespace, etcd on the
// underlay — the lab's wiring), driven by writes to etcd and by hand-made damage to the kernel.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpGet } from '../util/http-client.js';
import { stopProcess } from '../lab/agents.js';
import { labDown } from '../lab/down.js';
import type { Lab } from '../lab/lab.js';
import { silentProgress } from '../lab/progress.js';
import { labUp } from '../lab/up.js';
import { run, runOk } from '../kernel/exec.js';
import { freeze } from './support/freeze.js';
import { until } from './support/until.js';

const name = `a${randomBytes(3).toString('hex')}`;
let lab: Lab;

beforeAll(async () => {
  lab = await labUp({ name, nodes: 3, encap: 'vxlan', crossSubnet: false, podsPerNode: 1, pool: '10.244.0.0/16', blockSize: 26 }, silentProgress);
}, 60_000);
afterAll(async () => {
  lab?.close();
  await labDown(name);
});

const routes = async (node: string) => runOk('ip', ['-n', lab.node(node).netns, 'route']);
const blockKey = (cidr: string) => `/calico/ipam/v2/assignment/ipv4/block/${cidr.replace('/', '-')}`;
const block = (cidr: string, node: string | null) =>
  JSON.stringify({ cidr, affinity: node === null ? null : `host:${node}`, allocations: Array(64).fill(null), unallocated: Array.from({ length: 64 }, (_, i) => i), attributes: [], deleted: false });

describe('agents following etcd', () => {
  it('a block created, moved to another node and deleted in etcd: every kernel follows', async () => {
    const etcd = lab.store.client;
    const cidr = '10.244.250.0/26';
    const created = await etcd.create(blockKey(cidr), block(cidr, 'node-2'));
    expect(created.ok).toBe(true);
    await until(async () => (await routes('node-2')).includes(`blackhole ${cidr}`));
    const via2 = `${cidr} via ${(await lab.store.node('node-2'))?.vxlanTunnelAddr} dev vxlan.calico`;
    for (const n of ['node-1', 'node-3']) await until(async () => (await routes(n)).includes(via2));

    const current = await etcd.get(blockKey(cidr));
    expect((await etcd.compareAndSwap(blockKey(cidr), block(cidr, 'node-3'), current!.modRevision)).ok).toBe(true);
    const via3 = `${cidr} via ${(await lab.store.node('node-3'))?.vxlanTunnelAddr} dev vxlan.calico`;
    await until(async () => (await routes('node-3')).includes(`blackhole ${cidr}`) && !(await routes('node-2')).includes(`blackhole ${cidr}`));
    for (const n of ['node-1', 'node-2']) await until(async () => (await routes(n)).includes(via3));

    const moved = await etcd.get(blockKey(cidr));
    expect((await etcd.compareAndDelete(blockKey(cidr), moved!.modRevision)).ok).toBe(true);
    for (const n of ['node-1', 'node-2', 'node-3']) await until(async () => !(await routes(n)).includes(cidr));
  });

  it('an owned route and the VXLAN device deleted by hand are restored within a fraction of a second', async () => {
    const netns = lab.node('node-1').netns;
    const remote = (await routes('node-1')).split('\n').find((l) => l.includes('dev vxlan.calico'))!.split(' ')[0]!;
    await runOk('ip', ['-n', netns, 'route', 'del', remote]);
    const routeMs = await until(async () => (await routes('node-1')).includes(`${remote} via`));
    expect(routeMs).toBeLessThan(1000);
    await runOk('ip', ['-n', netns, 'link', 'del', 'vxlan.calico']);
    const deviceMs = await until(async () => (await routes('node-1')).includes(`${remote} via`) && (await runOk('bridge', ['-n', netns, 'fdb', 'show', 'dev', 'vxlan.calico'])).includes('dst'));
    expect(deviceMs).toBeLessThan(2000);
    const verify = await (await import('../lab/verify.js')).verifyLab(lab);
    expect(verify.pass).toBe(true);
  });

  it('etcd stopped for a while: routes stay, and a change made after it returns is applied', async () => {
    const before = await routes('node-1');
    await stopProcess(lab.state.etcd.pid, 5000, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 1500));
    expect(await routes('node-1')).toBe(before);
    // etcd comes back on the same data, under the same launcher, as the lab started it.
    const { startEtcdServer } = await import('../lab/etcd-server.js');
    const host = lab.topology.subnets[0]!.gateway;
    const etcd = await startEtcdServer({ name: 'wren-lab', host, clientPort: 2379, launcher: ['ip', 'netns', 'exec', lab.topology.underlayNetns], dir: lab.state.etcd.dir, unixSocket: true, detached: true });
    await lab.save({ etcd: { ...lab.state.etcd, pid: etcd.pid ?? 0 } });
    const cidr = '10.244.251.0/26';
    await until(async () => (await lab.store.client.create(blockKey(cidr), block(cidr, 'node-3')).catch(() => ({ ok: false }))).ok, 15_000);
    for (const n of ['node-1', 'node-2']) await until(async () => (await routes(n)).includes(cidr), 20_000);
  }, 40_000);

  it('an agent started while etcd does not answer: live at once, not ready until it syncs, and the lab says why', async () => {
    const thaw = await freeze(lab.state.etcd.pid);
    try {
      await lab.restartAgent('node-1');
      const socket = { path: lab.state.agents['node-1']!.socket };
      await until(async () => (await httpGet(socket, '/healthz').catch(() => ({ status: 0 }))).status === 200);
      expect(await httpGet(socket, '/readyz')).toEqual({ status: 503, body: 'datastore not in sync yet\n' });
      await expect(lab.waitForAgents(500)).rejects.toThrow(/the agent of node-1 is not ready after 0\.5 s \(datastore not in sync yet\): see \S+agent\.log; its last log lines:\n.*"agent started"/);
    } finally {
      await thaw();
    }
    await lab.waitForAgents(20_000);
  }, 40_000);

  it('a node deleted from etcd while its agent is gone disappears from the others', async () => {
    const agent = lab.state.agents['node-3']!;
    await stopProcess(agent.pid, 3000, 'SIGKILL');
    const node3 = await lab.store.node('node-3');
    await lab.store.deleteNode('node-3');
    for (const n of ['node-1', 'node-2']) {
      await until(async () => !(await runOk('ip', ['-n', lab.node(n).netns, 'neigh', 'show', 'dev', 'vxlan.calico'])).includes(node3!.vxlanTunnelAddr!));
      expect(await runOk('bridge', ['-n', lab.node(n).netns, 'fdb', 'show', 'dev', 'vxlan.calico'])).not.toContain(lab.node('node-3').ip);
    }
  });

  it('SIGTERM: the agent exits cleanly and every route stays in place', async () => {
    const before = await routes('node-2');
    const agent = lab.state.agents['node-2']!;
    await stopProcess(agent.pid, 5000, 'SIGTERM');
    const log = (await run('tail', ['-n', '3', agent.log])).stdout;
    expect(log).toContain('agent stopped; routes left in place');
    expect(await routes('node-2')).toBe(before);
    expect(before).toContain('proto 199');
  });
});
