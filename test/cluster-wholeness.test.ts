// Input that cannot be a whole cluster is refused with its reason, before anything is computed
// from it: every dump file shape an interrupted or mistaken `kubectl get > file` leaves behind.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSnapshotFile } from '../agent/cluster-source.js';
import { ClusterRefusedError, clusterRefusal, outlineOf, sourceRefusal, type RefusalCode } from '../agent/cluster-wholeness.js';
import { EMPTY_SNAPSHOT } from '../routing/cluster.js';
import { seedCluster } from './support/seed-cluster.js';
import { nodeObject, StoreSource } from './support/store-source.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
const SEED_YAML = fixture('seed-ipip-cluster.yaml');
const SEED_JSON = fixture('seed-ipip-cluster.json');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wren-whole-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function refusalOfFile(name: string, bytes: Uint8Array | string): Promise<{ code?: RefusalCode; message: string }> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  try {
    await loadSnapshotFile(path);
    return { message: 'loaded' };
  } catch (error) {
    if (!(error instanceof ClusterRefusedError)) return { message: (error as Error).message };
    return { code: error.refusal.code, message: error.message };
  }
}

describe('a dump file that cannot be a cluster', () => {
  it.each([
    { what: 'an empty file', file: '', code: 'empty', says: 'the file is empty' },
    { what: 'white space only', file: '\n  \n\t\n', code: 'empty', says: 'the file is empty' },
    { what: 'NUL bytes', file: Buffer.from([0x61, 0x00, 0x62]), code: 'binary', says: 'byte 0x00 at character 1' },
    { what: 'invalid UTF-8 (a gzipped dump)', file: Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xff, 0xfe]), code: 'binary', says: 'not valid UTF-8' },
    { what: 'a control byte inside otherwise plain YAML', file: 'kind: List\x1b[0m\nitems: []\n', code: 'binary', says: 'byte 0x1b' },
    { what: 'JSON cut short', file: SEED_JSON.subarray(0, 9000), code: 'truncated', says: 'the JSON ends before its last value closes' },
    { what: 'JSON cut after an element', file: SEED_JSON.subarray(0, 20000), code: 'truncated', says: 'the JSON ends before its last value closes' },
    { what: 'JSON cut inside a string', file: SEED_JSON.subarray(0, 100), code: 'truncated', says: 'the JSON ends before its last value closes' },
    { what: 'a YAML List cut before its kind', file: SEED_YAML.subarray(0, 9000), code: 'truncated', says: 'a List without its kind' },
    { what: 'YAML that holds no Kubernetes object', file: 'hello: world\n', code: 'no-objects', says: 'holds no Calico or Kubernetes object' },
    { what: 'a List of other kinds only', file: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }] }), code: 'no-objects', says: 'holds no Calico or Kubernetes object' },
    { what: 'comments only', file: '# nothing here\n', code: 'no-objects', says: 'holds no Calico or Kubernetes object' },
  ])('$what: refused ($code), the file named', async ({ file, code, says }) => {
    const name = `f-${code}-${Math.random().toString(36).slice(2)}`;
    const refused = await refusalOfFile(name, file);
    expect(refused.code).toBe(code);
    expect(refused.message).toContain(says);
    expect(refused.message).toMatch(new RegExp(`^refused, nothing changed: snapshot .*${name}: `));
  });

  it.each([
    { what: 'the YAML dump', file: SEED_YAML },
    { what: 'the JSON dump', file: SEED_JSON },
  ])('$what whole loads', async ({ file }) => {
    expect((await refusalOfFile(`whole-${file.length}`, file)).message).toBe('loaded');
  });

  it('malformed YAML is still reported with its line, as before', async () => {
    const refused = await refusalOfFile('bad.yaml', 'items: [\n  a: b\n');
    expect(refused.code).toBeUndefined();
    expect(refused.message).toMatch(/not valid YAML or JSON at line/);
  });
});

describe('a cluster without a pool or without this node', () => {
  const seed = seedCluster({ vxlan: 'Always' });
  it.each([
    { what: 'the whole seed cluster', snapshot: seed, node: 'minikube', code: undefined },
    { what: 'no IPPool', snapshot: { ...seed, pools: [] }, node: 'minikube', code: 'no-ippool' },
    { what: 'nothing at all', snapshot: EMPTY_SNAPSHOT, node: 'minikube', code: 'no-ippool' },
    { what: 'this node missing', snapshot: { ...seed, nodes: seed.nodes.filter((n) => n.name !== 'minikube') }, node: 'minikube', code: 'no-node' },
    { what: 'a node name the cluster does not have', snapshot: seed, node: 'minikube-m09', code: 'no-node' },
  ])('$what: $code', ({ snapshot, node, code }) => {
    expect(clusterRefusal(outlineOf(snapshot), node)?.code).toBe(code);
  });

  it('names the node it misses', () => {
    expect(clusterRefusal(outlineOf(seed), 'minikube-m09')?.message).toBe('node "minikube-m09" is not in the cluster');
  });
});

describe('a datastore in sync, through its indexes (no snapshot built)', () => {
  it('refuses once the last pool or this node goes, and takes the cluster back when they return', () => {
    const seed = seedCluster({ vxlan: 'Always' });
    const source = new StoreSource(seed);
    expect(sourceRefusal(source, 'minikube')).toBeUndefined();
    source.remove('Node', 'minikube');
    expect(sourceRefusal(source, 'minikube')?.code).toBe('no-node');
    source.remove('IPPool', 'default-ipv4-ippool');
    expect(sourceRefusal(source, 'minikube')?.code).toBe('no-ippool');
    const [pool] = seed.pools;
    const [node] = seed.nodes;
    if (pool === undefined || node === undefined) throw new Error('the seed has a pool and a node');
    source.put({ kind: 'IPPool', key: pool.name, value: pool });
    expect(sourceRefusal(source, 'minikube')?.code).toBe('no-node');
    source.put(nodeObject(node));
    expect(sourceRefusal(source, 'minikube')).toBeUndefined();
  });
});
