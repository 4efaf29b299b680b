// `wren cleanup`: everything wren owns on a node goes, nothing else does. The plan (pure) for
// each kind of thing a node may hold, then the command on a namespace wren has programmed that
// also holds foreign routes (static, dhcp, a default route, proto 199 in another table), foreign
// devices (one named like wren's second VXLAN device but of another kind) and foreign nftables
// tables (an iptables-nft nat table, a user's inet filter).
import { mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planCleanup } from '../agent/cleanup-plan.js';
import { main } from '../agent/cli/cli.js';
import { runOk } from '../kernel/exec.js';
import { renderOp } from '../kernel/plan.js';
import type { KernelState, Link, Route } from '../kernel/state.js';
import type { Cidr, IfaceName, IpAddr } from '../kernel/values.js';
import { scratchNs, type ScratchNs } from './support/scratch-ns.js';

const route = (dst: string, proto: number, extra: Partial<Route> = {}): Route => ({ dst: dst as Cidr, table: 254, metric: 0, type: 'unicast', proto, dev: 'eth0' as IfaceName, via: '172.16.30.1' as IpAddr, onlink: false, scope: 'global', ...extra });
const link = (name: string, kind: string | undefined, addresses: string[] = []): Link => ({ name: name as IfaceName, index: 1, kind, mtu: 1500, up: true, addresses: addresses as Cidr[] });
const state = (routes: Route[], links: Link[]): KernelState => ({ routes, links, neighbors: [], fdb: [] });
const lines = (s: KernelState) => {
  const planned = planCleanup(s, { proto: 199, table: 254 });
  return { lines: planned.plan.flatMap((p) => p.ops.map(renderOp)), kept: planned.kept };
};

describe('the cleanup plan', () => {
  it.each([
    { what: 'nothing of wren\'s: nothing to do', s: state([route('10.9.0.0/24', 4), route('0.0.0.0/0', 16)], [link('eth0', 'veth')]), want: [], kept: [] },
    {
      what: 'wren\'s routes only, in wren\'s table, both families and a blackhole',
      s: state([route('10.244.1.0/26', 199), route('10.244.2.0/26', 199, { table: 100 }), route('10.244.3.0/26', 4), route('fd00::/122', 199, { metric: 1024 }), route('10.244.4.0/26', 199, { type: 'blackhole', dev: undefined, via: undefined })], []),
      want: ['route del 10.244.1.0/26 table 254 metric 0 proto 199', 'route del fd00::/122 table 254 metric 1024 proto 199', 'route del blackhole 10.244.4.0/26 table 254 metric 0 proto 199'],
      kept: [],
    },
    {
      what: 'wren\'s VXLAN devices, not a same-named device of another kind',
      s: state([], [link('vxlan.calico', 'vxlan'), link('vxlan-v6.calico', 'bridge'), link('flannel.1', 'vxlan')]),
      want: ['link del vxlan.calico'],
      kept: ['vxlan-v6.calico stays: it is a bridge device, not a VXLAN device wren made'],
    },
    {
      what: 'tunl0 used by wren\'s routes: its address goes, the device stays',
      s: state([route('10.244.1.0/26', 199, { dev: 'tunl0' as IfaceName, via: '172.16.30.7' as IpAddr })], [link('tunl0', 'ipip', ['10.244.0.1/32', 'fe80::1/64'])]),
      want: ['route del 10.244.1.0/26 table 254 metric 0 proto 199', 'addr del 10.244.0.1/32 dev tunl0'],
      kept: ['tunl0 stays: the ipip module creates it in every namespace and the kernel does not delete it'],
    },
    {
      what: 'tunl0 no route of wren\'s uses: its address may be someone else\'s and stays',
      s: state([route('10.244.1.0/26', 4, { dev: 'tunl0' as IfaceName })], [link('tunl0', 'ipip', ['10.244.0.1/32'])]),
      want: [],
      kept: ['tunl0 stays: the ipip module creates it in every namespace and the kernel does not delete it', "tunl0's address 10.244.0.1/32 stays: no route of wren's uses tunl0, so wren cannot tell it set it"],
    },
    {
      what: 'wren\'s NAT tables, both families, go whole',
      s: { ...state([], []), nat: { supported: true as const, tables: { 4: { family: 4 as const, masquerade: [], pools: [] }, 6: { family: 6 as const, masquerade: undefined, pools: undefined, misshapen: 'changed by hand' } } } },
      want: ['delete table ip wren-nat', 'delete table ip6 wren-nat'],
      kept: [],
    },
    {
      what: 'no nftables here: nothing to remove, and why',
      s: { ...state([], []), nat: { supported: false as const, reason: 'nft is not installed (Debian package nftables)' } },
      want: [],
      kept: ['no wren-nat table can be there: nft is not installed (Debian package nftables)'],
    },
  ])('$what', ({ s, want, kept }) => {
    expect(lines(s)).toEqual({ lines: want, kept });
  });
});

async function wren(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('wren cleanup on a namespace', () => {
  let ns: ScratchNs;
  let dir: string;
  const FOREIGN_ROUTES = [
    'route add 10.99.0.0/24 via 172.16.30.1 dev eth0 proto static',
    'route add 10.98.0.0/24 via 172.16.30.1 dev eth0 proto 16',
    'route add default via 172.16.30.1 dev eth0',
    'route add 10.97.0.0/24 via 172.16.30.1 dev eth0 table 100 proto 199',
  ];
  /**
   * Every route but wren's: those of its protocol in the main table, and those of its VXLAN
   * device (the kernel's local route for its address). IPv6 link-local ones are left out too:
   * the kernel adds them on its own schedule.
   */
  const foreignRoutes = async () =>
    (await runOk('ip', ['-n', ns.name, 'route', 'show', 'table', 'all'])).split('\n').filter((l) => !l.includes('fe80:') && !l.includes('dev vxlan.calico') && !(l.includes('proto 199') && !l.includes('table 100')));
  const links = async () => (await runOk('ip', ['-n', ns.name, '-o', 'link', 'show'])).split('\n').filter((l) => l !== '').map((l) => l.split(':').slice(0, 2).join(':').trim());

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wren-cleanup-'));
    ns = await scratchNs('cleanup', '172.16.30.7/24');
    const fixture = new URL('./fixtures/seed-ipip-cluster.yaml', import.meta.url).pathname;
    const vxlan = (await readFile(fixture, 'utf8')).replace('ipipMode: Always', 'ipipMode: Never').replace('vxlanMode: Never', 'vxlanMode: Always').replace(/IPv4IPIPTunnelAddr/g, 'IPv4VXLANTunnelAddr').replace(/ipip-tunnel-addr-/g, 'vxlan-tunnel-addr-');
    await writeFile(join(dir, 'cluster.yaml'), vxlan);
    await ns.ip([...FOREIGN_ROUTES, 'link add vxlan-v6.calico type bridge', 'link add fore0 type veth peer name fore1', 'link set fore0 up']);
    await runOk('ip', ['netns', 'exec', ns.name, 'nft', '-f', '-'], 'table ip nat {\n  chain POSTROUTING { type nat hook postrouting priority srcnat; policy accept; masquerade; }\n}\ntable inet filter {\n  chain input { type filter hook input priority 0; policy accept; }\n}\n');
    const applied = await wren('apply', '--node', 'minikube-m02', '--snapshot', join(dir, 'cluster.yaml'), '--netns', ns.name);
    expect(applied.code).toBe(0);
  });
  afterAll(async () => {
    await ns.remove();
    await rm(dir, { recursive: true, force: true });
  });

  it('removes wren\'s routes, its VXLAN device with its entries, its NAT table and the MTU file; nothing else', async () => {
    const tables = async () => (await runOk('ip', ['netns', 'exec', ns.name, 'nft', 'list', 'tables'])).trim().split('\n');
    const foreignTables = async () => runOk('ip', ['netns', 'exec', ns.name, 'nft', 'list', 'ruleset']).then((r) => r.replace(/table ip wren-nat \{[^]*?\n\}\n?/, ''));
    expect(await tables()).toEqual(['table ip nat', 'table inet filter', 'table ip wren-nat']);
    const foreignBefore = await foreignTables();
    const routesBefore = await foreignRoutes();
    expect(routesBefore.join('\n')).toMatch(/10\.98\.0\.0\/24 via 172\.16\.30\.1 dev eth0 proto dhcp/);
    const ours = await runOk('ip', ['-n', ns.name, 'route', 'show', 'proto', '199']);
    expect(ours.trim().split('\n')).toHaveLength(3);
    expect(await runOk('bridge', ['-n', ns.name, 'fdb', 'show', 'dev', 'vxlan.calico'])).toMatch(/dst 172\.16\.30\.6/);
    const linksBefore = await links();
    const mtu = join(dir, 'mtu');
    await writeFile(mtu, '1450\n');

    const dry = await wren('cleanup', '--netns', ns.name, '--mtu-file', mtu, '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.out.at(-1)).toBe('would remove 3 route(s) and 1 device(s) or address(es) with proto 199 in table 254, 1 NAT table(s), 0 failed');
    expect(await runOk('ip', ['-n', ns.name, 'route', 'show', 'proto', '199'])).toBe(ours);
    expect((await stat(mtu)).isFile()).toBe(true);

    const { code, out } = await wren('cleanup', '--netns', ns.name, '--mtu-file', mtu);
    expect(code).toBe(0);
    expect(out).toContain('- route del blackhole 10.244.205.192/26 table 254 metric 0 proto 199');
    expect(out).toContain('- link del vxlan.calico');
    expect(out).toContain('- delete table ip wren-nat');
    expect(out).toContain('# vxlan-v6.calico stays: it is a bridge device, not a VXLAN device wren made');
    expect(out).toContain(`# MTU file ${mtu}: removed`);
    expect(out.at(-1)).toBe('removed 3 route(s) and 1 device(s) or address(es) with proto 199 in table 254, 1 NAT table(s), 0 failed');
    expect(await tables()).toEqual(['table ip nat', 'table inet filter']);
    expect(await foreignTables()).toBe(foreignBefore);

    expect(await runOk('ip', ['-n', ns.name, 'route', 'show', 'proto', '199'])).toBe('');
    const routesAfter = await foreignRoutes();
    expect(routesAfter).toEqual(routesBefore);
    for (const foreign of [/^default via 172\.16\.30\.1 dev eth0/, /^10\.99\.0\.0\/24 via 172\.16\.30\.1 dev eth0 proto static/, /^10\.98\.0\.0\/24 .* proto dhcp/, /^10\.97\.0\.0\/24 .*table 100 proto 199/]) {
      expect(routesAfter.some((l) => foreign.test(l)), String(foreign)).toBe(true);
    }
    expect(await links()).toEqual(linksBefore.filter((l) => !l.endsWith(' vxlan.calico')));
    await expect(stat(mtu)).rejects.toThrow(/ENOENT/);

    const again = await wren('cleanup', '--netns', ns.name, '--mtu-file', mtu);
    expect(again.out.at(-1)).toBe('removed 0 route(s) and 0 device(s) or address(es) with proto 199 in table 254, 0 failed');
  });

  it('leaves an MTU path that is not a regular file alone', async () => {
    const target = join(dir, 'precious');
    await writeFile(target, 'keep me\n');
    await symlink(target, join(dir, 'mtu-link'));
    const { code, out } = await wren('cleanup', '--netns', ns.name, '--mtu-file', join(dir, 'mtu-link'));
    expect(code).toBe(0);
    expect(out).toContain(`# MTU file ${join(dir, 'mtu-link')} stays: it is a symbolic link, not a regular file`);
    expect(await readFile(target, 'utf8')).toBe('keep me\n');
  });

  it('refuses a --proto that is not wren\'s to take, as every command does', async () => {
    const { code, err } = await wren('cleanup', '--netns', ns.name, '--proto', '16');
    expect(code).toBe(2);
    expect(err[0]).toMatch(/^wren cleanup: bad setting --proto: "16"/);
  });
});
