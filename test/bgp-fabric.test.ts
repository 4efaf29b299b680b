// Off-subnet nodes without encapsulation, when BGP carries the blocks: a `via <node> onlink`
// route cannot cross a router, so with BGP on and a peer for this node wren writes none for
// blocks of nodes off its subnet (the default route takes them to the fabric); same-subnet
// nodes and tunnels are routed as before. The rule follows the BGP objects, change by change.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderSnapshotFile } from '../calico/objects/snapshot-render.js';
import { run } from '../kernel/exec.js';
import { requireBuiltCli, WREN_MAIN } from './support/built-cli.js';
import type { AsNumber, IfaceName } from '../kernel/values.js';
import type { BgpPeer } from '../routing/bgp/bgp-objects.js';
import type { ClusterSnapshot, EncapMode } from '../routing/cluster.js';
import { desiredRoutes } from '../routing/desired-routes.js';
import { RouteEngine } from '../routing/route-engine.js';
import { ip, seedCluster } from './support/seed-cluster.js';

// minikube and minikube-m02 share 172.16.30.0/24; minikube-m03 is on 172.16.31.0/24.
const TWO_SUBNETS = ['172.16.30.6/24', '172.16.30.7/24', '172.16.31.8/24'];
const TOR: BgpPeer = { name: 'tor', peerIP: ip('172.16.30.1'), asNumber: 64513 as AsNumber };
const local = { name: 'minikube', hostIface: 'eth0' as IfaceName };

function cluster(mode: { ipip?: EncapMode; vxlan?: EncapMode }, peers: BgpPeer[]): ClusterSnapshot {
  return { ...seedCluster(mode, TWO_SUBNETS), bgpPeers: peers };
}

const remote = (snapshot: ClusterSnapshot, bgp: boolean) =>
  desiredRoutes(snapshot, local, { proto: 199, table: 254, bgp }).routes.filter((r) => r.class !== 'blackhole' && r.class !== 'workload').map((r) => `${r.dst} ${r.dev ?? ''} ${r.via ?? ''}`.trim());

describe('blocks of off-subnet nodes', () => {
  it.each([
    { name: 'no encapsulation, BGP on, a peer: same subnet direct, the other subnet left to the fabric', mode: {}, peers: [TOR], bgp: true, want: ['10.244.205.192/26 eth0 172.16.30.7'] },
    { name: 'BGP off: both direct (today\'s routes)', mode: {}, peers: [TOR], bgp: false, want: ['10.244.151.0/26 eth0 172.16.31.8', '10.244.205.192/26 eth0 172.16.30.7'] },
    { name: 'BGP on, no peer for this node: both direct', mode: {}, peers: [{ ...TOR, node: 'minikube-m03' }], bgp: true, want: ['10.244.151.0/26 eth0 172.16.31.8', '10.244.205.192/26 eth0 172.16.30.7'] },
    { name: 'VXLAN CrossSubnet: the tunnel still carries the other subnet', mode: { vxlan: 'CrossSubnet' as const }, peers: [TOR], bgp: true, want: ['10.244.151.0/26 vxlan.calico 10.244.151.0', '10.244.205.192/26 eth0 172.16.30.7'] },
    { name: 'VXLAN Always: untouched', mode: { vxlan: 'Always' as const }, peers: [TOR], bgp: true, want: ['10.244.151.0/26 vxlan.calico 10.244.151.0', '10.244.205.192/26 vxlan.calico 10.244.205.192'] },
  ])('$name', ({ mode, peers, bgp, want }) => {
    expect(remote(cluster(mode, peers), bgp).sort()).toEqual(want);
  });

  it('a BGPPeer change asks for a full build, which then follows it', () => {
    const without = cluster({}, []);
    const engine = RouteEngine.build(without, local, { proto: 199, table: 254, bgp: true });
    expect(engine.update([{ kind: 'BGPPeer' }], () => undefined)).toBeUndefined();
    expect(engine.update([{ kind: 'BGPConfiguration' }], () => undefined)).toBeUndefined();
    expect(remote(without, true)).toHaveLength(2);
    expect(remote(cluster({}, [TOR]), true)).toHaveLength(1);
  });
});

describe('wren routes --bgp', () => {
  beforeAll(async () => {
    await requireBuiltCli();
  });

  it.each([
    { flag: [], want: ['10.244.151.0/26 via 172.16.31.8 dev eth0 proto 199 onlink', '10.244.205.192/26 via 172.16.30.7 dev eth0 proto 199 onlink'] },
    { flag: ['--bgp', 'off'], want: ['10.244.151.0/26 via 172.16.31.8 dev eth0 proto 199 onlink', '10.244.205.192/26 via 172.16.30.7 dev eth0 proto 199 onlink'] },
    { flag: ['--bgp', 'on'], want: ['10.244.205.192/26 via 172.16.30.7 dev eth0 proto 199 onlink'] },
  ])('$flag: the routes the agent run so would write', async ({ flag, want }) => {
    const dir = await mkdtemp(join(tmpdir(), 'wren-bgp-routes-'));
    try {
      const file = join(dir, 'cluster.yaml');
      await writeFile(file, renderSnapshotFile(cluster({}, [TOR])));
      const out = await run('node', [WREN_MAIN, 'routes', '--node', 'minikube', '--snapshot', file, ...flag]);
      expect(out.exitCode).toBe(0);
      expect(out.stdout.split('\n').filter((l) => / via /.test(l))).toEqual(want);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses anything but on or off', async () => {
    const out = await run('node', [WREN_MAIN, 'routes', '--node', 'minikube', '--snapshot', '/nonexistent', '--bgp', 'yes']);
    expect(out.exitCode).toBe(2);
    expect(out.stderr).toContain('bad setting --bgp: "yes" must be on or off');
  });
});
