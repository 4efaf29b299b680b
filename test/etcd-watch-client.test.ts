// The etcd client the watch and IPAM read and write through, against a real etcd: one consistent
// revision across pages, compare-and-swap races with exactly one winner, errors that name the
// key, failover between endpoints, and no lock-out after an etcd restart.
import { describe, expect, it } from 'vitest';
import type { KeyValue } from '../calico/etcd/etcd-client.js';
import { parseEndpoints } from '../calico/etcd/etcd-endpoints.js';
import { EtcdOperationError } from '../calico/etcd/etcd-errors.js';
import { startTestEtcd, testClient, useSuiteEtcd } from './support/etcd-harness.js';

/** What `etcdctl get --prefix --rev` says the prefix held at `revision`, for comparison. */
async function etcdctlSnapshot(server: { etcdctl(args: readonly string[]): Promise<string> }, prefix: string, revision: number): Promise<KeyValue[]> {
  const out = JSON.parse(await server.etcdctl(['get', prefix, '--prefix', `--rev=${revision}`, '--write-out=json'])) as { kvs?: { key: string; value: string; mod_revision: number }[] };
  const text = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');
  return (out.kvs ?? []).map((kv) => ({ key: text(kv.key), value: text(kv.value), modRevision: kv.mod_revision }));
}

/** An endpoint nobody listens on: a stopped etcd's. */
async function deadEndpoint(): Promise<string> {
  const server = await startTestEtcd({ name: 'dead' });
  await server.stop();
  return server.endpoint;
}

describe('etcd client', () => {
  const etcd = useSuiteEtcd({ name: 'client-suite' });

  it('lists a prefix across many pages at one revision while writes go on', async () => {
    const client = testClient(etcd().endpoint, { pageSize: 4 });
    const writer = testClient(etcd().endpoint);
    for (let i = 0; i < 30; i++) await writer.create(`/calico/list/k${String(i).padStart(2, '0')}`, `v${i}`);

    let writing = true;
    const writes = (async () => {
      for (let i = 0; writing; i++) await writer.create(`/calico/list/late${String(i).padStart(4, '0')}`, 'late');
    })();
    const listings = [];
    for (let i = 0; i < 5; i++) listings.push(await client.listPrefix('/calico/list/'));
    writing = false;
    await writes;

    for (const listing of listings) {
      expect(listing.kvs).toEqual(await etcdctlSnapshot(etcd(), '/calico/list/', listing.revision));
      expect(listing.kvs.every((kv) => kv.modRevision <= listing.revision)).toBe(true);
    }
    // The writer really ran between the pages: the listings saw different revisions.
    expect(new Set(listings.map((l) => l.revision)).size).toBeGreaterThan(1);
    expect(listings[0]?.kvs.slice(0, 2).map((kv) => kv.key)).toEqual(['/calico/list/k00', '/calico/list/k01']);
  });

  it('scans a prefix page by page into what the caller keeps, at one revision', async () => {
    const client = testClient(etcd().endpoint, { pageSize: 3 });
    const writer = testClient(etcd().endpoint);
    for (let i = 0; i < 10; i++) await writer.create(`/calico/scan/k${i}`, `${i}`);
    const seen: string[] = [];
    const scanned = await client.scanPrefix('/calico/scan/', (kv) => {
      seen.push(kv.key);
      return Number(kv.value) % 2 === 0 ? Number(kv.value) : undefined;
    });
    expect(scanned.kvs).toEqual([0, 2, 4, 6, 8]);
    expect(seen).toHaveLength(10);
    expect(scanned.revision).toBe((await client.listPrefix('/calico/scan/')).revision);
  });

  it('gets a key with its mod revision, or undefined', async () => {
    const client = testClient(etcd().endpoint);
    expect(await client.get('/calico/get/none')).toBeUndefined();
    const created = await client.create('/calico/get/one', '{"a":1}');
    expect(created.ok).toBe(true);
    expect(await client.get('/calico/get/one')).toEqual({ key: '/calico/get/one', value: '{"a":1}', modRevision: created.ok ? created.revision : -1 });
  });

  it('creates only when absent, and says what is there otherwise', async () => {
    const client = testClient(etcd().endpoint);
    const first = await client.create('/calico/create/x', 'first');
    expect(first).toEqual({ ok: true, revision: expect.any(Number) });
    expect(await client.create('/calico/create/x', 'second')).toEqual({
      ok: false,
      reason: 'exists',
      current: { key: '/calico/create/x', value: 'first', modRevision: first.ok ? first.revision : -1 },
    });
  });

  it.each([1, 2, 3, 4, 5])('two concurrent compare-and-swaps on one key: exactly one wins (round %i)', async (round) => {
    const key = `/calico/cas/block-${round}`;
    const [a, b] = [testClient(etcd().endpoint), testClient(etcd().endpoint)];
    const start = await a.create(key, 'v0');
    if (!start.ok) throw new Error('setup: create failed');

    const results = await Promise.all([a.compareAndSwap(key, 'from-a', start.revision), b.compareAndSwap(key, 'from-b', start.revision)]);
    const winners = results.filter((r) => r.ok);
    expect(winners).toHaveLength(1);
    const winner = results[0]?.ok ? 'from-a' : 'from-b';
    const loser = results.find((r) => !r.ok);
    expect(loser).toEqual({ ok: false, reason: 'conflict', current: { key, value: winner, modRevision: winners[0]?.ok ? winners[0].revision : -1 } });
    expect((await a.get(key))?.value).toBe(winner);
  });

  it('compare-and-swap and compare-and-delete report a missing key, a stale revision, and succeed on the current one', async () => {
    const client = testClient(etcd().endpoint);
    expect(await client.compareAndSwap('/calico/cad/none', 'x', 1)).toEqual({ ok: false, reason: 'missing' });
    expect(await client.compareAndDelete('/calico/cad/none', 1)).toEqual({ ok: false, reason: 'missing' });

    const created = await client.create('/calico/cad/k', 'v1');
    const swapped = created.ok ? await client.compareAndSwap('/calico/cad/k', 'v2', created.revision) : created;
    if (!created.ok || !swapped.ok) throw new Error('setup: writes failed');
    expect(await client.compareAndDelete('/calico/cad/k', created.revision)).toEqual({
      ok: false,
      reason: 'conflict',
      current: { key: '/calico/cad/k', value: 'v2', modRevision: swapped.revision },
    });
    expect(await client.compareAndDelete('/calico/cad/k', swapped.revision)).toEqual({ ok: true, revision: expect.any(Number) });
    expect(await client.get('/calico/cad/k')).toBeUndefined();
  });

  it('names the operation and key when etcd cannot be reached', async () => {
    const client = testClient(await deadEndpoint());
    const failure = client.get('/calico/ipam/v2/handle/h1');
    await expect(failure).rejects.toBeInstanceOf(EtcdOperationError);
    await expect(failure).rejects.toThrow(/^etcd get of \/calico\/ipam\/v2\/handle\/h1 failed: .*UNAVAILABLE/);
    await expect(client.compareAndSwap('/calico/x', 'v', 3)).rejects.toThrow(/^etcd compare-and-swap of \/calico\/x failed/);
    await expect(client.listPrefix('/calico/')).rejects.toThrow(/^etcd list of \/calico\/ failed/);
  });

  it('moves to the next endpoint when one is down', async () => {
    const client = testClient(`${await deadEndpoint()},${etcd().endpoint}`);
    for (let i = 0; i < 20; i++) {
      expect(await client.create(`/calico/failover/k${i}`, 'v')).toMatchObject({ ok: true });
      expect((await client.listPrefix('/calico/failover/')).kvs).toHaveLength(i + 1);
    }
  });

  it('parses endpoint lists and refuses what is not an http(s) or unix URL', () => {
    expect(parseEndpoints('http://10.0.0.1:2379, http://10.0.0.2:2379')).toEqual(['http://10.0.0.1:2379', 'http://10.0.0.2:2379']);
    expect(parseEndpoints('unix:///run/wren-lab/wren/etcd/etcd.sock:1')).toEqual(['unix:///run/wren-lab/wren/etcd/etcd.sock:1']);
    expect(() => parseEndpoints('10.0.0.1:2379')).toThrow('etcd endpoint "10.0.0.1:2379" is not an http(s)://host:port or unix:///path URL');
    expect(() => parseEndpoints('unix://relative.sock')).toThrow(/not an http/);
    expect(() => parseEndpoints('http://a:2379,https://b:2379')).toThrow(/mix http and https/);
    expect(() => parseEndpoints(' , ')).toThrow(/none given/);
  });
});

describe('etcd client across an etcd restart', () => {
  it('works again as soon as etcd is back (no circuit breaker holding it off)', async () => {
    const server = await startTestEtcd();
    const client = testClient(server.endpoint);
    await client.create('/calico/restart/k', 'v');
    await server.kill();
    for (let i = 0; i < 4; i++) await expect(client.get('/calico/restart/k')).rejects.toThrow(/UNAVAILABLE/);

    await server.restart();
    const backAt = Date.now();
    expect((await client.get('/calico/restart/k'))?.value).toBe('v');
    expect(Date.now() - backAt).toBeLessThan(1_000);
  });
});
