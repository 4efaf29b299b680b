// etcd over TLS, as Calico clusters on etcd run it: a real etcd serving https on 127.0.0.1 that
// accepts only clients with a certificate its CA signed (--client-cert-auth). wren reads it with
// Calico's settings (ETCD_CA_CERT_FILE, ETCD_CERT_FILE, ETCD_KEY_FILE, or the same as flags);
// a wrong setting is named before anything connects, and a client etcd refuses is told why at
// once rather than after a 30 s wait.
import { mkdtempSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { main } from '../agent/cli/cli.js';
import { loadConfig } from '../agent/config.js';
import { createDatastore } from '../agent/datastore/create-datastore.js';
import { readEtcdTls, type EtcdTlsFiles } from '../agent/datastore/etcd-credentials.js';
import { EtcdClient } from '../calico/etcd/etcd-client.js';
import { useSuiteEtcd } from './support/etcd-harness.js';
import { writeCalicoEtcd } from './support/etcd-from-kubernetes.js';
import { makeTestPki, type TestPki } from './support/tls-certs.js';
import { until } from './support/until.js';

const FIXTURE = new URL('./fixtures/seed-ipip-cluster.yaml', import.meta.url).pathname;
const NODE = 'minikube';
const dir = mkdtempSync(join(tmpdir(), 'wren-tls-'));
const at = (name: string) => join(dir, name);
// Paths are known before the files exist: etcd's options are fixed when the suite is declared.
const pkiPaths = {
  ca: at('wren-test-ca.crt'),
  server: { cert: at('etcd-server.crt'), key: at('etcd-server.key') },
  client: { cert: at('wren-client.crt'), key: at('wren-client.key') },
};
let pki: TestPki;
let items: { kind: string }[];

async function wren(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const started = performance.now();
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err, ms: performance.now() - started };
}

beforeAll(async () => {
  pki = await makeTestPki(dir);
  expect(pki.ca).toBe(pkiPaths.ca);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('etcd over TLS with client certificates', () => {
  const etcd = useSuiteEtcd({ tls: { ...pkiPaths.server, ca: pkiPaths.ca, clientCa: pkiPaths.ca, etcdctl: pkiPaths.client } });
  const identity = () => ['--etcd-ca-cert-file', pki.ca, '--etcd-cert-file', pki.client.cert, '--etcd-key-file', pki.client.key];

  beforeAll(async () => {
    items = (parse(await readFile(FIXTURE, 'utf8')) as { items: typeof items }).items;
    const tls = await readEtcdTls({ etcdCaCertFile: pki.ca, etcdCertFile: pki.client.cert, etcdKeyFile: pki.client.key }, [etcd().endpoint]);
    const client = new EtcdClient({ endpoints: etcd().endpoint, tls });
    try {
      await writeCalicoEtcd(client, items as never);
    } finally {
      client.close();
    }
  });

  it('wren routes and wren snapshot read it as they read the dump', async () => {
    expect(etcd().endpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const expected = await wren('routes', '--node', NODE, '--snapshot', FIXTURE);
    expect(expected.out.filter((l) => l.includes(' dev tunl0 ')).length).toBeGreaterThan(0);
    const routes = await wren('routes', '--node', NODE, '--datastore', 'etcd', '--etcd-endpoints', etcd().endpoint, ...identity());
    expect(routes.err).toEqual([]);
    expect(routes.out).toEqual(expected.out);
    const dump = await wren('snapshot', '--datastore', 'etcd', '--etcd-endpoints', etcd().endpoint, ...identity(), '--json');
    expect(dump.code).toBe(0);
    const dumped = (JSON.parse(dump.out.join('\n')) as { items: { kind: string }[] }).items;
    expect(dumped.filter((i) => i.kind === 'IPAMBlock').length).toBe(items.filter((i) => i.kind === 'IPAMBlock').length);
  });

  it("the agent's settings, Calico's ETCD_* variables, bring its datastore in sync over TLS", async () => {
    const env = { NODENAME: NODE, DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: etcd().endpoint, ETCD_CA_CERT_FILE: pki.ca, ETCD_CERT_FILE: pki.client.cert, ETCD_KEY_FILE: pki.client.key };
    const config = loadConfig({}, env);
    expect(config).toMatchObject({ etcdCaCertFile: pki.ca, etcdCertFile: pki.client.cert, etcdKeyFile: pki.client.key });
    const datastore = await createDatastore(config, pino({ level: 'silent' }));
    try {
      await until(() => datastore.source.inSync(), 10_000, 'the TLS datastore never came in sync');
      const blocks = datastore.source.snapshot().blocks;
      expect(blocks.length).toBeGreaterThan(0);
      expect(blocks.length).toBe(items.filter((i) => i.kind === 'IPAMBlock').length);
    } finally {
      await datastore.close();
    }
  });

  it('a client without a certificate is told at once that etcd refused it; the agent says so on /readyz', async () => {
    const noIdentity = await wren('routes', '--node', NODE, '--datastore', 'etcd', '--etcd-endpoints', etcd().endpoint, '--etcd-ca-cert-file', pki.ca);
    expect(noIdentity.code).toBe(1);
    expect(noIdentity.err.join('\n')).toMatch(/^wren routes: cannot list the etcdv3 datastore: etcd list of \/calico\/ failed: /);
    expect(noIdentity.ms).toBeLessThan(10_000);

    const config = loadConfig({}, { NODENAME: NODE, ETCD_ENDPOINTS: etcd().endpoint, ETCD_CA_CERT_FILE: pki.ca });
    const datastore = await createDatastore(config, pino({ level: 'silent' }));
    try {
      await until(() => datastore.source.syncProblem?.() !== undefined, 10_000, 'no listing failure reported');
      expect(datastore.source.inSync()).toBe(false);
      expect(datastore.source.syncProblem?.()).toMatch(/^etcd list of \/calico\/ failed: /);
    } finally {
      await datastore.close();
    }
  });

  it("a client certificate from another CA is refused, and so is an etcd whose CA wren does not trust", async () => {
    const otherClient = ['--etcd-ca-cert-file', pki.ca, '--etcd-cert-file', pki.otherClient.cert, '--etcd-key-file', pki.otherClient.key];
    const refused = await wren('routes', '--node', NODE, '--datastore', 'etcd', '--etcd-endpoints', etcd().endpoint, ...otherClient);
    expect(refused.code).toBe(1);
    expect(refused.err.join('\n')).toContain('cannot list the etcdv3 datastore');

    const untrusted = ['--etcd-ca-cert-file', pki.otherCa, '--etcd-cert-file', pki.client.cert, '--etcd-key-file', pki.client.key];
    const distrust = await wren('routes', '--node', NODE, '--datastore', 'etcd', '--etcd-endpoints', etcd().endpoint, ...untrusted);
    expect(distrust.code).toBe(1);
    expect(distrust.err.join('\n')).toContain('cannot list the etcdv3 datastore');
  });
});

describe('etcd TLS settings, checked before anything connects', () => {
  const https = ['https://127.0.0.1:2379'];
  const cases: { name: string; files: () => EtcdTlsFiles; endpoints?: string[]; error: RegExp }[] = [
    { name: 'a certificate without its key', files: () => ({ etcdCertFile: pki.client.cert }), error: /^bad setting --etcd-key-file \(ETCD_KEY_FILE\): not set, but --etcd-cert-file is/ },
    { name: 'a key without its certificate', files: () => ({ etcdKeyFile: pki.client.key }), error: /^bad setting --etcd-cert-file \(ETCD_CERT_FILE\): not set, but --etcd-key-file is/ },
    { name: 'TLS files with an http endpoint', files: () => ({ etcdCaCertFile: pki.ca }), endpoints: ['http://127.0.0.1:2379'], error: /^bad setting --etcd-ca-cert-file \(ETCD_CA_CERT_FILE\): set, but etcd endpoint http:\/\/127\.0\.0\.1:2379 is not https:\/\// },
    { name: 'a file that is not there', files: () => ({ etcdCaCertFile: at('missing.crt') }), error: /^bad setting --etcd-ca-cert-file \(ETCD_CA_CERT_FILE\): cannot read .*missing\.crt: ENOENT$/ },
    { name: 'a key where the certificate should be', files: () => ({ etcdCertFile: pki.client.key, etcdKeyFile: pki.client.key }), error: /^bad setting --etcd-cert-file \(ETCD_CERT_FILE\): .*wren-client\.key holds no PEM certificate$/ },
    { name: 'a certificate where the key should be', files: () => ({ etcdCertFile: pki.client.cert, etcdKeyFile: pki.client.cert }), error: /^bad setting --etcd-key-file \(ETCD_KEY_FILE\): .*wren-client\.crt holds no PEM private key/ },
    { name: "another certificate's key", files: () => ({ etcdCertFile: pki.client.cert, etcdKeyFile: pki.otherClient.key }), error: /^bad setting --etcd-key-file \(ETCD_KEY_FILE\): .*other-client\.key is not the key of the certificate in .*wren-client\.crt \(CN=wren-client\)$/ },
  ];
  it.each(cases)('refuses $name', async ({ files, endpoints, error }) => {
    await expect(readEtcdTls(files(), endpoints ?? https)).rejects.toThrow(error);
  });

  it('none set: plain etcd; only a CA: https trusting that CA', async () => {
    expect(await readEtcdTls({}, ['http://127.0.0.1:2379'])).toBeUndefined();
    const caOnly = await readEtcdTls({ etcdCaCertFile: pki.ca }, https);
    expect(caOnly?.ca.toString()).toBe(await readFile(pki.ca, 'utf8'));
    expect(caOnly?.cert).toBeUndefined();
  });

  it('the CLI exits 2 with the setting named', async () => {
    const r = await wren('routes', '--node', NODE, '--datastore', 'etcd', '--etcd-endpoints', https[0] ?? '', '--etcd-cert-file', pki.client.cert);
    expect(r.code).toBe(2);
    expect(r.err).toEqual(['wren routes: bad setting --etcd-key-file (ETCD_KEY_FILE): not set, but --etcd-cert-file is: a client certificate needs its key']);
  });
});
