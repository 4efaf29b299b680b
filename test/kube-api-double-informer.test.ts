// The double driven by @kubernetes/client-node 1.4's own informer (makeInformer / ListWatch) over
// real HTTP: proof that the double speaks the protocol client-node expects, and a record of how
// that informer behaves on clean ends, bookmarks, 410s and broken connections (see server.ts).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CoreV1Api, CustomObjectsApi, ListWatch, Watch, makeInformer } from '@kubernetes/client-node';
import type { KubeConfig, KubernetesListObject, KubernetesObject, V1Node, V1Pod } from '@kubernetes/client-node';
import { startKubeApiDouble } from './support/kube-api-double/index.js';
import type { KubeApiDouble } from './support/kube-api-double/index.js';
import { kubeConfigFor, recordInformer } from './support/kube-api-double/index.js';
import { ipPoolObject, ipamBlockObject, nodeObject, podObject } from './support/kube-api-double/sample-objects.js';

let double: KubeApiDouble;
let kc: KubeConfig;
let core: CoreV1Api;
const informers: ListWatch<KubernetesObject>[] = [];

beforeEach(async () => {
  double = await startKubeApiDouble({ bookmarkIntervalMs: 40 });
  kc = kubeConfigFor(double);
  core = kc.makeApiClient(CoreV1Api);
});
afterEach(async () => {
  for (const informer of informers.splice(0)) await informer.stop();
  await double.close();
});

/** makeInformer's result is a ListWatch; keep the type so latestResourceVersion() is reachable. */
function nodeInformer(path = '/api/v1/nodes'): ListWatch<V1Node> {
  const informer = makeInformer<V1Node>(kc, path, () => core.listNode()) as ListWatch<V1Node>;
  informers.push(informer as ListWatch<KubernetesObject>);
  return informer;
}

const names = (objs: readonly KubernetesObject[]) => objs.map((o) => o.metadata?.name).sort();
const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('client-node 1.4 informer against the double', () => {
  it('lists, then receives add, update and delete events from the watch', async () => {
    double.apply(nodeObject('node-a'));
    double.apply(nodeObject('node-b'));
    const informer = nodeInformer();
    const { log, errors } = recordInformer(informer);
    await informer.start();
    expect(names(informer.list())).toEqual(['node-a', 'node-b']);
    expect(informer.latestResourceVersion()).toBe(double.resourceVersion());

    double.apply(nodeObject('node-c'));
    double.apply(nodeObject('node-a', { 'projectcalico.org/IPv4Address': '192.168.1.10/24' }));
    double.remove('Node', 'node-b');
    await expect.poll(() => log).toEqual(['connect', 'add node-a', 'add node-b', 'add node-c', 'update node-a', 'delete node-b']);
    expect(informer.get('node-a')?.metadata?.annotations).toEqual({ 'projectcalico.org/IPv4Address': '192.168.1.10/24' });
    expect(informer.latestResourceVersion()).toBe(double.resourceVersion());
    expect(double.stats().nodes).toMatchObject({ list: 1, watch: 1, openWatches: 1 });
    expect(errors).toEqual([]);
  });

  it('caches deserialised objects from the list but raw JSON from watch events', async () => {
    double.apply(nodeObject('listed'));
    const informer = nodeInformer();
    await informer.start();
    double.apply(nodeObject('watched'));
    await expect.poll(() => informer.get('watched')).toBeDefined();
    expect(informer.get('listed')?.metadata?.creationTimestamp).toBeInstanceOf(Date);
    expect(typeof informer.get('watched')?.metadata?.creationTimestamp).toBe('string');
  });

  it('informs on Calico custom resources listed through CustomObjectsApi', async () => {
    const custom = kc.makeApiClient(CustomObjectsApi);
    double.apply(ipamBlockObject('10.244.205.192/26', 'node-a'));
    const list = () => custom.listClusterCustomObject({ group: 'crd.projectcalico.org', version: 'v1', plural: 'ipamblocks' }) as Promise<KubernetesListObject<KubernetesObject>>;
    const informer = makeInformer(kc, '/apis/crd.projectcalico.org/v1/ipamblocks', list) as ListWatch<KubernetesObject>;
    informers.push(informer);
    const { log } = recordInformer(informer);
    await informer.start();
    double.apply(ipamBlockObject('10.244.120.64/26', 'node-b'));
    await expect.poll(() => log).toEqual(['connect', 'add 10-244-205-192-26', 'add 10-244-120-64-26']);
    expect(informer.get('10-244-205-192-26')).toMatchObject({ kind: 'IPAMBlock', apiVersion: 'crd.projectcalico.org/v1', spec: { affinity: 'host:node-a' } });
  });

  it('follows only one node\'s pods through a ListWatch with a spec.nodeName field selector', async () => {
    const selector = 'spec.nodeName=node-a';
    double.apply(podObject('default', 'here', 'node-a'));
    double.apply(podObject('default', 'there', 'node-b'));
    const informer = new ListWatch<V1Pod>('/api/v1/pods', new Watch(kc), () => core.listPodForAllNamespaces({ fieldSelector: selector }), false, undefined, selector);
    informers.push(informer as ListWatch<KubernetesObject>);
    const { log } = recordInformer(informer);
    await informer.start();
    double.apply(podObject('kube-system', 'other', 'node-b'));
    double.apply(podObject('kube-system', 'coredns', 'node-a'));
    double.remove('Pod', 'here', 'default');
    await expect.poll(() => log).toEqual(['connect', 'add default/here', 'add kube-system/coredns', 'delete default/here']);
    expect(names(informer.list())).toEqual(['coredns']);
    expect(informer.list('kube-system').map((p) => p.spec?.nodeName)).toEqual(['node-a']);
  });

  it('advances its resourceVersion on BOOKMARKs when the path asks for them', async () => {
    const informer = nodeInformer('/api/v1/nodes?allowWatchBookmarks=true');
    const { log } = recordInformer(informer);
    await informer.start();
    const before = informer.latestResourceVersion();
    double.apply(ipPoolObject('default-ipv4-ippool', '10.244.0.0/16')); // moves the global revision only
    await expect.poll(() => informer.latestResourceVersion()).toBe(double.resourceVersion());
    expect(Number(informer.latestResourceVersion())).toBeGreaterThan(Number(before));
    expect(log).toEqual(['connect']);
  });

  it('re-watches from its last resourceVersion, without relisting, when a watch ends cleanly', async () => {
    double.apply(nodeObject('node-a'));
    const informer = nodeInformer('/api/v1/nodes?timeoutSeconds=1');
    const { log, errors } = recordInformer(informer);
    await informer.start();
    await expect.poll(() => double.stats().nodes?.watch, { timeout: 3000 }).toBe(2);
    double.apply(nodeObject('node-b'));
    await expect.poll(() => log).toEqual(['connect', 'add node-a', 'connect', 'add node-b']);
    expect(double.stats().nodes?.list).toBe(1);
    expect(errors).toEqual([]);
  });

  it('relists by itself after a clean end when compaction overtook a quiet resource (no bookmarks)', async () => {
    double.apply(nodeObject('node-a'));
    const informer = nodeInformer('/api/v1/nodes?timeoutSeconds=1');
    const { log, errors } = recordInformer(informer);
    await informer.start();
    double.apply(ipPoolObject('default-ipv4-ippool', '10.244.0.0/16'));
    double.compact(); // the informer's resourceVersion is now older than the compaction
    await expect.poll(() => double.stats().nodes?.list, { timeout: 3000 }).toBe(2);
    expect(log).toEqual(['connect', 'add node-a', 'connect', 'connect']); // 410 → relist: nothing changed
    expect(errors).toEqual([]);
  });

  it('does not need that relist when bookmarks kept its resourceVersion fresh', async () => {
    double.apply(nodeObject('node-a'));
    const informer = nodeInformer('/api/v1/nodes?timeoutSeconds=1&allowWatchBookmarks=true');
    await informer.start();
    double.apply(ipPoolObject('default-ipv4-ippool', '10.244.0.0/16'));
    await expect.poll(() => informer.latestResourceVersion()).toBe(double.resourceVersion());
    double.compact();
    await expect.poll(() => double.stats().nodes?.watch, { timeout: 3000 }).toBe(2);
    expect(double.stats().nodes?.list).toBe(1);
  });

  it('stops with a "Premature close" error when the connection drops, and resumes from history on start()', async () => {
    double.apply(nodeObject('node-a'));
    double.apply(nodeObject('node-b'));
    const informer = nodeInformer();
    const { log, errors } = recordInformer(informer);
    await informer.start();
    double.dropConnections();
    await expect.poll(() => errors.length).toBe(1);
    expect(errors[0]).toMatchObject({ message: 'Premature close', code: 'ERR_STREAM_PREMATURE_CLOSE' });
    double.remove('Node', 'node-b');
    double.apply(nodeObject('node-c'));
    await settle(200);
    expect(double.stats().nodes).toMatchObject({ list: 1, watch: 1 }); // it did not come back on its own
    expect(names(informer.list())).toEqual(['node-a', 'node-b']);

    await informer.start(); // what the caller has to do; it keeps its resourceVersion
    await expect.poll(() => names(informer.list())).toEqual(['node-a', 'node-c']);
    expect(log.slice(-3)).toEqual(['connect', 'delete node-b', 'add node-c']);
    expect(double.stats().nodes).toMatchObject({ list: 1, watch: 2 });
  });

  it('relists after a dropped connection plus compaction: 410, then deletes what vanished meanwhile', async () => {
    for (const n of ['node-a', 'node-b', 'node-c']) double.apply(nodeObject(n));
    const informer = nodeInformer();
    const { log, errors } = recordInformer(informer);
    await informer.start();
    double.dropConnections();
    await expect.poll(() => errors.length).toBe(1);
    double.remove('Node', 'node-b');
    double.apply(nodeObject('node-c', { changed: 'yes' }));
    double.apply(nodeObject('node-d'));
    double.compact();

    await informer.start();
    await expect.poll(() => double.stats().nodes?.list).toBe(2);
    await expect.poll(() => names(informer.list())).toEqual(['node-a', 'node-c', 'node-d']);
    // connect → watch from the old RV → ERROR 410 → stream ends → connect → relist, diffed against the cache
    expect(log.slice(log.lastIndexOf('error') + 1)).toEqual(['connect', 'connect', 'delete node-b', 'update node-c', 'add node-d']);
    expect(informer.get('node-c')?.metadata?.annotations).toEqual({ changed: 'yes' });
    expect(informer.latestResourceVersion()).toBe(double.resourceVersion());
    expect(errors).toHaveLength(1);
  });

  it('reports a failed list as an ApiException with .code, resolves start(), and stays stopped', async () => {
    const informer = nodeInformer();
    const { log, errors } = recordInformer(informer);
    await double.pause('unavailable');
    await expect(informer.start()).resolves.toBeUndefined();
    expect(log).toEqual(['connect', 'error']);
    // For status codes the OpenAPI spec does not declare, ApiException.body is the raw JSON text.
    expect(errors[0]).toMatchObject({ code: 503, message: expect.stringContaining('Unknown API Status Code') });
    expect(JSON.parse((errors[0] as { body: string }).body)).toMatchObject({ kind: 'Status', reason: 'ServiceUnavailable', code: 503 });
    await double.resume();
    await settle(100);
    expect(double.stats().nodes?.list).toBe(0);
    await informer.start();
    expect(double.stats().nodes).toMatchObject({ list: 1, watch: 1 });
  });

  it('reports a non-200 answer to its watch as an error with .statusCode and stays stopped', async () => {
    // The list function ignores the bogus selector, so only the watch request fails (400 BadRequest).
    const informer = nodeInformer('/api/v1/nodes?fieldSelector=spec.bogus%3Dx');
    const { log, errors } = recordInformer(informer);
    await informer.start();
    await expect.poll(() => errors.length).toBe(1);
    expect(errors[0]).toMatchObject({ statusCode: 400, message: 'Bad Request' });
    await settle(200);
    expect(log).toEqual(['connect', 'error']);
    expect(double.stats().nodes).toMatchObject({ list: 1, watch: 1 });
  });

  it('reports a refused connection as an error and stays stopped', async () => {
    const informer = nodeInformer();
    const { errors } = recordInformer(informer);
    await double.pause('refuse');
    await informer.start();
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toMatch(/ECONNREFUSED/);
    await double.resume();
    await informer.start();
    expect(double.stats().nodes).toMatchObject({ list: 1, watch: 1 });
  });

  it("reports its own stop() to 'error' handlers as an AbortError", async () => {
    const informer = nodeInformer();
    const { errors } = recordInformer(informer);
    await informer.start();
    await informer.stop();
    await expect.poll(() => errors.length).toBe(1);
    expect(errors[0]).toMatchObject({ name: 'AbortError', type: 'aborted' });
  });
});
