// One CLI over every source: `wren routes` gives the same answer from a kubectl dump, from etcd
// in Calico's layout, and from the Kubernetes API; `wren snapshot` turns a live datastore back
// into a dump that answers the same.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { main } from '../agent/cli/cli.js';
import { startTestEtcd, testClient } from './support/etcd-harness.js';
import { writeCalicoEtcd } from './support/etcd-from-kubernetes.js';
import { kubeconfigYaml, startKubeApiDouble } from './support/kube-api-double/index.js';
import { kubeconfigYaml as realKubeconfig } from '../lab/kube-apiserver/bootstrap.js';
import { kubeApiServerBuild, useRealKubeApi } from './support/real-kube-api/index.js';

const FIXTURE = new URL('./fixtures/seed-ipip-cluster.yaml', import.meta.url).pathname;
const NODES = ['minikube', 'minikube-m02', 'minikube-m03'];
let dir: string;
let items: { kind: string; metadata: { name: string } }[];

async function wren(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

async function tables(...source: string[]): Promise<Record<string, string[]>> {
  const result: Record<string, string[]> = {};
  for (const node of NODES) {
    const r = await wren('routes', '--node', node, ...source);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    result[node] = r.out;
  }
  return result;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wren-ds-'));
  items = (parse(await readFile(FIXTURE, 'utf8')) as { items: typeof items }).items;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('wren routes from every datastore', () => {
  it('etcd (Calico layout) answers as the dump does, and wren snapshot round-trips it', async () => {
    const expected = await tables('--snapshot', FIXTURE);
    const etcd = await startTestEtcd();
    const client = testClient(etcd.endpoint);
    await writeCalicoEtcd(client, items as never);
    expect(await tables('--datastore', 'etcd', '--etcd-endpoints', etcd.endpoint)).toEqual(expected);
    const dump = await wren('snapshot', '--datastore', 'etcd', '--etcd-endpoints', etcd.endpoint);
    expect(dump.code).toBe(0);
    const file = join(dir, 'from-etcd.yaml');
    await writeFile(file, dump.out.join('\n'));
    expect(await tables('--snapshot', file)).toEqual(expected);
    const json = await wren('snapshot', '--datastore', 'etcd', '--etcd-endpoints', etcd.endpoint, '--json');
    const jsonFile = join(dir, 'from-etcd.json');
    await writeFile(jsonFile, json.out.join('\n'));
    expect(await tables('--snapshot', jsonFile)).toEqual(expected);
  });

  it('a datastore that cannot be listed ends a one-shot command at once, with the reason', async () => {
    // A port nothing listens on (the double, closed before it is asked).
    const api = await startKubeApiDouble();
    const kubeconfig = join(dir, 'kubeconfig-closed');
    await writeFile(kubeconfig, kubeconfigYaml(api));
    await api.close();
    const started = performance.now();
    const kube = await wren('routes', '--node', 'a', '--datastore', 'kubernetes', '--kubeconfig', kubeconfig);
    expect(kube.code).toBe(1);
    expect(kube.err.join('\n')).toMatch(/^wren routes: cannot list the kubernetes datastore: \S+: .*ECONNREFUSED/);
    const etcd = await wren('routes', '--node', 'a', '--datastore', 'etcd', '--etcd-endpoints', 'http://127.0.0.1:1');
    expect(etcd.code).toBe(1);
    expect(etcd.err.join('\n')).toMatch(/^wren routes: cannot list the etcdv3 datastore: etcd list of \/calico\/ failed: .*ECONNREFUSED/);
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('a missing endpoint is a usage error naming the flag', async () => {
    const r = await wren('routes', '--node', 'a', '--datastore', 'etcd');
    expect(r.code).toBe(2);
    expect(r.err).toEqual(['wren routes: --datastore etcd needs --etcd-endpoints URL[,URL] (or ETCD_ENDPOINTS)']);
  });
});

describe.skipIf(kubeApiServerBuild === undefined)('wren routes from a real API server', () => {
  const api = useRealKubeApi();

  it('the Kubernetes API answers as the dump does', async () => {
    const expected = await tables('--snapshot', FIXTURE);
    // The dump's calico-node pods run as Calico's ServiceAccount, which admission wants to exist.
    await api().admin.ensure('/api/v1/namespaces/kube-system/serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'calico-node', namespace: 'kube-system' }, automountServiceAccountToken: false });
    for (const item of items) await api().objects.put(item as never);
    const kubeconfig = join(dir, 'kubeconfig');
    await writeFile(kubeconfig, realKubeconfig({ server: api().server.url, caPem: api().pki.caPem, token: api().pki.adminToken, user: 'admin' }));
    expect(await tables('--datastore', 'kubernetes', '--kubeconfig', kubeconfig)).toEqual(expected);
  });
});
