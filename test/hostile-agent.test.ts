// `wren agent` on a snapshot file that gains hostile objects while it runs: a WorkloadEndpoint
// naming eth0 and a pod claiming another pod's address (on a veth that exists), then a pool and
// block over the node's underlay. The node's routes stay exactly as they were, eth0 keeps its
// MTU, the agent stays ready, and each refusal is counted under its reason in /status, in
// `wren_problems{reason}` and in the log.
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpGet } from '../util/http-client.js';
import { renderSnapshotFile } from '../calico/objects/snapshot-render.js';
import { runOk, spawn } from '../kernel/exec.js';
import type { ClusterSnapshot } from '../routing/cluster.js';
import { WREN_MAIN, requireBuiltCli } from './support/built-cli.js';
import { caliVethLines, scratchNs, type ScratchNs } from './support/scratch-ns.js';
import { block, pool, seedCluster, withIpam, workload } from './support/seed-cluster.js';
import { until } from './support/until.js';

const NODE = 'minikube';
/** A veth the CNI plugin could have made: a route to it would land. */
const EVIL_VETH = 'calievil000001';
let dir: string;
let ns: ScratchNs;

beforeAll(async () => {
  await requireBuiltCli();
  dir = await mkdtemp(join(tmpdir(), 'wren-hostile-agent-'));
  ns = await scratchNs('aghost', '172.16.30.6/24');
  await ns.ip([...caliVethLines(EVIL_VETH), 'route add default via 172.16.30.1 dev eth0', 'route add 198.51.100.0/24 via 172.16.30.1 dev eth0 proto static', 'route add 192.0.2.0/24 via 172.16.30.1 dev eth0 proto 16']);
});
afterAll(async () => {
  await ns?.remove();
  await rm(dir, { recursive: true, force: true });
});

interface Status {
  problems: { total: number; byReason: Record<string, { count: number; first: { kind: string; name: string; field: string }[] }> };
  pendingDiff: { total: number } | null;
}

async function replaceFile(path: string, text: string): Promise<void> {
  await writeFile(`${path}.new`, text);
  await rename(`${path}.new`, path);
}

/** Every IPv4 route of the namespace and eth0's address and MTU: what no hostile object may move. */
async function nodePicture() {
  const [eth0] = JSON.parse(await runOk('ip', ['-n', ns.name, '-j', 'addr', 'show', 'dev', 'eth0'])) as { mtu: number; addr_info: { family: string; local: string; prefixlen: number }[] }[];
  return {
    routes: await runOk('ip', ['-n', ns.name, '-4', 'route', 'show', 'table', 'all']),
    eth0: { mtu: eth0?.mtu, addresses: eth0?.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`) },
  };
}

describe('wren agent on a snapshot file that gains hostile objects', () => {
  it('keeps every route and eth0 as they were, stays ready, and counts each refusal by reason', async () => {
    const file = join(dir, 'cluster.yaml');
    const listen = { path: join(dir, 'agent.sock') };
    const valid = seedCluster({ vxlan: 'Always' });
    await writeFile(file, renderSnapshotFile(valid));
    const agent = spawn('ip', ['netns', 'exec', ns.name, 'node', WREN_MAIN, 'agent', '--snapshot', file, '--http-listen', `unix:${listen.path}`, '--mtu-file', ''], {
      env: { NODENAME: NODE, WREN_LOG_LEVEL: 'info', PATH: process.env.PATH ?? '' },
    });
    let logs = '';
    agent.process.stdout?.on('data', (d: Buffer) => (logs += d.toString()));
    const readyz = async () => (await httpGet(listen, '/readyz')).status;
    const status = async () => JSON.parse((await httpGet(listen, '/status')).body) as Status;
    const metric = async (reason: string) => Number(new RegExp(`^wren_problems\\{reason="${reason}"\\} (\\d+)$`, 'm').exec((await httpGet(listen, '/metrics')).body)?.[1]);
    try {
      await until(async () => (await readyz()) === 200, 10_000, 'ready on the valid cluster');
      const before = await nodePicture();
      expect(before.routes).toMatch(/blackhole 10\.244\.120\.64\/26 proto 199/);
      expect(before.eth0).toEqual({ mtu: 1500, addresses: ['172.16.30.6/24'] });

      // Workloads of this node: one naming eth0 (IPAM backs its address), one claiming a pod of minikube-m02's address.
      const workloads: ClusterSnapshot = withIpam({ ...valid, workloads: [...valid.workloads, workload('default', 'evil-eth0', NODE, ['10.244.120.70'], 'eth0')] });
      const hostileWorkloads: ClusterSnapshot = { ...workloads, workloads: [...workloads.workloads, workload('default', 'evil-stolen', NODE, ['10.244.205.193'], EVIL_VETH)] };
      await replaceFile(file, renderSnapshotFile(hostileWorkloads));
      await until(async () => (await metric('interface')) === 1 && (await metric('not-allocated')) === 1, 10_000, 'workload refusals counted');
      await expectUnharmed(before);
      // /status may be a moment old (one computed less than 1 s ago is reused).
      await until(async () => (await status()).problems.byReason.interface !== undefined, 5_000, '/status with the workload refusals');
      const first = await status();
      expect(first.problems.byReason.interface?.first).toEqual([expect.objectContaining({ kind: 'WorkloadEndpoint', name: 'default/evil-eth0', field: 'spec.interfaceName' })]);
      expect(first.problems.byReason['not-allocated']?.first).toEqual([expect.objectContaining({ kind: 'WorkloadEndpoint', name: 'default/evil-stolen', field: 'spec.ipNetworks' })]);

      // A pool and a block over the node's own underlay subnet.
      const underlay: ClusterSnapshot = {
        ...hostileWorkloads,
        pools: [...hostileWorkloads.pools, { ...pool({ vxlan: 'Always' }, '172.16.30.0/24'), name: 'evil-underlay' }],
        blocks: [...hostileWorkloads.blocks, block('172.16.30.0/26', 'minikube-m02')],
      };
      await replaceFile(file, renderSnapshotFile(underlay));
      await until(async () => (await metric('forbidden-space')) === 2, 10_000, 'pool and block refusals counted');
      await expectUnharmed(before);
      await until(async () => (await status()).problems.byReason['forbidden-space'] !== undefined, 5_000, '/status with the pool refusal');
      const second = await status();
      expect(second.problems.byReason['forbidden-space']).toEqual({
        count: 2,
        first: [expect.objectContaining({ kind: 'IPAMBlock', name: '172-16-30-0-26', field: 'spec.cidr' }), expect.objectContaining({ kind: 'IPPool', name: 'evil-underlay', field: 'spec.cidr' })],
      });
      expect(second.pendingDiff).toEqual({ total: 0, first: [] });
      expect(await metric('interface')).toBe(1);

      agent.process.kill('SIGTERM');
      expect((await agent.process).exitCode).toBe(0);
      const events = logs.trim().split('\n').map((l) => JSON.parse(l) as { msg: string; reason?: string; count?: number; first?: string[] });
      const logged = (reason: string) => events.filter((e) => e.msg === 'problems' && e.reason === reason).at(-1);
      expect(logged('forbidden-space')).toMatchObject({ count: 2, first: expect.arrayContaining([expect.stringMatching(/^IPPool\/evil-underlay spec\.cidr: /)]) });
      expect(logged('interface')).toMatchObject({ count: 1, first: [expect.stringMatching(/^WorkloadEndpoint\/default\/evil-eth0 spec\.interfaceName: /)] });
    } finally {
      if (agent.process.exitCode === null) agent.process.kill('SIGKILL');
      await agent.process.catch(() => undefined);
    }

    async function expectUnharmed(before: Awaited<ReturnType<typeof nodePicture>>): Promise<void> {
      expect(await nodePicture()).toEqual(before);
      expect(await readyz()).toBe(200);
    }
  });
});
