// The CLI as an operator runs it: `wren routes` from a cluster dump, `wren diff`/`wren apply`
// against a namespace's kernel, problems on stderr naming kind, name and field, exit codes.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../agent/cli/cli.js';
import { IpKernel } from '../kernel/kernel.js';
import { MAIN_TABLE } from '../kernel/state.js';
import { derivedVtepMac } from '../tunnels/vtep-mac.js';
import { scratchNs, type ScratchNs } from './support/scratch-ns.js';

const FIXTURE = new URL('./fixtures/seed-ipip-cluster.yaml', import.meta.url).pathname;

async function wren(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n').split('\n').filter((l) => l !== ''), err };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wren-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('wren routes', () => {
  it('prints the seed node\'s table from a kubectl dump, in ip route syntax, and its natOutgoing rules as comments', async () => {
    const { code, out, err } = await wren('routes', '--node', 'minikube-m03', '--snapshot', FIXTURE);
    expect(err).toEqual([]);
    expect(code).toBe(0);
    expect(out).toEqual([
      '10.244.120.64/26 via 172.16.30.6 dev tunl0 proto 199 onlink',
      'blackhole 10.244.151.0/26 proto 199',
      '10.244.151.1 dev califba6dd09590 proto 199 scope link',
      '10.244.205.192/26 via 172.16.30.7 dev tunl0 proto 199 onlink',
      '# nat (natOutgoing), one nft -f transaction:',
      '# add table ip wren-nat',
      '# add set ip wren-nat masq-pools { type ipv4_addr; flags interval; }',
      '# add set ip wren-nat all-pools { type ipv4_addr; flags interval; }',
      '# add element ip wren-nat masq-pools { 10.244.0.0/16 }',
      '# add element ip wren-nat all-pools { 10.244.0.0/16 }',
      '# add chain ip wren-nat postrouting { type nat hook postrouting priority 100; policy accept; }',
      '# add rule ip wren-nat postrouting ip saddr @masq-pools ip daddr != @all-pools counter masquerade fully-random',
    ]);
  });

  it('--json carries class and source, and the NAT tables', async () => {
    const { out } = await wren('routes', '--node', 'minikube', '--snapshot', FIXTURE, '--json');
    const { routes, nat } = JSON.parse(out.join('\n')) as { routes: { dst: string; class: string; source: string }[]; nat: unknown };
    expect(routes.map((r) => [r.dst, r.class, r.source])).toEqual([
      ['10.244.120.64/26', 'blackhole', 'IPAMBlock/10-244-120-64-26'],
      ['10.244.151.0/26', 'ipip', 'IPAMBlock/10-244-151-0-26'],
      ['10.244.205.192/26', 'ipip', 'IPAMBlock/10-244-205-192-26'],
    ]);
    expect(nat).toEqual([{ table: 'ip wren-nat', masquerade: ['10.244.0.0/16'], pools: ['10.244.0.0/16'] }]);
  });

  it('hostile objects are reported with kind, name and field, and cannot reach a batch line', async () => {
    const file = join(dir, 'hostile.yaml');
    await writeFile(
      file,
      `apiVersion: v1
kind: List
items:
- apiVersion: crd.projectcalico.org/v1
  kind: IPPool
  metadata: {name: pool}
  spec: {cidr: 10.244.0.0/16, blockSize: 26, vxlanMode: Always}
- apiVersion: v1
  kind: Node
  metadata:
    name: evil
    annotations:
      projectcalico.org/IPv4Address: "172.16.30.9/24 dev lo"
      projectcalico.org/IPv4VXLANTunnelAddr: "10.244.9.0\\nroute flush table main"
- apiVersion: v1
  kind: Node
  metadata:
    name: good
    annotations: {projectcalico.org/IPv4Address: 172.16.30.7/24, projectcalico.org/IPv4VXLANTunnelAddr: 10.244.1.0}
- apiVersion: v1
  kind: Node
  metadata: {name: me, annotations: {projectcalico.org/IPv4Address: 172.16.30.6/24}}
- apiVersion: crd.projectcalico.org/v1
  kind: IPAMBlock
  metadata: {name: bad-cidr}
  spec: {cidr: "10.244.2.0/26; reboot", affinity: "host:good", allocations: [], unallocated: [], attributes: []}
- apiVersion: crd.projectcalico.org/v1
  kind: IPAMBlock
  metadata: {name: 10-244-1-0-26}
  spec: {cidr: 10.244.1.0/26, affinity: "host:good", allocations: [0,${Array(63).fill('null').join(',')}], unallocated: [], attributes: [{handle_id: vxlan-tunnel-addr-good, secondary: {node: good}}]}
- apiVersion: v1
  kind: Pod
  metadata: {name: "web", namespace: default, annotations: {cni.projectcalico.org/podIP: "10.244.0.5/32 dev eth0"}}
  spec: {nodeName: me}
  status: {podIP: 10.244.0.5}
`,
    );
    const { code, out, err } = await wren('routes', '--node', 'me', '--snapshot', file);
    expect(code).toBe(0);
    expect(err.some((l) => /^warning: Node\/evil metadata\.annotations/.test(l))).toBe(true);
    expect(err.some((l) => /^warning: IPAMBlock\/bad-cidr spec\.cidr/.test(l))).toBe(true);
    expect(out).toContain('10.244.1.0/26 via 10.244.1.0 dev vxlan.calico proto 199 onlink');
    for (const line of out) expect(line).not.toMatch(/reboot|flush|dev lo/);
  });

  it('a missing file and a bad flag are one clear line each', async () => {
    const missing = await wren('routes', '--node', 'a', '--snapshot', join(dir, 'nope.yaml'));
    expect(missing.code).toBe(1);
    expect(missing.err).toEqual([expect.stringMatching(/^wren routes: cannot read snapshot .*nope\.yaml: ENOENT$/)]);
    const bad = await wren('routes', '--node', 'a', '--snapshot', FIXTURE, '--proto', '80');
    expect(bad.code).toBe(2);
    expect(bad.err).toEqual([expect.stringContaining('wren routes: bad setting --proto: "80" is the protocol of felix')]);
  });
});

describe('wren diff and apply on a namespace', () => {
  let ns: ScratchNs;
  beforeAll(async () => {
    ns = await scratchNs('cli', '172.16.30.7/24');
  });
  afterAll(async () => {
    await ns.remove();
  });

  it('diff shows the batch, apply runs it, a second diff shows nothing to do', async () => {
    const vxlan = join(dir, 'vxlan.yaml');
    await writeFile(vxlan, (await readFile(FIXTURE, 'utf8')).replace('ipipMode: Always', 'ipipMode: Never').replace('vxlanMode: Never', 'vxlanMode: Always').replace(/IPv4IPIPTunnelAddr/g, 'IPv4VXLANTunnelAddr').replace(/ipip-tunnel-addr-/g, 'vxlan-tunnel-addr-'));
    const diff = await wren('diff', '--node', 'minikube-m02', '--snapshot', vxlan, '--netns', ns.name);
    expect(diff.code).toBe(0);
    expect(diff.out).toContain(`+ link add vxlan.calico mtu 1450 address ${derivedVtepMac('minikube-m02')} type vxlan id 4096 local 172.16.30.7 dev eth0 dstport 4789 nolearning`);
    expect(diff.out).toContain('+ route replace 10.244.120.64/26 via 10.244.120.64 dev vxlan.calico table 254 metric 0 proto 199 onlink');
    expect(diff.out).toContain('~ 10.244.205.193 dev calic440f455693 proto 199 scope link   # waiting: device calic440f455693 does not exist');
    // The seed's pool has natOutgoing: wren's NAT table, a line per nft command.
    expect(diff.out).toContain('+ add element ip wren-nat masq-pools { 10.244.0.0/16 }');
    expect(diff.out).toContain('+ add rule ip wren-nat postrouting ip saddr @masq-pools ip daddr != @all-pools counter masquerade fully-random');
    expect((await new IpKernel(ns.name).readRoutes(MAIN_TABLE)).filter((r) => r.proto === 199)).toEqual([]);
    expect(await new IpKernel(ns.name).readNat()).toEqual({ supported: true, tables: { 4: undefined, 6: undefined } });

    const apply = await wren('apply', '--node', 'minikube-m02', '--snapshot', vxlan, '--netns', ns.name, '--mtu-file', join(dir, 'mtu'));
    expect(apply.code).toBe(0);
    expect(apply.out.at(-1)).toMatch(/^applied \d+ change\(s\): 3 route\(s\) added or replaced, 0 removed, 0 unchanged, 1 held, 0 conflict\(s\), 0 failed/);
    expect(await readFile(join(dir, 'mtu'), 'utf8')).toBe('1450\n');
    expect(await new IpKernel(ns.name).readNat()).toEqual({ supported: true, tables: { 4: { family: 4, masquerade: ['10.244.0.0/16'], pools: ['10.244.0.0/16'] }, 6: undefined } });

    const again = await wren('diff', '--node', 'minikube-m02', '--snapshot', vxlan, '--netns', ns.name);
    expect(again.out.filter((l) => l.startsWith('+') || l.startsWith('-'))).toEqual([]);
  });
});
