// A MTU file that cannot be written is a reported problem, not a failed pass: the loop's passes
// succeed, the routes land, the failure is logged once (path and code), shown in /status and as
// a metric, and the write is retried until it works. On a real kernel in a scratch namespace,
// and with the agent's process on a directory that is a read-only mount.
import { Writable } from 'node:stream';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { httpGet } from '../util/http-client.js';
import { ReconcileLoop } from '../agent/loop.js';
import { DEFAULT_LOOP_OPTIONS } from '../agent/loop-types.js';
import type { DataplaneConfig } from '../agent/node-plan.js';
import { renderSnapshotFile } from '../calico/objects/snapshot-render.js';
import { run, spawn } from '../kernel/exec.js';
import { IpKernel } from '../kernel/kernel.js';
import { MAIN_TABLE } from '../kernel/state.js';
import { MemorySource } from './support/memory-source.js';
import { scratchNs } from './support/scratch-ns.js';
import { seedCluster } from './support/seed-cluster.js';
import { until } from './support/until.js';
import { requireBuiltCli, WREN_MAIN } from './support/built-cli.js';

const config: DataplaneConfig = { nodeName: 'minikube', proto: 199, table: MAIN_TABLE, vxlan: { vni: 4096, port: 4789 } };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function scratchDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wren-mtu-problem-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A pino logger whose events land in `lines`, as the agent's would on stdout. */
function capturedLog(lines: Record<string, unknown>[]) {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return pino({ level: 'info' }, sink);
}

describe('the MTU file in the loop', () => {
  it('an unwritable path leaves every pass successful, is logged once, shown, retried, and written once it can be', async () => {
    const ns = await scratchNs('mtuf');
    cleanups.push(() => ns.remove());
    const kernel = new IpKernel(ns.name, { persistent: true });
    cleanups.push(async () => kernel.close());
    const dir = await scratchDir();
    const blocker = join(dir, 'calico');
    await writeFile(blocker, 'a file where the directory should be\n');
    const path = join(blocker, 'mtu');
    const source = new MemorySource(seedCluster({ vxlan: 'Always' }), true);
    const lines: Record<string, unknown>[] = [];
    const errors: unknown[] = [];
    const loop = new ReconcileLoop(kernel, source, config, capturedLog(lines), { ...DEFAULT_LOOP_OPTIONS, mtuFile: path }, { onPass: (_r, e) => errors.push(e) });
    cleanups.push(() => loop.stop());
    loop.start();
    const owned = async () => (await kernel.readRoutes(MAIN_TABLE)).filter((r) => r.proto === 199).length;
    await until(async () => (await owned()) === 3 && errors.length >= 1 && !loop.status().running);
    for (let i = 0; i < 3; i++) {
      const before = errors.length;
      loop.markDirty('resync');
      await until(() => errors.length > before && !loop.status().running);
    }

    expect(errors.every((e) => e === undefined)).toBe(true);
    const status = loop.status();
    expect(status.lastError).toBeUndefined();
    expect(status.lastSuccessAt).toBeDefined();
    expect(status.mtuFile).toEqual({ path, mtu: 1450, code: 'ENOTDIR', error: `--mtu-file (WREN_MTU_FILE) ${path}: cannot look at it: ENOTDIR`, failedWrites: errors.length });
    const warnings = lines.filter((l) => l.msg === 'cannot write the MTU file; routing goes on, retrying on later passes');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40, path, mtu: 1450, code: 'ENOTDIR' });
    expect(lines.filter((l) => l.msg === 'pass failed')).toEqual([]);

    await rm(blocker);
    await mkdir(blocker);
    const before = errors.length;
    loop.markDirty('resync');
    await until(() => errors.length > before && !loop.status().running);
    expect(await readFile(path, 'utf8')).toBe('1450\n');
    expect(loop.status().mtuFile).toEqual({ path, mtu: 1450, code: null, error: null, failedWrites: before });
    expect(lines.filter((l) => l.msg === 'MTU file written again')).toEqual([expect.objectContaining({ path, mtu: 1450 })]);

    // Changed by hand: the next full or resync pass puts it right.
    await writeFile(path, '9000\n');
    const beforeResync = errors.length;
    loop.markDirty('resync');
    await until(() => errors.length > beforeResync && !loop.status().running);
    expect(await readFile(path, 'utf8')).toBe('1450\n');
  });
});

describe('the agent with its MTU file on a read-only mount', () => {
  beforeAll(async () => {
    await requireBuiltCli();
  });

  it('is ready, routes, and says EROFS on /status and /metrics', async () => {
    const ns = await scratchNs('mturo');
    cleanups.push(() => ns.remove());
    const dir = await scratchDir();
    const readOnly = join(dir, 'calico');
    await mkdir(readOnly);
    const file = join(dir, 'cluster.yaml');
    await writeFile(file, renderSnapshotFile(seedCluster({ vxlan: 'Always' })));
    const listen = { path: join(dir, 'agent.sock') };
    // The read-only tmpfs exists only in the agent's own mount namespace (unshare -m: private
    // propagation), so nothing of it outlives the process, even when the test fails.
    const script = 'mount -t tmpfs -o ro,size=64k wren-test "$0" && exec "$@"';
    const agent = spawn('ip', ['netns', 'exec', ns.name, 'unshare', '-m', 'sh', '-c', script, readOnly, 'node', WREN_MAIN, 'agent', '--snapshot', file, '--http-listen', `unix:${listen.path}`, '--mtu-file', join(readOnly, 'mtu')], {
      env: { NODENAME: 'minikube', PATH: process.env.PATH ?? '' },
    });
    cleanups.push(async () => {
      agent.process.kill('SIGKILL');
      await agent.process.catch(() => undefined);
    });
    let logs = '';
    agent.process.stdout?.on('data', (d: Buffer) => (logs += d.toString()));

    await until(async () => (await httpGet(listen, '/readyz')).status === 200, 15_000, 'ready');
    const owned = (await new IpKernel(ns.name).readRoutes(MAIN_TABLE)).filter((r) => r.proto === 199).map((r) => r.dst).sort();
    expect(owned).toEqual(['10.244.120.64/26', '10.244.151.0/26', '10.244.205.192/26']);
    const status = JSON.parse((await httpGet(listen, '/status')).body) as { lastError: string | null; mtuFile: unknown };
    expect(status.lastError).toBeNull();
    expect(status.mtuFile).toMatchObject({ path: join(readOnly, 'mtu'), mtu: 1450, code: 'EROFS', error: `--mtu-file (WREN_MTU_FILE) ${join(readOnly, 'mtu')}: cannot write it: EROFS` });
    const metrics = (await httpGet(listen, '/metrics')).body;
    expect(metrics).toContain('wren_mtu_file_ok 0');
    expect(metrics).toMatch(/^wren_mtu_file_write_errors_total [1-9]/m);
    expect(metrics).toContain('wren_passes_total{outcome="success"}');
    expect(metrics).not.toContain('wren_passes_total{outcome="failure"}');
    const human = await run('node', [WREN_MAIN, 'status', '--http-listen', `unix:${listen.path}`]);
    expect(human.stdout).toContain(`  mtu file    NOT WRITTEN: --mtu-file (WREN_MTU_FILE) ${join(readOnly, 'mtu')}: cannot write it: EROFS (`);
    const events = logs.trim().split('\n').map((l) => JSON.parse(l) as { msg: string; code?: string });
    expect(events.filter((e) => e.msg.startsWith('cannot write the MTU file'))).toEqual([expect.objectContaining({ code: 'EROFS' })]);
    // Nothing reached the directory outside the agent's namespace either.
    expect(await readFile(join(readOnly, 'mtu'), 'utf8').catch((e: NodeJS.ErrnoException) => e.code)).toBe('ENOENT');
  });
});
