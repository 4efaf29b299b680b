// The double's watch stream, checked with plain HTTP (no client-node): events after a
// resourceVersion, synthetic ADDED events, 410 Expired, bookmarks, timeouts, selectors on
// events, initial events and dropped connections.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startKubeApiDouble } from './support/kube-api-double/index.js';
import type { KubeApiDouble, StatusObject } from './support/kube-api-double/index.js';
import { openWatch } from './support/kube-api-double/watch-client.js';
import { ipamBlockObject, nodeObject, podObject } from './support/kube-api-double/sample-objects.js';

let double: KubeApiDouble;

beforeEach(async () => {
  double = await startKubeApiDouble({ bookmarkIntervalMs: 40 });
});
afterEach(async () => {
  await double.close();
});

const watchUrl = (path: string) => `${double.url}${path}${path.includes('?') ? '&' : '?'}watch=true`;

describe('WATCH', () => {
  it('streams every change after the requested resourceVersion, with kind/apiVersion on each object', async () => {
    double.apply(nodeObject('node-a'));
    const from = double.resourceVersion();
    double.apply(nodeObject('node-b'));
    double.apply(nodeObject('node-a', { 'projectcalico.org/IPv4Address': '192.168.1.10/24' }));
    const watch = await openWatch(watchUrl(`/api/v1/nodes?resourceVersion=${from}`), double.token);
    expect(watch.status).toBe(200);
    expect(watch.headers['content-type']).toBe('application/json');
    expect(watch.headers['transfer-encoding']).toBe('chunked');
    expect(await watch.next()).toMatchObject({ type: 'ADDED', object: { kind: 'Node', apiVersion: 'v1', metadata: { name: 'node-b' } } });
    expect(await watch.next()).toMatchObject({ type: 'MODIFIED', object: { metadata: { name: 'node-a', annotations: { 'projectcalico.org/IPv4Address': '192.168.1.10/24' } } } });
    const removed = double.remove('Node', 'node-b');
    const deleted = await watch.next();
    expect(deleted).toMatchObject({ type: 'DELETED', object: { metadata: { name: 'node-b', resourceVersion: double.resourceVersion() } } });
    expect(removed?.metadata.resourceVersion).toBe(double.resourceVersion());
    expect(double.stats().nodes).toMatchObject({ watch: 1, openWatches: 1 });
    watch.close();
  });

  it('starts with synthetic ADDED events for the current state when no resourceVersion is given', async () => {
    double.apply(nodeObject('node-a'));
    double.apply(nodeObject('node-b'));
    const watch = await openWatch(watchUrl('/api/v1/nodes'), double.token);
    expect((await watch.next()).type).toBe('ADDED');
    expect((await watch.next()).type).toBe('ADDED');
    double.apply(nodeObject('node-c'));
    expect(await watch.next()).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'node-c' } } });
    watch.close();
  });

  it('sends one ERROR event with a 410 Expired Status and ends the stream when the resourceVersion is compacted', async () => {
    double.apply(nodeObject('node-a'));
    const old = double.resourceVersion();
    double.apply(nodeObject('node-b'));
    double.compact();
    const watch = await openWatch(watchUrl(`/api/v1/nodes?resourceVersion=${old}`), double.token);
    expect(watch.status).toBe(200);
    const error = await watch.next();
    expect(error).toEqual({
      type: 'ERROR',
      object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `too old resource version: ${old} (${double.resourceVersion()})`, reason: 'Expired', code: 410 },
    });
    await expect(watch.ended).resolves.toBeUndefined();
  });

  it('compacts on its own once the bounded history overflows', async () => {
    await double.close();
    double = await startKubeApiDouble({ historyLimit: 2 });
    double.apply(nodeObject('node-a'));
    const old = double.resourceVersion();
    for (const n of ['b', 'c', 'd']) double.apply(nodeObject(`node-${n}`));
    const watch = await openWatch(watchUrl(`/api/v1/nodes?resourceVersion=${old}`), double.token);
    expect(((await watch.next()).object as StatusObject).code).toBe(410);
    const recent = await openWatch(watchUrl(`/api/v1/nodes?resourceVersion=${Number(double.resourceVersion()) - 2}`), double.token);
    expect((await recent.next()).object.metadata).toMatchObject({ name: 'node-c' });
    recent.close();
  });

  it('sends BOOKMARKs with only kind, apiVersion and the latest resourceVersion, when allowed', async () => {
    const start = double.resourceVersion();
    const watch = await openWatch(watchUrl(`/api/v1/nodes?resourceVersion=${start}&allowWatchBookmarks=true`), double.token);
    double.apply(ipamBlockObject('10.244.0.0/26', 'node-a')); // another resource moves the revision on
    const bookmark = await watch.next();
    expect(bookmark).toEqual({ type: 'BOOKMARK', object: { kind: 'Node', apiVersion: 'v1', metadata: { resourceVersion: double.resourceVersion() } } });
    watch.close();
    const plain = await openWatch(watchUrl(`/api/v1/nodes?resourceVersion=${start}`), double.token);
    await expect(plain.next(200)).rejects.toThrow(/no watch event/);
    plain.close();
  });

  it('ends the stream cleanly after timeoutSeconds', async () => {
    const watch = await openWatch(watchUrl('/api/v1/nodes?timeoutSeconds=1'), double.token);
    const began = Date.now();
    await watch.ended;
    expect(Date.now() - began).toBeGreaterThanOrEqual(900);
    await expect.poll(() => double.stats().nodes?.openWatches).toBe(0);
  });

  it('applies selectors to events: leaving the selection is DELETED, entering it is ADDED', async () => {
    double.apply(podObject('default', 'web', 'node-a', { app: 'web' }));
    const watch = await openWatch(watchUrl(`/api/v1/pods?resourceVersion=${double.resourceVersion()}&labelSelector=app%3Dweb`), double.token);
    double.apply(podObject('default', 'web', 'node-a', { app: 'other' }));
    const left = await watch.next();
    expect(left).toMatchObject({ type: 'DELETED', object: { metadata: { labels: { app: 'web' }, resourceVersion: double.resourceVersion() } } });
    double.apply(podObject('default', 'db', 'node-a', { app: 'db' }));
    double.apply(podObject('default', 'web', 'node-a', { app: 'web' }));
    expect(await watch.next()).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'web', labels: { app: 'web' } } } });
    watch.close();
  });

  it('watches pods of one node through the spec.nodeName field selector', async () => {
    const watch = await openWatch(watchUrl('/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-a'), double.token);
    double.apply(podObject('default', 'elsewhere', 'node-b'));
    double.apply(podObject('default', 'unscheduled', undefined));
    double.apply(podObject('default', 'unscheduled', 'node-a')); // the scheduler binds it here
    expect(await watch.next()).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'unscheduled' }, spec: { nodeName: 'node-a' } } });
    double.remove('Pod', 'unscheduled', 'default');
    expect(await watch.next()).toMatchObject({ type: 'DELETED', object: { metadata: { name: 'unscheduled' } } });
    watch.close();
  });

  it('streams initial events then an initial-events-end bookmark for sendInitialEvents', async () => {
    double.apply(nodeObject('node-a'));
    const watch = await openWatch(watchUrl('/api/v1/nodes?sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true'), double.token);
    expect(await watch.next()).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'node-a' } } });
    expect(await watch.next()).toEqual({
      type: 'BOOKMARK',
      object: { kind: 'Node', apiVersion: 'v1', metadata: { resourceVersion: double.resourceVersion(), annotations: { 'k8s.io/initial-events-end': 'true' } } },
    });
    watch.close();
  });

  it('breaks every watch connection on dropConnections()', async () => {
    const watch = await openWatch(watchUrl('/api/v1/nodes'), double.token);
    double.dropConnections();
    await expect(watch.ended).rejects.toThrow();
    await expect.poll(() => double.stats().nodes?.openWatches).toBe(0);
  });
});
