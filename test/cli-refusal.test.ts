// `wren apply` on input that cannot be a whole cluster, against a namespace wren has already
// programmed: exit 1, the reason on stderr, and the namespace's routes and VXLAN device exactly
// as they were (before the refusal, each of these wiped every wren route and the device).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../agent/cli/cli.js';
import { runOk } from '../kernel/exec.js';
import { scratchNs, type ScratchNs } from './support/scratch-ns.js';

const FIXTURE = new URL('./fixtures/seed-ipip-cluster.yaml', import.meta.url).pathname;
const JSON_FIXTURE = new URL('./fixtures/seed-ipip-cluster.json', import.meta.url).pathname;
const NODE = 'minikube-m02';

async function wren(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

/** The kubectl List without the items `drop` matches (items start at "\n- " in kubectl's YAML). */
function withoutItems(yaml: string, drop: RegExp): string {
  const [head = '', ...items] = yaml.split('\n- ');
  return [head, ...items.filter((item) => !drop.test(item))].join('\n- ');
}

let dir: string;
let ns: ScratchNs;
let whole: string;
/**
 * Everything a refusal must leave alone: every route of the namespace and the VXLAN device. IPv6
 * link-local routes are left out: the kernel adds them on its own once duplicate address
 * detection is done, whenever that is.
 */
const kernelPicture = async () => ({
  routes: (await runOk('ip', ['-n', ns.name, '-d', 'route', 'show', 'table', 'all'])).split('\n').filter((l) => !l.includes('fe80:')).join('\n'),
  vxlan: await runOk('ip', ['-n', ns.name, '-d', 'link', 'show', 'dev', 'vxlan.calico']),
  fdb: await runOk('bridge', ['-n', ns.name, 'fdb', 'show', 'dev', 'vxlan.calico']),
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wren-refusal-'));
  ns = await scratchNs('refuse', '172.16.30.7/24');
  const vxlan = (await readFile(FIXTURE, 'utf8')).replace('ipipMode: Always', 'ipipMode: Never').replace('vxlanMode: Never', 'vxlanMode: Always').replace(/IPv4IPIPTunnelAddr/g, 'IPv4VXLANTunnelAddr').replace(/ipip-tunnel-addr-/g, 'vxlan-tunnel-addr-');
  whole = join(dir, 'whole.yaml');
  await writeFile(whole, vxlan);
  await writeFile(join(dir, 'empty.yaml'), '');
  await writeFile(join(dir, 'truncated.yaml'), vxlan.slice(0, Math.floor(vxlan.length / 2)));
  await writeFile(join(dir, 'truncated.json'), (await readFile(JSON_FIXTURE)).subarray(0, 20_000));
  await writeFile(join(dir, 'binary.gz'), Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xed, 0x5d]));
  await writeFile(join(dir, 'no-node.yaml'), withoutItems(vxlan, /^apiVersion: v1\n {2}kind: Node[\s\S]*\n {4}name: minikube-m02\n/));
  await writeFile(join(dir, 'no-pool.yaml'), withoutItems(vxlan, /kind: IPPool/));
  const first = await wren('apply', '--node', NODE, '--snapshot', whole, '--netns', ns.name);
  expect(first.code).toBe(0);
});

afterAll(async () => {
  await ns.remove();
  await rm(dir, { recursive: true, force: true });
});

describe('wren apply refuses input that cannot be a whole cluster', () => {
  it('the namespace holds wren\'s routes and VXLAN device to begin with', async () => {
    const picture = await kernelPicture();
    expect(picture.routes).toMatch(/10\.244\.120\.64\/26 via 10\.244\.120\.64 dev vxlan\.calico .*proto 199 .*onlink/);
    expect(picture.routes).toMatch(/blackhole 10\.244\.205\.192\/26 .*proto 199/);
    expect(picture.vxlan).toContain('vxlan id 4096');
  });

  it.each([
    { file: 'empty.yaml', reason: /the file is empty$/ },
    { file: 'truncated.yaml', reason: /the file is truncated: a List without its kind/ },
    { file: 'truncated.json', reason: /the file is truncated: the JSON ends before its last value closes$/ },
    { file: 'binary.gz', reason: /the file is binary, not YAML or JSON text/ },
    { file: 'no-node.yaml', reason: /node "minikube-m02" is not in the cluster$/ },
    { file: 'no-pool.yaml', reason: /the cluster has no IPPool$/ },
  ])('$file: exit 1, the reason on stderr, routes and device untouched', async ({ file, reason }) => {
    const before = await kernelPicture();
    const { code, out, err } = await wren('apply', '--node', NODE, '--snapshot', join(dir, file), '--netns', ns.name);
    expect(code).toBe(1);
    expect(err.at(-1)).toMatch(/^wren apply: refused, nothing changed: /);
    expect(err.at(-1)).toMatch(reason);
    expect(out).toEqual([]);
    expect(await kernelPicture()).toEqual(before);
  });

  it('diff and routes refuse the same way', async () => {
    for (const command of ['diff', 'routes']) {
      const { code, err } = await wren(command, '--node', NODE, '--snapshot', join(dir, 'no-node.yaml'), ...(command === 'diff' ? ['--netns', ns.name] : []));
      expect(code).toBe(1);
      expect(err).toEqual([`wren ${command}: refused, nothing changed: node "minikube-m02" is not in the cluster`]);
    }
  });

  it('the whole dump again changes nothing', async () => {
    const { code, out } = await wren('apply', '--node', NODE, '--snapshot', whole, '--netns', ns.name);
    expect(code).toBe(0);
    expect(out.at(-1)).toMatch(/^applied 0 change\(s\)/);
  });
});
