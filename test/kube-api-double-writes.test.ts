// Writes through client-node 1.4's generated API clients (and raw HTTP where the client cannot
// express the request): create/AlreadyExists, optimistic concurrency, the three patch types,
// DELETE preconditions, graceful pod deletion and finalizers.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiException, CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { V1Node } from '@kubernetes/client-node';
import { startKubeApiDouble } from './support/kube-api-double/index.js';
import type { KubeApiDouble, KubeObject, StatusObject } from './support/kube-api-double/index.js';
import { kubeConfigFor } from './support/kube-api-double/index.js';
import { openWatch } from './support/kube-api-double/watch-client.js';
import { ipPoolObject, ipamBlockObject, nodeObject, podObject } from './support/kube-api-double/sample-objects.js';

let double: KubeApiDouble;
let core: CoreV1Api;
let custom: CustomObjectsApi;
const calico = { group: 'crd.projectcalico.org', version: 'v1' } as const;

beforeEach(async () => {
  double = await startKubeApiDouble();
  const kc = kubeConfigFor(double);
  core = kc.makeApiClient(CoreV1Api);
  custom = kc.makeApiClient(CustomObjectsApi);
});
afterEach(async () => {
  await double.close();
});

/** The Status an ApiException carries (client-node leaves undeclared error bodies as JSON text). */
async function statusOf(call: Promise<unknown>): Promise<StatusObject> {
  try {
    await call;
  } catch (err) {
    if (!(err instanceof ApiException)) throw err;
    const body: unknown = err.body;
    return (typeof body === 'string' ? JSON.parse(body) : body) as StatusObject;
  }
  throw new Error('expected the request to fail');
}

async function raw(method: string, path: string, body?: unknown, contentType = 'application/json') {
  const res = await fetch(`${double.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${double.token}`, 'Content-Type': contentType },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as KubeObject & StatusObject };
}

describe('create', () => {
  it('creates custom resources with server-owned metadata, and answers AlreadyExists the second time', async () => {
    const block = ipamBlockObject('10.244.205.192/26', 'node-a');
    const created = (await custom.createClusterCustomObject({ ...calico, plural: 'ipamblocks', body: block })) as KubeObject;
    expect(created.metadata).toMatchObject({ name: '10-244-205-192-26', generation: 1, resourceVersion: double.resourceVersion() });
    expect(created.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    const status = await statusOf(custom.createClusterCustomObject({ ...calico, plural: 'ipamblocks', body: block }));
    expect(status).toEqual({
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: 409, reason: 'AlreadyExists',
      message: 'ipamblocks.crd.projectcalico.org "10-244-205-192-26" already exists',
      details: { name: '10-244-205-192-26', group: 'crd.projectcalico.org', kind: 'ipamblocks' },
    });
  });

  it('refuses a create that carries a resourceVersion, a bad name, or a custom resource without kind', async () => {
    const stale = { ...ipPoolObject('p', '10.0.0.0/16'), metadata: { name: 'p', resourceVersion: '5' } };
    expect((await raw('POST', '/apis/crd.projectcalico.org/v1/ippools', stale)).body).toMatchObject({ code: 500, reason: 'InternalError', message: 'Internal error occurred: resourceVersion should not be set on objects to be created' });
    expect((await raw('POST', '/apis/crd.projectcalico.org/v1/ippools', ipPoolObject('Bad_Name', '10.0.0.0/16'))).body).toMatchObject({ code: 422, reason: 'Invalid', details: { causes: [{ field: 'metadata.name' }] } });
    const { kind: _kind, ...kindless } = ipPoolObject('p', '10.0.0.0/16');
    expect((await raw('POST', '/apis/crd.projectcalico.org/v1/ippools', kindless)).body).toMatchObject({ code: 400, reason: 'BadRequest', message: expect.stringMatching(/^Object 'Kind' is missing/) });
  });

  it('resets a created pod\'s status, fills generateName, and needs a namespace in the path', async () => {
    const pod = { ...podObject('default', '', 'node-a'), metadata: { generateName: 'web-' } };
    const { status, body } = await raw('POST', '/api/v1/namespaces/default/pods', pod);
    expect(status).toBe(201);
    expect(body.metadata.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(body.status).toEqual({ phase: 'Pending' });
    expect((await raw('POST', '/api/v1/pods', pod)).body).toMatchObject({ code: 405, reason: 'MethodNotAllowed' });
  });
});

describe('update (PUT)', () => {
  it('answers 409 Conflict to a stale resourceVersion and accepts the current one', async () => {
    const created = double.apply(ipamBlockObject('10.244.205.192/26', 'node-a'));
    const stale = structuredClone(created);
    double.apply({ ...created, spec: { ...(created.spec as object), sequenceNumber: 1 } });
    const status = await statusOf(custom.replaceClusterCustomObject({ ...calico, plural: 'ipamblocks', name: '10-244-205-192-26', body: stale }));
    expect(status).toMatchObject({
      code: 409, reason: 'Conflict',
      message: 'Operation cannot be fulfilled on ipamblocks.crd.projectcalico.org "10-244-205-192-26": the object has been modified; please apply your changes to the latest version and try again',
    });
    const fresh = double.get('IPAMBlock', '10-244-205-192-26');
    if (fresh === undefined) throw new Error('block missing');
    fresh.spec = { ...(fresh.spec as object), sequenceNumber: 2 };
    const replaced = (await custom.replaceClusterCustomObject({ ...calico, plural: 'ipamblocks', name: '10-244-205-192-26', body: fresh })) as KubeObject;
    expect(Number(replaced.metadata.resourceVersion)).toBeGreaterThan(Number(fresh.metadata.resourceVersion));
    expect(replaced.metadata.generation).toBe(3);
  });

  it('requires a resourceVersion for custom resources but not for nodes', async () => {
    const pool = double.apply(ipPoolObject('default-ipv4-ippool', '10.244.0.0/16'));
    delete pool.metadata.resourceVersion;
    expect((await raw('PUT', '/apis/crd.projectcalico.org/v1/ippools/default-ipv4-ippool', pool)).body).toMatchObject({
      code: 422, reason: 'Invalid', message: 'IPPool "default-ipv4-ippool" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update',
    });
    double.apply(nodeObject('node-a'));
    const node = (await core.readNode({ name: 'node-a' })) as V1Node;
    delete node.metadata?.resourceVersion;
    node.metadata = { ...node.metadata, labels: { role: 'worker' } };
    const replaced = await core.replaceNode({ name: 'node-a', body: node });
    expect(replaced.metadata?.labels).toEqual({ role: 'worker' });
  });

  it('ignores status on the main resource and everything else on /status', async () => {
    const node = double.apply(nodeObject('node-a'));
    const put = await raw('PUT', '/api/v1/nodes/node-a', { ...node, status: { phase: 'Hacked' }, spec: { podCIDR: '10.0.0.0/24' } });
    expect(put.body.status).toEqual(node.status);
    expect(put.body.spec).toEqual({ podCIDR: '10.0.0.0/24' });
    const statusPut = await raw('PUT', '/api/v1/nodes/node-a/status', { ...put.body, status: { capacity: { pods: '110' } }, spec: {} });
    expect(statusPut.body.status).toEqual({ capacity: { pods: '110' } });
    expect(statusPut.body.spec).toEqual({ podCIDR: '10.0.0.0/24' });
  });

  it('writes nothing for an update that changes nothing', async () => {
    const node = double.apply(nodeObject('node-a'));
    const watch = await openWatch(`${double.url}/api/v1/nodes?watch=true&resourceVersion=${double.resourceVersion()}`, double.token);
    const put = await raw('PUT', '/api/v1/nodes/node-a', node);
    expect(put.body.metadata.resourceVersion).toBe(node.metadata.resourceVersion);
    expect(double.resourceVersion()).toBe(node.metadata.resourceVersion);
    await expect(watch.next(150)).rejects.toThrow(/no watch event/);
    watch.close();
  });

  it('does not persist dryRun=All writes', async () => {
    const node = double.apply(nodeObject('node-a'));
    const put = await raw('PUT', '/api/v1/nodes/node-a?dryRun=All', { ...node, metadata: { ...node.metadata, labels: { x: 'y' } } });
    expect(put.body.metadata.labels).toEqual({ x: 'y' });
    expect(double.get('Node', 'node-a')?.metadata.labels).toEqual(node.metadata.labels);
  });
});

describe('patch', () => {
  const tunnelAddr = 'projectcalico.org/IPv4IPIPTunnelAddr';

  it('applies client-node\'s default JSON patch to node annotations', async () => {
    double.apply(nodeObject('node-a', { 'projectcalico.org/IPv4Address': '192.168.1.10/24' }));
    const patched = await core.patchNode({ name: 'node-a', body: [{ op: 'add', path: `/metadata/annotations/${tunnelAddr.replace('/', '~1')}`, value: '10.244.205.192' }] });
    expect(patched.metadata?.annotations).toEqual({ 'projectcalico.org/IPv4Address': '192.168.1.10/24', [tunnelAddr]: '10.244.205.192' });
  });

  it('answers 422 when a JSON patch test fails, as the apiserver does', async () => {
    double.apply(nodeObject('node-a'));
    const status = await statusOf(core.patchNode({ name: 'node-a', body: [{ op: 'test', path: '/metadata/resourceVersion', value: '1' }] }));
    expect(status).toMatchObject({ code: 422, reason: 'Invalid', message: 'the server rejected our request due to an error in our request' });
  });

  it('merges annotations with a merge patch, deleting with null, and treats a resourceVersion in it as a precondition', async () => {
    double.apply(nodeObject('node-a', { keep: 'me', drop: 'me' }));
    const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    const patched = await core.patchNode({ name: 'node-a', body: { metadata: { annotations: { [tunnelAddr]: '10.244.205.192', drop: null } } } }, merge);
    expect(patched.metadata?.annotations).toEqual({ keep: 'me', [tunnelAddr]: '10.244.205.192' });
    const status = await statusOf(core.patchNode({ name: 'node-a', body: { metadata: { resourceVersion: '2', annotations: { late: 'x' } } } }, merge));
    expect(status).toMatchObject({ code: 409, reason: 'Conflict' });
  });

  it('merges lists by key with a strategic merge patch on built-ins, and refuses it (415) on custom resources', async () => {
    double.apply(nodeObject('node-a'));
    const smp = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
    const patched = await core.patchNodeStatus({ name: 'node-a', body: { status: { addresses: [{ type: 'Hostname', address: 'node-a' }] } } }, smp);
    expect(patched.status?.addresses).toEqual([{ type: 'InternalIP', address: '192.0.2.1' }, { type: 'Hostname', address: 'node-a' }]);
    double.apply(ipPoolObject('default-ipv4-ippool', '10.244.0.0/16'));
    const status = await statusOf(custom.patchClusterCustomObject({ ...calico, plural: 'ippools', name: 'default-ipv4-ippool', body: { spec: { disabled: true } } }, smp));
    expect(status).toMatchObject({ code: 415, reason: 'UnsupportedMediaType' });
  });
});

describe('delete', () => {
  it('honours uid and resourceVersion preconditions, then answers a Success Status, then 404', async () => {
    const block = double.apply(ipamBlockObject('10.244.205.192/26', 'node-a'));
    const name = '10-244-205-192-26';
    const wrongUid = await statusOf(custom.deleteClusterCustomObject({ ...calico, plural: 'ipamblocks', name, body: { preconditions: { uid: 'not-it' } } }));
    expect(wrongUid).toMatchObject({ code: 409, reason: 'Conflict', message: `Operation cannot be fulfilled on ipamblocks.crd.projectcalico.org "${name}": Precondition failed: UID in precondition: not-it, UID in object meta: ${block.metadata.uid}` });
    const wrongRv = await statusOf(custom.deleteClusterCustomObject({ ...calico, plural: 'ipamblocks', name, body: { preconditions: { resourceVersion: '1' } } }));
    expect(wrongRv).toMatchObject({ code: 409, reason: 'Conflict' });
    const done = await custom.deleteClusterCustomObject({ ...calico, plural: 'ipamblocks', name, body: { preconditions: { uid: block.metadata.uid } } });
    expect(done).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, group: 'crd.projectcalico.org', kind: 'ipamblocks', uid: block.metadata.uid } });
    expect(await statusOf(custom.deleteClusterCustomObject({ ...calico, plural: 'ipamblocks', name }))).toMatchObject({ code: 404, reason: 'NotFound' });
  });

  it('deletes a scheduled pod gracefully: deletionTimestamp first, gone only with grace period 0', async () => {
    double.apply(podObject('default', 'web', 'node-a'));
    const watch = await openWatch(`${double.url}/api/v1/pods?watch=true&resourceVersion=${double.resourceVersion()}`, double.token);
    const terminating = await core.deleteNamespacedPod({ name: 'web', namespace: 'default' });
    expect(terminating.metadata?.deletionGracePeriodSeconds).toBe(30);
    expect(terminating.metadata?.deletionTimestamp).toBeInstanceOf(Date);
    expect(await watch.next()).toMatchObject({ type: 'MODIFIED', object: { metadata: { deletionGracePeriodSeconds: 30 } } });
    await core.deleteNamespacedPod({ name: 'web', namespace: 'default', gracePeriodSeconds: 0 });
    expect(await watch.next()).toMatchObject({ type: 'DELETED', object: { metadata: { name: 'web' } } });
    expect(double.get('Pod', 'web', 'default')).toBeUndefined();
    watch.close();
  });

  it('keeps an object with finalizers until an update removes the last one', async () => {
    const pool = double.apply({ ...ipPoolObject('p', '10.0.0.0/16'), metadata: { name: 'p', finalizers: ['example.com/hold'] } });
    const marked = (await raw('DELETE', '/apis/crd.projectcalico.org/v1/ippools/p')).body;
    expect(marked.metadata).toMatchObject({ deletionGracePeriodSeconds: 0, finalizers: ['example.com/hold'] });
    expect(marked.metadata.deletionTimestamp).toBeDefined();
    const released = await raw('PUT', '/apis/crd.projectcalico.org/v1/ippools/p', { ...marked, metadata: { ...marked.metadata, finalizers: [] } });
    expect(released.status).toBe(200);
    expect(double.get('IPPool', 'p')).toBeUndefined();
    expect(pool.metadata.uid).toBe(released.body.metadata.uid);
  });
});
