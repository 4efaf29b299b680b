// No credential in any error, log line or /status: a password in an etcd URL is refused at start
// without being echoed; ETCD_PASSWORD, a wrong one included, and a kubeconfig's token never show
// on stdout, stderr, the agent's log, /readyz or /status; whatever URL still reaches a message
// goes through one redaction helper (util/redact.ts).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../agent/config.js';
import { ENDPOINT_USER_INFO, EtcdEndpointError, parseEndpoints } from '../calico/etcd/etcd-endpoints.js';
import { httpGet } from '../util/http-client.js';
import { hasUserInfo, redactUrls } from '../util/redact.js';
import { run, spawn } from '../kernel/exec.js';
import { useSuiteEtcd } from './support/etcd-harness.js';
import { scratchNs, type ScratchNs } from './support/scratch-ns.js';
import { until } from './support/until.js';
import { requireBuiltCli, WREN_MAIN } from './support/built-cli.js';

const URL_SECRET = 'url-secret-7f3a';
const ENV_SECRET = 'env-secret-91c2';
const TOKEN = 'kube-token-55e1';
const SECRETS = [URL_SECRET, ENV_SECRET, TOKEN];
const REFUSAL = 'bad setting --etcd-endpoints (ETCD_ENDPOINTS): an endpoint URL carries a user name or password (not shown here): give them as ETCD_USERNAME (or --etcd-username) and ETCD_PASSWORD instead';

/** Every secret absent from every text given. */
function expectNoSecret(...texts: string[]): void {
  for (const text of texts) for (const secret of SECRETS) expect(text).not.toContain(secret);
}

describe('redactUrls', () => {
  it.each([
    { text: 'http://user:pw@127.0.0.1:2379', shown: 'http://***@127.0.0.1:2379' },
    { text: 'https://user@etcd:2379/', shown: 'https://***@etcd:2379/' },
    { text: 'Name resolution failed for target dns:user:pw@127.0.0.1:1', shown: 'Name resolution failed for target dns:***@127.0.0.1:1' },
    { text: 'etcd http://a:2379,http://u:p,w@b:2379: down', shown: 'etcd http://a:2379,http://***@b:2379: down' },
    { text: 'https://u:p%40ss@host', shown: 'https://***@host' },
    { text: '{"failure":"etcd http://u:p@h:1: x","other":"a@b"}', shown: '{"failure":"etcd http://***@h:1: x","other":"a@b"}' },
    { text: 'link eth0@if5 and veth1@if12 changed', shown: 'link eth0@if5 and veth1@if12 changed' },
    { text: 'etcd list of /calico/ failed: 14 UNAVAILABLE', shown: 'etcd list of /calico/ failed: 14 UNAVAILABLE' },
  ])('$text', ({ text, shown }) => {
    expect(redactUrls(text)).toBe(shown);
  });

  it.each([
    { url: 'http://u:p@h:2379', yes: true },
    { url: 'https://u@h', yes: true },
    { url: ' http://u:p@h ', yes: true },
    { url: 'http://h:2379', yes: false },
    { url: 'http://h:2379/path@x', yes: false },
    { url: 'unix:///run/etcd.sock:1', yes: false },
  ])('hasUserInfo($url) is $yes', ({ url, yes }) => {
    expect(hasUserInfo(url)).toBe(yes);
  });
});

describe('user info in an etcd endpoint', () => {
  it.each([
    { flags: { 'etcd-endpoints': `http://wren:${URL_SECRET}@127.0.0.1:2379` }, env: {} },
    { flags: {}, env: { ETCD_ENDPOINTS: `http://127.0.0.1:2379,https://wren:${URL_SECRET}@10.0.0.1:2379` } },
    { flags: { 'etcd-endpoints': `http://${URL_SECRET}@127.0.0.1:2379` }, env: {} },
  ])('is refused by the agent\'s configuration without echoing it: $flags $env', ({ flags, env }) => {
    const load = () => loadConfig({ node: 'a', ...flags }, env);
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(REFUSAL);
    try {
      load();
    } catch (error) {
      expect((error as Error).message).toBe(REFUSAL);
    }
  });

  it('is refused by the etcd client itself too, for any caller that skips the configuration', () => {
    const parse = () => parseEndpoints(`http://wren:${URL_SECRET}@127.0.0.1:2379`);
    expect(parse).toThrow(EtcdEndpointError);
    expect(parse).toThrow(`etcd endpoints: ${ENDPOINT_USER_INFO}`);
  });

  it('an endpoint without a scheme is echoed without its user info', () => {
    expect(() => loadConfig({ node: 'a', 'etcd-endpoints': `wren:${URL_SECRET}@127.0.0.1:2379` }, {})).toThrow(/^bad setting --etcd-endpoints \(ETCD_ENDPOINTS\): "wren:\*\*\*@127\.0\.0\.1:2379" must be/);
  });
});

describe('what the CLI and the agent show', () => {
  const etcd = useSuiteEtcd();
  let dir: string;
  let ns: ScratchNs;
  beforeAll(async () => {
    await requireBuiltCli();
    dir = await mkdtemp(join(tmpdir(), 'wren-secrets-'));
    ns = await scratchNs('secrets');
    const ctl = (...args: string[]) => etcd().etcdctl(args);
    await ctl('user', 'add', 'root:root-password');
    await ctl('user', 'grant-role', 'root', 'root');
    await ctl('user', 'add', 'calico-node:the-right-password');
    await ctl('auth', 'enable');
    etcd().etcdctlSignsInAs('root:root-password');
  });
  afterAll(async () => {
    await ns?.remove();
    await rm(dir, { recursive: true, force: true });
  });

  const wren = (env: string[], ...argv: string[]) => run('env', [...env, 'node', WREN_MAIN, ...argv]);

  it('one-shot commands: a URL with a password exits 2 without it; ETCD_PASSWORD never shows, unreachable or wrong', async () => {
    const inUrl = await wren([`ETCD_PASSWORD=${ENV_SECRET}`, 'ETCD_USERNAME=calico-node'], 'routes', '--node', 'a', '--datastore', 'etcd', '--etcd-endpoints', `http://calico-node:${URL_SECRET}@127.0.0.1:1`);
    expect(inUrl.exitCode).toBe(2);
    expect(inUrl.stderr.trim().split('\n')).toEqual([`wren routes: ${REFUSAL}`]);
    const unreachable = await wren([`ETCD_PASSWORD=${ENV_SECRET}`, 'ETCD_USERNAME=calico-node'], 'diff', '--node', 'a', '--datastore', 'etcd', '--etcd-endpoints', 'http://127.0.0.1:1', '--netns', ns.name);
    expect(unreachable.exitCode).toBe(1);
    expect(unreachable.stderr).toMatch(/^wren diff: cannot list the etcdv3 datastore: /);
    const wrong = await wren([`ETCD_PASSWORD=${ENV_SECRET}`, 'ETCD_USERNAME=calico-node'], 'routes', '--node', 'a', '--datastore', 'etcd', '--etcd-endpoints', etcd().endpoint);
    expect(wrong.exitCode).toBe(1);
    expect(wrong.stderr).toMatch(/authentication failed/);
    expectNoSecret(inUrl.stdout, inUrl.stderr, unreachable.stdout, unreachable.stderr, wrong.stdout, wrong.stderr);
  });

  it('a kubeconfig that does not parse is named with the fault\'s line, never its text', async () => {
    const kubeconfig = join(dir, 'kubeconfig');
    await writeFile(kubeconfig, `apiVersion: v1\nclusters:\n- cluster:\n    server: https://admin:${URL_SECRET}@127.0.0.1:6443\n  name: c\nusers:\n- name: u\n  user:\n    token: ${TOKEN}\n   bad: indent\n`);
    const result = await wren([], 'routes', '--node', 'a', '--datastore', 'kubernetes', '--kubeconfig', kubeconfig);
    expect(result.exitCode).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([`wren routes: cannot load kubeconfig ${kubeconfig}: bad indentation of a mapping entry (line 10, column 4)`]);
    expectNoSecret(result.stdout, result.stderr);
  });

  it('the agent: a URL with a password stops it at start, without the password', async () => {
    const result = await wren([`ETCD_ENDPOINTS=http://calico-node:${URL_SECRET}@127.0.0.1:2379`, `ETCD_PASSWORD=${ENV_SECRET}`], 'agent', '--node', 'a', '--netns', ns.name);
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([`wren agent: ${REFUSAL}`]);
    expectNoSecret(result.stdout, result.stderr);
  });

  it('the agent with a wrong ETCD_PASSWORD: not in its log, /readyz or /status', async () => {
    const listen = { path: join(dir, 'agent.sock') };
    const agent = spawn('node', [WREN_MAIN, 'agent', '--node', 'a', '--netns', ns.name, '--http-listen', `unix:${listen.path}`, '--mtu-file', ''], {
      env: { PATH: process.env.PATH ?? '', ETCD_ENDPOINTS: etcd().endpoint, ETCD_USERNAME: 'calico-node', ETCD_PASSWORD: ENV_SECRET, WREN_LOG_LEVEL: 'debug' },
    });
    let stdout = '';
    let stderr = '';
    agent.process.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    agent.process.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      // Several refused listings, each logged with etcd's reason.
      await until(() => (stdout.match(/authentication failed/g) ?? []).length >= 2, 15_000, 'two refused listings in the log');
      const ready = await httpGet(listen, '/readyz');
      const status = await httpGet(listen, '/status');
      expect(ready.status).toBe(503);
      expect(ready.body).toMatch(/authentication failed/);
      expect(status.status).toBe(200);
      agent.process.kill('SIGTERM');
      await agent.process.catch(() => undefined);
      expect(stdout).toContain('"msg":"agent started"');
      expectNoSecret(stdout, stderr, ready.body, status.body);
    } finally {
      agent.process.kill('SIGKILL');
    }
  });
});
