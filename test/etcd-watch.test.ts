// The resilient prefix watch against a real etcd: order, kill -9 and restart (nothing lost,
// nothing twice), writes made while the watch is away, compaction past its revision, and close().
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { ClientClosedError } from 'etcd3';
import type { EtcdClient } from '../calico/etcd/etcd-client.js';
import { watchPrefix, type WatchHandlers, type WatchOptions } from '../agent/datastore/etcd-watch.js';
import { startTestEtcd, testClient, type EtcdServer } from './support/etcd-harness.js';
import { sleepGate, watchRecorder, type Delivered } from './support/etcd/watch-recorder.js';

const FAST: WatchOptions = { backoff: { initialMs: 20, maxMs: 200 } };

function watch(client: EtcdClient, from: number, handlers: WatchHandlers, options: WatchOptions = FAST) {
  const w = watchPrefix(client, '/calico/', from, handlers, options);
  onTestFinished(() => w.close());
  return w;
}

async function put(server: EtcdServer, key: string, value: string): Promise<number> {
  await server.etcdctl(['put', key, value]);
  return server.revision();
}

const putEvent = (key: string, value: string, revision: number): Delivered => ({ type: 'put', key, value, revision });

describe('etcd prefix watch', () => {
  it('delivers puts and deletes in revision order from the start revision, both events of a two-key delete', async () => {
    const server = await startTestEtcd();
    const client = testClient(server.endpoint);
    const r1 = await put(server, '/calico/w/a', '1');
    const r2 = await put(server, '/calico/w/b', '2');
    await put(server, '/other/ignored', 'x');
    const recorder = watchRecorder();
    watch(client, r1, recorder.handlers);

    const r3 = await put(server, '/calico/w/a', '1b');
    await server.etcdctl(['del', '--prefix', '/calico/w/']);
    const r4 = await server.revision();
    await vi.waitFor(() => expect(recorder.events).toHaveLength(5));
    expect(recorder.events).toEqual([
      putEvent('/calico/w/a', '1', r1),
      putEvent('/calico/w/b', '2', r2),
      putEvent('/calico/w/a', '1b', r3),
      { type: 'delete', key: '/calico/w/a', revision: r4 },
      { type: 'delete', key: '/calico/w/b', revision: r4 },
    ]);
    expect(recorder.errors).toEqual([]);
  });

  it('after kill -9 and restart, reconnects and delivers the next write exactly once', async () => {
    const server = await startTestEtcd();
    const client = testClient(server.endpoint);
    const recorder = watchRecorder();
    const w = watch(client, (await server.revision()) + 1, recorder.handlers);
    const r1 = await put(server, '/calico/k/a', '1');
    await vi.waitFor(() => expect(recorder.events).toHaveLength(1));

    await server.kill();
    await vi.waitFor(() => expect(recorder.errors.length).toBeGreaterThan(0));
    expect(recorder.errors[0]?.message).toMatch(/^etcd watch on \/calico\/ \(next revision \d+\): could not watch: 14 UNAVAILABLE/);
    await server.restart();
    await vi.waitFor(() => expect(recorder.reconnects).toBe(1));
    const r2 = await put(server, '/calico/k/b', '2');

    await vi.waitFor(() => expect(recorder.events).toHaveLength(2));
    await new Promise((resolve) => setTimeout(resolve, 300)); // Room for a duplicate to show up.
    expect(recorder.events).toEqual([putEvent('/calico/k/a', '1', r1), putEvent('/calico/k/b', '2', r2)]);
    expect(w.nextRevision).toBe(r2 + 1);
  });

  it('does not lose writes made by another client between the kill and its reconnect', async () => {
    const server = await startTestEtcd();
    const client = testClient(server.endpoint);
    const recorder = watchRecorder();
    const gate = sleepGate();
    watch(client, (await server.revision()) + 1, recorder.handlers, { ...FAST, sleep: gate.sleep });
    const r1 = await put(server, '/calico/g/a', '1');
    await vi.waitFor(() => expect(recorder.events).toHaveLength(1));

    gate.hold();
    await server.kill();
    await vi.waitFor(() => expect(gate.requested.length).toBeGreaterThan(0)); // The watch is now waiting to retry.
    await server.restart();
    const r2 = await put(server, '/calico/g/b', '2');
    const r3 = await put(server, '/calico/g/a', '3');
    gate.release();

    await vi.waitFor(() => expect(recorder.events).toHaveLength(3));
    const r4 = await put(server, '/calico/g/c', '4');
    await vi.waitFor(() => expect(recorder.events).toHaveLength(4));
    expect(recorder.events).toEqual([putEvent('/calico/g/a', '1', r1), putEvent('/calico/g/b', '2', r2), putEvent('/calico/g/a', '3', r3), putEvent('/calico/g/c', '4', r4)]);
    expect(recorder.reconnects).toBe(1);
  });

  it('backs off exponentially up to the cap while etcd is down', async () => {
    const server = await startTestEtcd();
    const client = testClient(server.endpoint);
    const recorder = watchRecorder();
    const gate = sleepGate();
    watch(client, 1, recorder.handlers, { backoff: { initialMs: 100, maxMs: 1_000 }, sleep: gate.sleep, random: () => 1 });
    await server.kill();
    await vi.waitFor(() => expect(gate.requested.length).toBeGreaterThanOrEqual(6));
    expect(gate.requested.slice(0, 6)).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('when compaction passes its revision while it is away, calls onCompacted, then resumes after the relist', async () => {
    const server = await startTestEtcd();
    const client = testClient(server.endpoint);
    let relisted: string[] = [];
    const recorder = watchRecorder(async () => {
      const listing = await client.listPrefix('/calico/');
      relisted = listing.kvs.map((kv) => `${kv.key}=${kv.value}`);
      return listing.revision;
    });
    const gate = sleepGate();
    watch(client, (await server.revision()) + 1, recorder.handlers, { ...FAST, sleep: gate.sleep });
    const r1 = await put(server, '/calico/c/a', '1');
    await vi.waitFor(() => expect(recorder.events).toHaveLength(1));

    gate.hold();
    await server.kill();
    await vi.waitFor(() => expect(gate.requested.length).toBeGreaterThan(0));
    await server.restart();
    await put(server, '/calico/c/b', '2');
    await put(server, '/calico/c/a', '3');
    await server.compact();
    gate.release();

    await vi.waitFor(() => expect(relisted).toEqual(['/calico/c/a=3', '/calico/c/b=2']));
    expect(recorder.compactions).toBe(1);
    const r4 = await put(server, '/calico/c/d', '4');
    await vi.waitFor(() => expect(recorder.events).toHaveLength(2));
    expect(recorder.events).toEqual([putEvent('/calico/c/a', '1', r1), putEvent('/calico/c/d', '4', r4)]);
  });

  it('started at a revision already compacted, calls onCompacted at once and retries a relist that fails', async () => {
    const server = await startTestEtcd();
    const client = testClient(server.endpoint);
    await put(server, '/calico/x', '1');
    await put(server, '/calico/x', '2');
    await server.compact();
    let relists = 0;
    const recorder = watchRecorder(async () => {
      relists += 1;
      if (relists === 1) throw new Error('datastore busy');
      return (await client.listPrefix('/calico/')).revision;
    });
    watch(client, 1, recorder.handlers);

    await vi.waitFor(() => expect(relists).toBe(2));
    expect(recorder.errors.map((e) => e.message)).toEqual([expect.stringMatching(/could not relist after compaction: datastore busy$/)]);
    const r = await put(server, '/calico/x', '3');
    await vi.waitFor(() => expect(recorder.events).toEqual([putEvent('/calico/x', '3', r)]));
  });

  it('reports a throwing handler and goes on with the next event', async () => {
    const server = await startTestEtcd();
    const client = testClient(server.endpoint);
    const recorder = watchRecorder();
    const handlers: WatchHandlers = {
      ...recorder.handlers,
      onPut: (key, value, revision) => {
        if (value === 'bad') throw new Error('cannot parse');
        recorder.handlers.onPut(key, value, revision);
      },
    };
    watch(client, (await server.revision()) + 1, handlers);
    await put(server, '/calico/h/a', 'bad');
    const r2 = await put(server, '/calico/h/b', 'good');
    await vi.waitFor(() => expect(recorder.events).toEqual([putEvent('/calico/h/b', 'good', r2)]));
    expect(recorder.errors.map((e) => e.message)).toEqual([expect.stringMatching(/could not handle an event: cannot parse$/)]);
  });

  it('close() stops delivery at once, also while it waits out a long backoff', async () => {
    const server = await startTestEtcd();
    const client = testClient(server.endpoint);
    const recorder = watchRecorder();
    const w = watch(client, (await server.revision()) + 1, recorder.handlers, { backoff: { initialMs: 60_000, maxMs: 60_000 } });
    await put(server, '/calico/z/a', '1');
    await vi.waitFor(() => expect(recorder.events).toHaveLength(1));

    await server.kill();
    await vi.waitFor(() => expect(recorder.errors).toHaveLength(1)); // Now in a 30–60 s backoff.
    const closing = Date.now();
    await w.close();
    expect(Date.now() - closing).toBeLessThan(1_000);
    await server.restart();
    await put(server, '/calico/z/b', '2');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(recorder.events).toHaveLength(1);
    expect(recorder.errors).toHaveLength(1);
  });

  it('stops with ClientClosedError once its client is closed', async () => {
    const server = await startTestEtcd();
    const client = testClient(server.endpoint);
    const recorder = watchRecorder();
    const w = watch(client, 1, recorder.handlers);
    await new Promise((resolve) => setTimeout(resolve, 100));
    client.close();
    await vi.waitFor(() => expect(recorder.errors.at(-1)).toBeInstanceOf(ClientClosedError));
    await w.close();
  });
});

describe('contact with etcd through the watch', () => {
  it('a quiet watch hears from etcd by progress replies; a killed etcd is a failure until it answers again', async () => {
    const server = await startTestEtcd();
    const client = testClient(server.endpoint);
    const recorder = watchRecorder();
    watch(client, (await server.revision()) + 1, recorder.handlers, { ...FAST, progressIntervalMs: 100 });
    await vi.waitFor(() => expect(client.contact.state().lastContactAt).toBeDefined());
    const first = client.contact.state().lastContactAt ?? 0;
    // No write at all: only etcd's replies to the progress requests can move the last contact.
    await vi.waitFor(() => expect(client.contact.state().lastContactAt).toBeGreaterThan(first + 250));
    expect(recorder.events).toEqual([]);
    expect(client.contact.state().failingSince).toBeUndefined();

    await server.kill();
    await vi.waitFor(() => expect(client.contact.state().failingSince).toBeDefined());
    expect(client.contact.state().failure).toMatch(new RegExp(`^etcd ${server.endpoint}: 14 UNAVAILABLE`));
    await server.restart();
    await vi.waitFor(() => expect(client.contact.state()).toMatchObject({ failingSince: undefined, failure: undefined }), { timeout: 5000 });
  });
});
