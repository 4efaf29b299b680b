// KubernetesSource against the kube-api-double, only where a real API server cannot answer:
// injected faults (connections torn mid-watch and resumed from the double's history, a server
// refusing every connection for a while, measured restart backoff) and the double's own count of
// open watches after close(). Everything a real server can show (list and watch of every kind,
// the field selector, heartbeats, 410 Gone and relist, a restart) is tested against one in
// kube-apiserver-source.test.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeClient } from '../calico/kubernetes/kubernetes-client.js';
import { KubernetesSource } from '../agent/datastore/kubernetes-source.js';
import { kubeConfigFor, startKubeApiDouble, type KubeApiDouble, type KubeObject } from './support/kube-api-double/index.js';
import { CLUSTER, RESOURCES, startSource } from './fixtures/kdd-cluster.js';
import { rawPool } from './fixtures/raw-objects.js';

type Json = Record<string, unknown>;

let double: KubeApiDouble;
let sources: KubernetesSource[];
let put: (object: Json) => void;

beforeEach(async () => {
  double = await startKubeApiDouble({ bookmarkIntervalMs: 50 });
  put = (object) => void double.apply(structuredClone(object) as unknown as KubeObject);
  sources = [];
});
afterEach(async () => {
  for (const source of sources) await source.close();
  await double.close();
});

function started(client = new KubeClient(kubeConfigFor(double))) {
  const result = startSource(client);
  sources.push(result.source);
  return result;
}

const openWatches = () => RESOURCES.map((r) => double.stats()[r]?.openWatches ?? 0);

/** A source over CLUSTER that has listed everything and has all its watches open. */
async function synced() {
  CLUSTER.forEach(put);
  const result = started();
  await expect.poll(() => result.source.inSync()).toBe(true);
  await expect.poll(openWatches).toEqual(RESOURCES.map(() => 1));
  return result;
}

const listsOf = (resource: string) => double.stats()[resource]?.list ?? 0;

/** Stops listening and tears down open connections (pausing alone waits for them to end). */
async function refuseConnections(): Promise<void> {
  const paused = double.pause('refuse');
  double.dropConnections();
  await paused;
}

describe('KubernetesSource: recovery', () => {
  it('restarts informers with backoff after dropped connections and catches up on what happened meanwhile', async () => {
    const { source, lines } = await synced();
    double.dropConnections();
    put(rawPool({ cidr: '10.245.0.0/16' }, 'added-while-down'));
    double.remove('IPAMBlock', '10-244-151-0-26');
    await expect.poll(() => source.snapshot().pools.map((p) => p.name)).toContain('added-while-down');
    await expect.poll(() => source.snapshot().blocks.map((b) => b.cidr)).not.toContain('10.244.151.0/26');
    expect(source.restarts).toBeGreaterThanOrEqual(RESOURCES.length);
    expect(lines.filter((l) => l.msg === 'informer stopped; restarting').map((l) => l.retryInMs)).toContain(20);
    // The history still held the events: each informer resumed its watch without relisting.
    for (const resource of RESOURCES) expect(listsOf(resource)).toBe(1);
    await expect.poll(openWatches).toEqual(RESOURCES.map(() => 1));
  });

  it('keeps retrying, backing off, while the server refuses connections, and recovers once it is back', async () => {
    const { source, lines } = await synced();
    await refuseConnections();
    await new Promise((resolve) => setTimeout(resolve, 700));
    const delays = lines.filter((l) => l.msg === 'informer stopped; restarting' && l.resource === 'ippools.crd.projectcalico.org').map((l) => l.retryInMs);
    expect(delays.slice(0, 4)).toEqual([20, 40, 80, 160]);
    expect(delays.length).toBeGreaterThan(4);
    put(rawPool({ cidr: '10.245.0.0/16' }, 'added-while-refused'));
    await double.resume();
    await expect.poll(() => source.snapshot().pools.length, { timeout: 3000 }).toBe(2);
    await expect.poll(openWatches).toEqual(RESOURCES.map(() => 1));
    // Serving again resets the backoff: the next failure is retried at the initial delay.
    const seen = lines.length;
    double.dropConnections();
    await expect.poll(() => lines.slice(seen).find((l) => l.resource === 'ippools.crd.projectcalico.org')?.retryInMs).toBe(20);
  });

  it('closes every watch on close() and does not come back', async () => {
    const { source } = await synced();
    await source.close();
    await expect.poll(openWatches).toEqual(RESOURCES.map(() => 0));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(RESOURCES.map((r) => double.stats()[r]?.watch)).toEqual(RESOURCES.map(() => 1));
  });
});
