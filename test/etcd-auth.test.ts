// etcd with its own users (`etcdctl auth enable`), as Calico reads it with ETCD_USERNAME and
// ETCD_PASSWORD: a real etcd on 127.0.0.1 where the user wren runs as may read and write
// /calico/ only. The password is taken from the environment alone, never from a flag.
import { readFile } from 'node:fs/promises';
import pino from 'pino';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { main } from '../agent/cli/cli.js';
import { loadConfig } from '../agent/config.js';
import { createDatastore } from '../agent/datastore/create-datastore.js';
import { EtcdClient } from '../calico/etcd/etcd-client.js';
import { useSuiteEtcd } from './support/etcd-harness.js';
import { writeCalicoEtcd } from './support/etcd-from-kubernetes.js';
import { until } from './support/until.js';

const FIXTURE = new URL('./fixtures/seed-ipip-cluster.yaml', import.meta.url).pathname;
const NODE = 'minikube';
const USER = 'calico-node';
const PASSWORD = 'a long test password';

async function wren(env: Record<string, string>, ...argv: string[]) {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  const out: string[] = [];
  const err: string[] = [];
  const started = performance.now();
  try {
    const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out, err, ms: performance.now() - started };
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe('etcd with users', () => {
  const etcd = useSuiteEtcd();
  let blocks = 0;
  const routes = (env: Record<string, string>, ...extra: string[]) => wren(env, 'routes', '--node', NODE, '--datastore', 'etcd', '--etcd-endpoints', etcd().endpoint, ...extra);

  beforeAll(async () => {
    const items = (parse(await readFile(FIXTURE, 'utf8')) as { items: { kind: string }[] }).items;
    blocks = items.filter((i) => i.kind === 'IPAMBlock').length;
    const client = new EtcdClient({ endpoints: etcd().endpoint });
    try {
      await writeCalicoEtcd(client, items as never);
    } finally {
      client.close();
    }
    // Calico's layout, readable and writable by one user; then no anonymous access at all.
    const ctl = (...args: string[]) => etcd().etcdctl(args);
    await ctl('user', 'add', 'root:root-password');
    await ctl('user', 'grant-role', 'root', 'root');
    await ctl('role', 'add', 'calico');
    await ctl('role', 'grant-permission', 'calico', '--prefix=true', 'readwrite', '/calico/');
    await ctl('user', 'add', `${USER}:${PASSWORD}`);
    await ctl('user', 'grant-role', USER, 'calico');
    await ctl('auth', 'enable');
    etcd().etcdctlSignsInAs('root:root-password');
  });
  afterEach(() => {
    expect(process.env.ETCD_PASSWORD).toBeUndefined();
  });

  it('wren routes reads it as that user, the password from ETCD_PASSWORD, and answers as the dump does', async () => {
    const expected = await wren({}, 'routes', '--node', NODE, '--snapshot', FIXTURE);
    expect(expected.out.filter((l) => l.includes(' dev tunl0 ')).length).toBeGreaterThan(0);
    const asUser = await routes({ ETCD_PASSWORD: PASSWORD }, '--etcd-username', USER);
    expect(asUser.err).toEqual([]);
    expect(asUser.out).toEqual(expected.out);
  });

  it("the agent's settings (ETCD_USERNAME, ETCD_PASSWORD) bring its datastore in sync", async () => {
    const config = loadConfig({}, { NODENAME: NODE, ETCD_ENDPOINTS: etcd().endpoint, ETCD_USERNAME: USER, ETCD_PASSWORD: PASSWORD });
    expect(config.datastore).toBe('etcdv3');
    const datastore = await createDatastore(config, pino({ level: 'silent' }));
    try {
      await until(() => datastore.source.inSync(), 10_000, 'the datastore never came in sync');
      expect(datastore.source.snapshot().blocks.length).toBe(blocks);
    } finally {
      await datastore.close();
    }
  });

  it('keeps watching across an etcd restart, which forgets every token it gave out', async () => {
    const config = loadConfig({}, { NODENAME: NODE, ETCD_ENDPOINTS: etcd().endpoint, ETCD_USERNAME: USER, ETCD_PASSWORD: PASSWORD });
    const datastore = await createDatastore(config, pino({ level: 'silent' }));
    const writer = new EtcdClient({ endpoints: etcd().endpoint, user: { username: USER, password: PASSWORD } });
    try {
      await until(() => datastore.source.inSync(), 10_000, 'the datastore never came in sync');
      await etcd().restart();
      const cidr = '10.244.250.0/26';
      await writeCalicoEtcd(writer, [{ apiVersion: 'crd.projectcalico.org/v1', kind: 'IPAMBlock', metadata: { name: '10-244-250-0-26' }, spec: { cidr, affinity: `host:${NODE}`, allocations: new Array(64).fill(null), unallocated: [], attributes: [], strictAffinity: false, deleted: false } }] as never);
      await until(() => datastore.source.snapshot().blocks.some((b) => b.cidr === cidr), 20_000, 'the block written after the restart never reached the datastore');
    } finally {
      writer.close();
      await datastore.close();
    }
  });

  it("a wrong password, or no user, is refused at once with etcd's reason", async () => {
    const wrong = await routes({ ETCD_PASSWORD: 'not the password' }, '--etcd-username', USER);
    expect(wrong.code).toBe(1);
    expect(wrong.err.join('\n')).toMatch(/^wren routes: cannot list the etcdv3 datastore: .*authentication failed/);
    expect(wrong.ms).toBeLessThan(10_000);
    const anonymous = await routes({});
    expect(anonymous.code).toBe(1);
    expect(anonymous.err.join('\n')).toMatch(/^wren routes: cannot list the etcdv3 datastore: .*(user name is empty|permission denied)/);
  });

  it('a user without a password and a password without a user are configuration errors; the password has no flag', async () => {
    const noPassword = await routes({}, '--etcd-username', USER);
    expect(noPassword.code).toBe(2);
    expect(noPassword.err).toEqual(['wren routes: bad setting ETCD_PASSWORD: not set, but --etcd-username is: an etcd user needs its password']);
    const noUser = await routes({ ETCD_PASSWORD: PASSWORD });
    expect(noUser.code).toBe(2);
    expect(noUser.err).toEqual(['wren routes: bad setting --etcd-username (ETCD_USERNAME): not set, but ETCD_PASSWORD is: a password needs its user']);
    const flag = await wren({}, 'agent', '--etcd-password', PASSWORD);
    expect(flag.code).toBe(2);
    expect(flag.err.join('\n')).toContain('--etcd-password');
    expect(flag.err.join('\n')).not.toContain(PASSWORD);
  });
});
