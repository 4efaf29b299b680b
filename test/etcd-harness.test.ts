// The etcd harness against a real etcd: start, stop, kill -9, restart on the same data and ports,
// compaction, and nothing left behind (no process, no temp dir), also when a start fails.
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { run } from '../kernel/exec.js';
import { startEtcdServer } from '../lab/etcd-server.js';
import { startTestEtcd } from './support/etcd-harness.js';
import { scratchNs } from './support/scratch-ns.js';

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function value(server: { etcdctl(args: readonly string[]): Promise<string> }, key: string): Promise<string> {
  return (await server.etcdctl(['get', key, '--print-value-only'])).trim();
}

describe('etcd harness', () => {
  it('starts on 127.0.0.1 with free ports, stops, restarts on the same data, and destroy leaves nothing', async () => {
    const server = await startTestEtcd();
    expect(server.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.lastStartMs).toBeLessThan(5_000);
    const pid = server.pid;
    expect(alive(pid)).toBe(true);
    await server.etcdctl(['put', '/calico/harness', 'one']);

    await server.stop();
    expect(server.pid).toBeUndefined();
    expect(alive(pid)).toBe(false);
    expect(existsSync(server.dataDir)).toBe(true);

    const endpoint = server.endpoint;
    await server.restart();
    expect(server.endpoint).toBe(endpoint);
    expect(await value(server, '/calico/harness')).toBe('one');

    const restartedPid = server.pid;
    await server.destroy();
    expect(alive(restartedPid)).toBe(false);
    expect(existsSync(server.dir)).toBe(false);
    expect((await run('pgrep', ['-f', server.dir])).stdout).toBe('');
    await server.destroy(); // A second destroy (as the harness's cleanup does) is harmless.
  });

  it('kill -9 keeps the data dir, and a restart has every acknowledged write at the same revision', async () => {
    const server = await startTestEtcd();
    for (const n of [1, 2, 3]) await server.etcdctl(['put', `/calico/k${n}`, `v${n}`]);
    const revision = await server.revision();
    const pid = server.pid;

    await server.kill();
    expect(alive(pid)).toBe(false);
    expect(existsSync(server.dataDir)).toBe(true);

    await server.restart();
    expect(await server.revision()).toBe(revision);
    expect(await value(server, '/calico/k3')).toBe('v3');
  });

  it('compact() makes older revisions unreadable and returns the revision it compacted to', async () => {
    const server = await startTestEtcd();
    await server.etcdctl(['put', '/calico/c', 'old']);
    const old = await server.revision();
    await server.etcdctl(['put', '/calico/c', 'new']);
    await server.etcdctl(['put', '/calico/c', 'newer']);

    expect(await server.compact(old + 1)).toBe(old + 1);
    await expect(server.etcdctl(['get', '/calico/c', `--rev=${old}`])).rejects.toThrow(/compacted/);
    expect(await server.compact()).toBe(await server.revision());
    await expect(server.etcdctl(['get', '/calico/c', `--rev=${old + 1}`])).rejects.toThrow(/compacted/);
    expect(await value(server, '/calico/c')).toBe('newer');
  });

  it('runs servers side by side on distinct ports', async () => {
    const [a, b] = await Promise.all([startTestEtcd({ name: 'side-a' }), startTestEtcd({ name: 'side-b' })]);
    expect(a.endpoint).not.toBe(b.endpoint);
    await a.etcdctl(['put', '/calico/where', 'a']);
    expect(await value(b, '/calico/where')).toBe('');
  });

  it('listens on a given address inside a network namespace through a launcher', async () => {
    const ns = await scratchNs('etcd', '172.16.31.6/24');
    onTestFinished(() => ns.remove());
    const server = await startTestEtcd({ host: '172.16.31.6', launcher: ['ip', 'netns', 'exec', ns.name] });
    expect(server.endpoint).toBe('http://172.16.31.6:2379');

    await server.etcdctl(['put', '/calico/in-ns', 'yes']);
    expect(await value(server, '/calico/in-ns')).toBe('yes');
    const listening = (await run('ip', ['netns', 'exec', ns.name, 'ss', '-Hltn'])).stdout;
    expect(listening.split('\n').filter((l) => l.trim() !== '').map((l) => l.split(/\s+/)[3]).sort()).toEqual(['172.16.31.6:2379', '172.16.31.6:2380']);

    await server.kill();
    await server.restart();
    expect(await value(server, '/calico/in-ns')).toBe('yes');
  });

  it('refuses a wildcard address, and a failed start names the endpoint and leaves no temp dir', async () => {
    await expect(startEtcdServer({ host: '0.0.0.0' })).rejects.toThrow(/wildcard/);

    const parentDir = await mkdtemp(join(tmpdir(), 'wren-etcd-fail-'));
    onTestFinished(() => rm(parentDir, { recursive: true, force: true }));
    const holder = await startTestEtcd();
    const taken = Number(new URL(holder.endpoint).port);
    const start = startEtcdServer({ parentDir, clientPort: taken, peerPort: taken + 1 });
    await expect(start).rejects.toThrow(new RegExp(`http://127\\.0\\.0\\.1:${taken} exited during start-up[\\s\\S]*address already in use`));
    expect(await readdir(parentDir)).toEqual([]);
  });
});
