// What the DaemonSet grants is what wren needs: NET_ADMIN and nothing else. wren's kernel work
// — `wren apply` of a VXLAN cluster (device, FDB through `bridge -batch`, neighbours, routes,
// link MTU) and `wren agent` (its passes and `ip monitor`) — runs here as root with every
// capability but NET_ADMIN dropped (setpriv: bounding, inheritable and ambient sets), in a
// scratch namespace entered first, since entering one (setns) itself needs SYS_ADMIN. The
// DaemonSet runs in the host's namespace, so the capability the operations need is the same.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { httpGet } from '../util/http-client.js';
import { renderSnapshotFile } from '../calico/objects/snapshot-render.js';
import { run, runOk, spawn } from '../kernel/exec.js';
import { scratchNs, type ScratchNs } from './support/scratch-ns.js';
import type { ClusterSnapshot } from '../routing/cluster.js';
import { seedCluster } from './support/seed-cluster.js';
import { until } from './support/until.js';
import { requireBuiltCli, WREN_MAIN as MAIN } from './support/built-cli.js';

/** Every capability dropped from every set but NET_ADMIN (bit 12), which stays in all of them. */
const NET_ADMIN_ONLY = ['--inh-caps=-all,+net_admin', '--ambient-caps=-all,+net_admin', '--bounding-set=-all,+net_admin'];
const NO_CAPS = ['--inh-caps=-all', '--ambient-caps=-all', '--bounding-set=-all'];
const BLOCKS = ['10.244.151.0/26', '10.244.205.192/26'];
let dir: string;
let ns: ScratchNs;
let file: string;

beforeAll(async () => {
  await requireBuiltCli();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wren-caps-'));
  ns = await scratchNs('caps');
  file = join(dir, 'cluster.yaml');
  await writeFile(file, renderSnapshotFile(vxlanCluster()));
});
afterEach(async () => {
  await ns?.remove();
  await rm(dir, { recursive: true, force: true });
});

/** The seed cluster on VXLAN, each node's tunnel address allocated to its tunnel handle as Calico's IPAM records it. */
function vxlanCluster(): ClusterSnapshot {
  const seed = seedCluster({ vxlan: 'Always' });
  const tunnels = new Map(seed.nodes.map((n) => [n.vxlanTunnelAddr, n.name]));
  const blocks = seed.blocks.map((b) => ({ ...b, allocations: b.allocations.map((a) => (tunnels.has(a.ip) ? { ...a, handle: `vxlan-tunnel-addr-${tunnels.get(a.ip)}` } : a)) }));
  return { ...seed, blocks };
}

/** argv that runs `command` in the scratch namespace as root holding only `caps`. */
const confined = (caps: string[], command: string[]) => ['netns', 'exec', ns.name, 'setpriv', ...caps, '--', ...command];
const wren = (caps: string[], ...args: string[]) => run('ip', confined(caps, [process.execPath, MAIN, ...args]));
const owned = async () => (await runOk('ip', ['-n', ns.name, 'route', 'show', 'proto', '199'])).trim().split('\n').map((l) => l.trim()).sort();

describe('wren with NET_ADMIN alone', () => {
  it('the confined process holds NET_ADMIN and no other capability, in every set', async () => {
    const status = await runOk('ip', confined(NET_ADMIN_ONLY, ['cat', '/proc/self/status']));
    const caps = Object.fromEntries([...status.matchAll(/^(Cap\w+):\s+([0-9a-f]+)$/gm)].map(([, k, v]) => [k, v]));
    expect(caps).toEqual({ CapInh: '0000000000001000', CapPrm: '0000000000001000', CapEff: '0000000000001000', CapBnd: '0000000000001000', CapAmb: '0000000000001000' });
  });

  it('wren apply of a VXLAN cluster: device, FDB, neighbours, routes and MTU, first pass and repair', async () => {
    const first = await wren(NET_ADMIN_ONLY, 'apply', '--node', 'minikube', '--snapshot', file);
    expect(first.stderr).toBe('');
    expect(first.exitCode).toBe(0);
    const vteps = ['172.16.30.7', '172.16.30.8'];
    expect(await owned()).toEqual([
      `${BLOCKS[0]} via 10.244.151.0 dev vxlan.calico onlink`,
      `${BLOCKS[1]} via 10.244.205.192 dev vxlan.calico onlink`,
      'blackhole 10.244.120.64/26',
    ]);
    const fdb = await runOk('bridge', ['-n', ns.name, 'fdb', 'show', 'dev', 'vxlan.calico']);
    for (const vtep of vteps) expect(fdb).toContain(`dst ${vtep} self permanent`);
    const neighbours = await runOk('ip', ['-n', ns.name, 'neigh', 'show', 'dev', 'vxlan.calico']);
    expect(neighbours).toMatch(/10\.244\.151\.0 lladdr \S+ PERMANENT/);
    expect(await runOk('ip', ['-n', ns.name, 'link', 'show', 'vxlan.calico'])).toContain('mtu 1450');

    // Damage only a privileged process can undo: the device's MTU, a route, an FDB entry.
    await ns.ip(['link set dev vxlan.calico mtu 1400', `route del ${BLOCKS[0]}`, `neigh del 10.244.205.192 dev vxlan.calico`]);
    const mac = fdb.split('\n').find((l) => l.includes(`dst ${vteps[0]} `))?.split(' ')[0] ?? '';
    await runOk('bridge', ['-n', ns.name, 'fdb', 'del', mac, 'dev', 'vxlan.calico', 'dst', vteps[0]!]);
    expect(await runOk('bridge', ['-n', ns.name, 'fdb', 'show', 'dev', 'vxlan.calico'])).not.toContain(`dst ${vteps[0]} `);
    const repair = await wren(NET_ADMIN_ONLY, 'apply', '--node', 'minikube', '--snapshot', file);
    expect(repair.exitCode).toBe(0);
    expect(await runOk('ip', ['-n', ns.name, 'link', 'show', 'vxlan.calico'])).toContain('mtu 1450');
    expect((await owned()).join('\n')).toContain(`${BLOCKS[0]} via 10.244.151.0 dev vxlan.calico onlink`);
    expect(await runOk('ip', ['-n', ns.name, 'neigh', 'show', 'dev', 'vxlan.calico'])).toMatch(/10\.244\.205\.192 lladdr \S+ PERMANENT/);
    expect(await runOk('bridge', ['-n', ns.name, 'fdb', 'show', 'dev', 'vxlan.calico'])).toContain(`${mac} dst ${vteps[0]} self permanent`);
  });

  it('without NET_ADMIN the same apply is refused by the kernel: the capability is the one that counts', async () => {
    const refused = await wren(NO_CAPS, 'apply', '--node', 'minikube', '--snapshot', file);
    expect(refused.exitCode).toBe(1);
    expect(refused.stdout + refused.stderr).toMatch(/Operation not permitted/);
    expect(await runOk('ip', ['-n', ns.name, 'route', 'show', 'proto', '199'])).toBe('');
  });

  it('wren agent: its passes, ip monitor and MTU file; a route deleted by hand comes back', async () => {
    const listen = { path: join(dir, 'agent.sock') };
    const agent = spawn('ip', confined(NET_ADMIN_ONLY, [process.execPath, MAIN, 'agent', '--node', 'minikube', '--snapshot', file, '--http-listen', `unix:${listen.path}`, '--mtu-file', join(dir, 'mtu')]), {
      env: { WREN_LOG_LEVEL: 'warn', PATH: process.env.PATH ?? '' },
    });
    try {
      await until(async () => (await httpGet(listen, '/readyz')).status === 200, 20_000, 'agent ready');
      expect((await owned()).filter((r) => r.includes('vxlan.calico'))).toHaveLength(2);
      await ns.ip([`route del ${BLOCKS[1]}`]);
      // Only `ip monitor` tells the agent: the next resync is 90 s away.
      await until(async () => (await owned()).join('\n').includes(`${BLOCKS[1]} via`), 5000, 'route restored');
      expect((await run('cat', [join(dir, 'mtu')])).stdout).toBe('1450\n');
    } finally {
      agent.process.kill('SIGKILL');
      await agent.process.catch(() => undefined);
    }
  });
});
