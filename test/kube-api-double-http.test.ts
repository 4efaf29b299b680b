// The double's wire format, checked with plain HTTP (no client-node): list shapes,
// resourceVersion semantics, pagination, 410 Expired, selectors, discovery, auth and pauses.
// Watches: kube-api-double-watch.test.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startKubeApiDouble } from './support/kube-api-double/index.js';
import type { KubeApiDouble, KubeObject } from './support/kube-api-double/index.js';
import { ipamBlockObject, nodeObject, podObject } from './support/kube-api-double/sample-objects.js';

let double: KubeApiDouble;

beforeEach(async () => {
  double = await startKubeApiDouble({ tooLargeResourceVersionWaitMs: 100 });
});
afterEach(async () => {
  await double.close();
});

async function get(path: string, token: string | null | undefined = double.token): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${double.url}${path}`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const names = (body: Record<string, unknown>) => (body.items as KubeObject[]).map((i) => i.metadata.name);

describe('auth and discovery', () => {
  it('answers 401 Unauthorized without the bearer token', async () => {
    const { status, body } = await get('/api/v1/nodes', null);
    expect(status).toBe(401);
    expect(body).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Unauthorized', code: 401 });
  });

  it('serves /version, /api, /apis and resource lists', async () => {
    expect((await get('/version')).body).toMatchObject({ major: '1', gitVersion: expect.stringMatching(/^v1\./) });
    expect((await get('/api')).body).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const groups = (await get('/apis')).body;
    expect(groups).toMatchObject({ kind: 'APIGroupList', groups: [{ name: 'crd.projectcalico.org', preferredVersion: { groupVersion: 'crd.projectcalico.org/v1' } }] });
    const core = (await get('/api/v1')).body;
    expect(core.resources).toContainEqual(expect.objectContaining({ name: 'pods', namespaced: true, kind: 'Pod' }));
    expect(core.resources).toContainEqual(expect.objectContaining({ name: 'nodes/status', kind: 'Node' }));
    const calico = (await get('/apis/crd.projectcalico.org/v1')).body;
    expect((calico.resources as { name: string }[]).map((r) => r.name)).toEqual(['ippools', 'ipamblocks', 'blockaffinities', 'ipamhandles', 'ipamconfigs', 'bgpconfigurations', 'bgppeers']);
  });

  it('answers unknown paths and objects with NotFound Status objects', async () => {
    expect((await get('/apis/example.com/v1/widgets')).body).toMatchObject({ kind: 'Status', reason: 'NotFound', code: 404 });
    expect((await get('/api/v1/nodes/nope')).body).toEqual({
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'nodes "nope" not found',
      reason: 'NotFound', details: { name: 'nope', kind: 'nodes' }, code: 404,
    });
    expect((await get('/apis/crd.projectcalico.org/v1/ippools/nope')).body).toMatchObject({
      message: 'ippools.crd.projectcalico.org "nope" not found', details: { name: 'nope', group: 'crd.projectcalico.org', kind: 'ippools' },
    });
  });
});

describe('LIST', () => {
  it('built-in lists carry kind/apiVersion only on the list; custom-resource items keep theirs', async () => {
    const a = double.apply(nodeObject('node-a'));
    double.apply(ipamBlockObject('10.244.0.0/26', 'node-a'));
    const nodes = (await get('/api/v1/nodes')).body;
    expect(nodes).toMatchObject({ kind: 'NodeList', apiVersion: 'v1', metadata: { resourceVersion: double.resourceVersion() } });
    const [item] = nodes.items as KubeObject[];
    expect(item?.kind).toBeUndefined();
    expect(item?.apiVersion).toBeUndefined();
    expect(item?.metadata).toMatchObject({ name: 'node-a', uid: a.metadata.uid, resourceVersion: a.metadata.resourceVersion });
    expect(item?.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const blocks = (await get('/apis/crd.projectcalico.org/v1/ipamblocks')).body;
    expect(blocks).toMatchObject({ kind: 'IPAMBlockList', apiVersion: 'crd.projectcalico.org/v1' });
    expect((blocks.items as KubeObject[])[0]).toMatchObject({ kind: 'IPAMBlock', apiVersion: 'crd.projectcalico.org/v1', metadata: { name: '10-244-0-0-26' } });
  });

  it('uses one global revision across resources', () => {
    const n = double.apply(nodeObject('node-a'));
    const b = double.apply(ipamBlockObject('10.244.0.0/26', 'node-a'));
    expect(Number(b.metadata.resourceVersion)).toBe(Number(n.metadata.resourceVersion) + 1);
    expect(double.resourceVersion()).toBe(b.metadata.resourceVersion);
  });

  it('filters pods by namespace path, spec.nodeName field selector and label selectors (in etcd key order)', async () => {
    double.apply(podObject('default', 'web-1', 'node-a', { app: 'web', tier: 'front' }));
    double.apply(podObject('default', 'web-2', 'node-b', { app: 'web' }));
    double.apply(podObject('kube-system', 'dns', 'node-a', { app: 'dns' }));
    double.apply(podObject('default', 'pending', undefined, { app: 'web' }));
    expect(names((await get('/api/v1/namespaces/default/pods')).body)).toEqual(['pending', 'web-1', 'web-2']);
    expect(names((await get('/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-a')).body)).toEqual(['web-1', 'dns']);
    expect(names((await get('/api/v1/pods?fieldSelector=spec.nodeName%3D')).body)).toEqual(['pending']);
    expect(names((await get('/api/v1/pods?fieldSelector=spec.nodeName!%3Dnode-a,metadata.namespace%3Ddefault')).body)).toEqual(['pending', 'web-2']);
    expect(names((await get('/api/v1/pods?labelSelector=app%3Dweb,tier')).body)).toEqual(['web-1']);
    expect(names((await get('/api/v1/pods?labelSelector=app%20in%20(dns,web),!tier')).body)).toEqual(['pending', 'web-2', 'dns']);
    expect(names((await get('/api/v1/pods?labelSelector=app%20notin%20(web)')).body)).toEqual(['dns']);
  });

  it('rejects field labels the type does not support, with the apiserver wording', async () => {
    expect((await get('/api/v1/pods?fieldSelector=spec.foo%3Dx')).body).toMatchObject({ code: 400, reason: 'BadRequest', message: 'field label not supported: spec.foo' });
    expect((await get('/apis/crd.projectcalico.org/v1/ipamblocks?fieldSelector=spec.cidr%3Dx')).body).toMatchObject({
      code: 400, message: '"spec.cidr" is not a known field selector: only "metadata.name"',
    });
  });

  it('pages with limit/continue over one consistent snapshot', async () => {
    for (const n of ['a', 'b', 'c', 'd', 'e']) double.apply(nodeObject(`node-${n}`));
    const first = (await get('/api/v1/nodes?limit=2')).body;
    const meta = first.metadata as { resourceVersion: string; continue: string; remainingItemCount: number };
    expect(names(first)).toEqual(['node-a', 'node-b']);
    expect(meta.remainingItemCount).toBe(3);
    expect(JSON.parse(Buffer.from(meta.continue, 'base64url').toString())).toEqual({ v: 'meta.k8s.io/v1', rv: Number(meta.resourceVersion), start: 'node-b\u0000' });
    // Changes after the first page do not show up in later pages of the same list.
    double.remove('Node', 'node-d');
    double.apply(nodeObject('node-f'));
    const second = (await get(`/api/v1/nodes?limit=2&continue=${meta.continue}`)).body;
    expect(names(second)).toEqual(['node-c', 'node-d']);
    const third = (await get(`/api/v1/nodes?limit=2&continue=${(second.metadata as { continue: string }).continue}`)).body;
    expect(names(third)).toEqual(['node-e']);
    expect(third.metadata).toEqual({ resourceVersion: meta.resourceVersion });
  });

  it('answers 410 Expired to a continue token older than the compaction, with a token to carry on inconsistently', async () => {
    for (const n of ['a', 'b', 'c']) double.apply(nodeObject(`node-${n}`));
    const first = (await get('/api/v1/nodes?limit=1')).body;
    double.apply(nodeObject('node-d'));
    double.compact();
    const { status, body } = await get(`/api/v1/nodes?limit=1&continue=${(first.metadata as { continue: string }).continue}`);
    expect(status).toBe(410);
    expect(body).toMatchObject({ kind: 'Status', reason: 'Expired', code: 410, message: expect.stringMatching(/^The provided continue parameter is too old/) });
    const rest = (await get(`/api/v1/nodes?continue=${(body.metadata as { continue: string }).continue}`)).body;
    expect(names(rest)).toEqual(['node-b', 'node-c', 'node-d']);
  });

  it('reads an exact past revision until it is compacted, and ignores limit for resourceVersion=0', async () => {
    double.apply(nodeObject('node-a'));
    const then = double.resourceVersion();
    double.apply(nodeObject('node-b'));
    double.remove('Node', 'node-a');
    const exact = (await get(`/api/v1/nodes?resourceVersion=${then}&resourceVersionMatch=Exact`)).body;
    expect(names(exact)).toEqual(['node-a']);
    expect(exact.metadata).toEqual({ resourceVersion: then });
    expect(names((await get(`/api/v1/nodes?resourceVersion=${then}`)).body)).toEqual(['node-b']);
    double.apply(nodeObject('node-c'));
    expect(names((await get('/api/v1/nodes?resourceVersion=0&limit=1')).body)).toEqual(['node-b', 'node-c']);
    double.compact();
    expect((await get(`/api/v1/nodes?resourceVersion=${then}&resourceVersionMatch=Exact`)).body).toMatchObject({
      code: 410, reason: 'Expired', message: 'The resourceVersion for the provided list is too old.',
    });
  });

  it('waits for a future resourceVersion, then answers 504 Too large resource version', async () => {
    const future = Number(double.resourceVersion()) + 5;
    const { status, body } = await get(`/api/v1/nodes?resourceVersion=${future}`);
    expect(status).toBe(504);
    expect(body).toMatchObject({
      reason: 'Timeout', code: 504, message: `Timeout: Too large resource version: ${future}, current: ${double.resourceVersion()}`,
      details: { causes: [{ reason: 'ResourceVersionTooLarge' }], retryAfterSeconds: 1 },
    });
  });

  it('counts requests per resource', async () => {
    await get('/api/v1/nodes');
    await get('/api/v1/nodes');
    await get('/apis/crd.projectcalico.org/v1/ipamblocks');
    const stats = double.stats();
    expect(stats.nodes).toMatchObject({ list: 2, watch: 0 });
    expect(stats['ipamblocks.crd.projectcalico.org']).toMatchObject({ list: 1 });
  });
});

describe('pause', () => {
  it("answers 503 ServiceUnavailable while paused('unavailable'), and serves again after resume()", async () => {
    await double.pause();
    const res = await fetch(`${double.url}/api/v1/nodes`, { headers: { Authorization: `Bearer ${double.token}` } });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await res.json()).toMatchObject({ kind: 'Status', reason: 'ServiceUnavailable', code: 503 });
    await double.resume();
    expect((await get('/api/v1/nodes')).status).toBe(200);
  });

  it("refuses connections while paused('refuse')", async () => {
    await double.pause('refuse');
    await expect(fetch(`${double.url}/api/v1/nodes`)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
    await double.resume();
    expect((await get('/api/v1/nodes')).status).toBe(200);
  });
});
