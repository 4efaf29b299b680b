// Hostile meaning on a real kernel: three nodes on one underlay bridge, each programmed by
// `wren apply` from a valid VXLAN cluster; then, one row at a time, node-1 is given the valid
// cluster plus one hostile object (test/support/hostile-rows.ts). Whatever the object, what a
// user of node-1 sees must not change: it still pings its underlay peers, its pods still reach
// the other nodes' pods (TTL 62), its foreign routes (static, dhcp, default) and eth0 are as
// they were, no wren route lies in forbidden space, and the refusal is on stderr with kind, name
// and field while the apply itself succeeds (exit 0) and a second apply has nothing to do.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../agent/cli/cli.js';
import { renderSnapshotFile } from '../calico/objects/snapshot-render.js';
import { runOk } from '../kernel/exec.js';
import { IpKernel } from '../kernel/kernel.js';
import { MAIN_TABLE } from '../kernel/state.js';
import { cidrsOverlap, type Cidr } from '../kernel/values.js';
import { createTopology, ipBatch, ping, type Topology } from '../lab/topology/index.js';
import type { ClusterSnapshot } from '../routing/cluster.js';
import { HOSTILE_POD_NAMES, HOSTILE_ROWS, SERVICE_CIDR, UNDER_TEST, hostileIface, podYaml, type HostileContext, type HostileRow } from './support/hostile-rows.js';
import { caliVethLines } from './support/scratch-ns.js';
import { planPods, topologyCluster, type PodPlan } from './support/topology-cluster.js';

const POD_MTU = 1450;
/** Space no wren route may touch, written out here rather than taken from the code under test. */
const RESERVED = ['0.0.0.0/8', '127.0.0.0/8', '169.254.0.0/16', '224.0.0.0/4', '240.0.0.0/4', SERVICE_CIDR];
/** Foreign routes on node-1: a static one and a DHCP client's (its default route is the topology's). */
const FOREIGN = ['198.51.100.0/24', '192.0.2.0/24'];

let topology: Topology;
let pods: PodPlan[];
let valid: ClusterSnapshot;
let dir: string;
let validFile: string;

async function wren(argv: readonly string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main([...argv], { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

const node1 = () => topology.node(UNDER_TEST);
const lines = (text: string) => text.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '');
const applyOn = (node: string, file: string, flags: readonly string[] = []) => wren(['apply', '--node', node, '--snapshot', file, '--netns', topology.node(node).netns, ...flags]);
const ipIn = (args: readonly string[]) => runOk('ip', ['-n', node1().netns, ...args]);

/** Everything on node-1 a hostile object must leave alone, as `ip` shows it. */
async function foreignPicture() {
  const routes = lines(await ipIn(['-4', 'route', 'show', 'table', 'all'])).filter((l) => !l.includes(' proto 199'));
  const [eth0] = JSON.parse(await ipIn(['-j', 'addr', 'show', 'dev', 'eth0'])) as { mtu: number; addr_info: { family: string; local: string; prefixlen: number }[] }[];
  return { routes, eth0: { mtu: eth0?.mtu, addresses: eth0?.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`) } };
}

/** Whether a route, neighbour or FDB line is about `peer`'s VTEP: its block (named by its tunnel address) or its underlay address. */
function concerns(line: string, peer: string | undefined): boolean {
  if (peer === undefined) return false;
  const tunnel = valid.nodes.find((n) => n.name === peer)?.vxlanTunnelAddr;
  return (tunnel !== undefined && (line.includes(`${tunnel} `) || line.includes(`${tunnel}/`))) || line.includes(`dst ${topology.node(peer).ip} `);
}

/** wren's routes, vxlan.calico's address, neighbours and FDB entries, less what concerns `spoiled`. */
async function wrenPicture(spoiled?: string) {
  const keep = (l: string) => !concerns(l, spoiled);
  return {
    routes: lines(await ipIn(['-4', 'route', 'show', 'table', 'all'])).filter((l) => l.includes(' proto 199') && keep(l)),
    vxlanAddress: (await ipIn(['-4', '-br', 'addr', 'show', 'dev', 'vxlan.calico'])).trim(),
    neighbors: lines(await ipIn(['neigh', 'show', 'dev', 'vxlan.calico'])).filter(keep),
    fdb: lines(await runOk('bridge', ['-n', node1().netns, 'fdb', 'show', 'dev', 'vxlan.calico'])).filter(keep),
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wren-hostile-'));
  topology = await createTopology({ prefix: 'wren-t-hostile', subnets: ['172.16.30.0/24'], nodes: ['node-1', 'node-2', 'node-3'].map((name) => ({ name })) });
  pods = planPods(topology.nodes, 1);
  await topology.addPods(pods.map((p) => ({ ...p, mtu: POD_MTU })));
  // The hostile Pods' veths exist, as the CNI plugin would have made them: a route to one would land.
  await ipBatch(node1().netns, HOSTILE_POD_NAMES.flatMap((name) => caliVethLines(hostileIface(name))));
  valid = topologyCluster(topology, 'Always', pods);
  validFile = join(dir, 'valid.yaml');
  await writeFile(validFile, renderSnapshotFile(valid));
  for (const node of topology.nodes) {
    const { code, err } = await applyOn(node.name, validFile);
    expect(err, node.name).toEqual([]);
    expect(code, node.name).toBe(0);
  }
  const gateway = node1().gateway;
  await ipBatch(node1().netns, [`route add ${FOREIGN[0]} via ${gateway} dev eth0 proto static`, `route add ${FOREIGN[1]} via ${gateway} dev eth0 proto 16`]);
}, 60_000);

afterAll(async () => {
  await topology?.destroy();
  await rm(dir, { recursive: true, force: true });
});

// Each row starts from the valid cluster, whatever the row before it did.
afterEach(async () => {
  await ipBatch(node1().netns, ['link set eth0 mtu 1500']);
  const { code, err } = await applyOn(UNDER_TEST, validFile);
  if (code !== 0) throw new Error(`re-applying the valid cluster on node-1 failed: ${err.join('; ')}`);
});

describe('wren apply on node-1 with one hostile object added to a valid cluster', () => {
  it('node-1 starts programmed: a blackhole for its block, the peers\' blocks through vxlan.calico, foreign routes beside them', async () => {
    const picture = await wrenPicture();
    expect(picture.routes).toContain('blackhole 10.244.0.0/26 proto 199');
    expect(picture.routes).toContain('10.244.1.0/26 via 10.244.1.0 dev vxlan.calico proto 199 onlink');
    expect(picture.vxlanAddress).toMatch(/^vxlan\.calico +UNKNOWN +10\.244\.0\.0\/32 ?$/);
    const foreign = await foreignPicture();
    expect(foreign.routes).toEqual(expect.arrayContaining([`${FOREIGN[0]} via ${node1().gateway} dev eth0 proto static`, `${FOREIGN[1]} via ${node1().gateway} dev eth0 proto dhcp`]));
    expect(foreign.routes.some((l) => l.startsWith(`default via ${node1().gateway} dev eth0`))).toBe(true);
    expect(foreign.eth0).toEqual({ mtu: 1500, addresses: [node1().cidr] });
  });

  it.each(HOSTILE_ROWS.map((row) => [row.name, row] as const))('%s', async (_, row: HostileRow) => {
    const context: HostileContext = { topology, valid };
    const file = join(dir, 'hostile.yaml');
    await writeFile(file, renderSnapshotFile(row.cluster(context)) + (row.pods?.(context) ?? []).map(podYaml).join(''));
    const foreign = await foreignPicture();
    const programmed = await wrenPicture(row.spoils);

    const { code, out, err } = await applyOn(UNDER_TEST, file, row.flags);
    expect(err).toContainEqual(expect.stringMatching(row.refusal));
    expect(code, err.join('\n')).toBe(0);
    // A row that only adds a refused object changes nothing at all; one that spoils a peer's VTEP
    // changes only what is that VTEP's.
    if (row.spoils === undefined) expect(out.at(-1), out.join('\n')).toMatch(/^applied 0 change\(s\)/);
    else expect(out.filter((l) => /^[+-] /.test(l) && !concerns(l, row.spoils))).toEqual([]);

    expect(await foreignPicture()).toEqual(foreign);
    expect(await wrenPicture(row.spoils)).toEqual(programmed);
    await expectNoForbiddenRoutes();
    const main4 = lines(await ipIn(['-4', 'route', 'show', 'table', 'main'])).map((l) => l.replace(/^blackhole /, '').split(' ')[0]);
    for (const dst of row.unrouted?.(context) ?? []) expect(main4, `a route to ${dst}`).not.toContain(dst);
    await expectReachable(row.spoils);

    // No line the kernel refuses on every pass, no flapping: the same input again writes nothing.
    const again = await applyOn(UNDER_TEST, file, row.flags);
    expect(again.code, again.err.join('\n')).toBe(0);
    expect(again.out.at(-1), again.out.join('\n')).toMatch(/^applied 0 change\(s\)/);
  });
});

async function expectNoForbiddenRoutes(): Promise<void> {
  const forbidden = [...RESERVED, node1().subnet] as Cidr[];
  const owned = (await new IpKernel(node1().netns).readRoutes(MAIN_TABLE)).filter((r) => r.proto === 199);
  expect(owned.length).toBeGreaterThan(0);
  for (const route of owned) expect(forbidden.filter((f) => cidrsOverlap(f, route.dst)), `route ${route.dst}`).toEqual([]);
}

/** node-1 pings its underlay peers; its pod and the other nodes' pods ping each other across nodes (TTL 62). */
async function expectReachable(spoiled?: string): Promise<void> {
  const peers = topology.nodes.filter((n) => n.name !== UNDER_TEST);
  const underlay = await Promise.all(peers.map(async (n) => ({ to: n.name, ok: (await ping(node1().netns, n.ip, { count: 1, timeoutMs: 1000 })).ok })));
  expect(underlay).toEqual(peers.map((n) => ({ to: n.name, ok: true })));
  const podNetns = (name: string) => topology.pods.find((p) => p.name === name)?.netns ?? '';
  const local = pods.find((p) => p.node === UNDER_TEST);
  const remote = pods.filter((p) => p.node !== UNDER_TEST && p.node !== spoiled);
  if (local === undefined) throw new Error('no pod on node-1');
  const pairs = remote.flatMap((r) => [[local, r], [r, local]] as const);
  const ttls = await Promise.all(pairs.map(async ([from, to]) => ({ from: from.name, to: to.name, ttl: (await ping(podNetns(from.name), to.ip, { count: 1, timeoutMs: 1000 })).ttl })));
  expect(ttls).toEqual(pairs.map(([from, to]) => ({ from: from.name, to: to.name, ttl: 62 })));
}
