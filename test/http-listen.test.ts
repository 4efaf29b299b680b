// `--http-listen unix:PATH`: a socket left by a killed agent is removed and the path bound
// again; anything else at the path (a regular file, a link) is refused and left untouched.
import { lstat, mkdtemp, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpGet } from '../util/http-client.js';
import { ListenPathError, startHttp, type HttpHandlers } from '../agent/http.js';
import { run } from '../kernel/exec.js';
import { scratchNs } from './support/scratch-ns.js';
import { requireBuiltCli, WREN_MAIN } from './support/built-cli.js';

const FIXTURE = new URL('./fixtures/seed-ipip-cluster.yaml', import.meta.url).pathname;
const handlers: HttpHandlers = { live: () => true, ready: () => ({ ready: true }), status: async () => ({}), registry: new Registry() };

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wren-listen-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('startHttp on a unix socket path', () => {
  it('removes a socket left by a killed process and listens there', async () => {
    const path = join(dir, 'stale.sock');
    // A process killed while listening leaves its socket file behind, as a killed agent does.
    const killed = await run('node', ['-e', `require('node:net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`]).catch((e: Error) => e);
    expect(killed).toMatchObject({ message: expect.stringContaining('killed by SIGKILL') });
    expect((await lstat(path)).isSocket()).toBe(true);
    const http = await startHttp({ path }, handlers);
    try {
      expect(await httpGet({ path }, '/healthz')).toMatchObject({ status: 200, body: 'ok\n' });
    } finally {
      await new Promise((resolve) => http.server.close(resolve));
    }
  });

  it.each([
    { name: 'a regular file', make: (path: string) => writeFile(path, 'not yours\n'), left: (path: string) => readFile(path, 'utf8'), expected: 'not yours\n' },
    { name: 'a symbolic link', make: (path: string) => symlink(join(dir, 'elsewhere'), path), left: (path: string) => readlink(path), expected: '' },
  ])('refuses $name at the path and leaves it as it is', async ({ name, make, left, expected }) => {
    const path = join(dir, `taken-${name.replace(/ /g, '-')}`);
    await make(path);
    const error = await startHttp({ path }, handlers).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ListenPathError);
    expect((error as Error).message).toBe(`--http-listen (WREN_HTTP_LISTEN) unix:${path}: ${name} is there, not a socket: refused (only a socket left by an earlier agent is removed)`);
    expect(await left(path)).toBe(expected || join(dir, 'elsewhere'));
  });
});

describe('wren agent --http-listen unix:FILE', () => {
  it('ends with one line naming the setting, and the file keeps its content', async () => {
    await requireBuiltCli();
    const ns = await scratchNs('listen');
    try {
      const path = join(dir, 'precious.txt');
      await writeFile(path, 'precious\n');
      const result = await run('env', ['NODENAME=minikube-m03', 'node', WREN_MAIN, 'agent', '--snapshot', FIXTURE, '--netns', ns.name, '--http-listen', `unix:${path}`]);
      expect(result.exitCode).toBe(1);
      expect(result.stderr.trim().split('\n')).toEqual([`wren agent: --http-listen (WREN_HTTP_LISTEN) unix:${path}: a regular file is there, not a socket: refused (only a socket left by an earlier agent is removed)`]);
      expect(await readFile(path, 'utf8')).toBe('precious\n');
    } finally {
      await ns.remove();
    }
  });
});
