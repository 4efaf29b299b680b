// The long-lived `ip -batch` process (kernel/batch-session.ts) on a real kernel: iproute2 keeps
// about 4 KB for every line a batch process runs, so a process that has run its share of lines
// is replaced between batches — the lines all land, a failed line is still mapped to its own
// batch and index, and the old process is gone.
import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BatchSession } from '../kernel/batch-session.js';
import { runOk } from '../kernel/exec.js';
import { scratchNs, type ScratchNs } from './support/scratch-ns.js';
import { until } from './support/until.js';

let ns: ScratchNs;
let session: BatchSession | undefined;
beforeEach(async () => {
  ns = await scratchNs('batch');
});
afterEach(async () => {
  session?.close();
  await ns?.remove();
});

const routes = (from: number, count: number) => Array.from({ length: count }, (_, i) => `route replace 10.1.${from + i}.0/24 dev eth0 proto 199`);
const alive = (pid: number) => readFile(`/proc/${pid}/status`, 'utf8').then((s) => !/^State:\s+Z/m.test(s), () => false);

describe('BatchSession', () => {
  it('replaces a process that has run its share of lines between batches, losing no line and no failure', async () => {
    session = new BatchSession('ip', ['-n', ns.name], 100);
    expect(await session.run(routes(0, 60))).toEqual([]);
    const first = session.pid!;
    // 60 + 1 end line: under the share, the process stays.
    expect(await session.run([...routes(60, 40), 'route replace 10.2.0.0/24 dev nosuchdev proto 199'])).toEqual([{ lineNumber: 41, error: expect.stringMatching(/Cannot find device "nosuchdev"/), code: 'ENODEV' }]);
    // 102 lines run: ended after that batch, the next batch starts a fresh process.
    expect(session.pid).toBeUndefined();
    await until(async () => !(await alive(first)), 5000, 'the old ip -batch exits');
    expect(await session.run(['route replace 10.2.0.0/24 dev nosuchdev proto 199', ...routes(100, 5)])).toEqual([{ lineNumber: 1, error: expect.stringMatching(/Cannot find device "nosuchdev"/), code: 'ENODEV' }]);
    expect(session.pid).not.toBe(first);
    expect(session.pid).toBeDefined();
    const listed = (await runOk('ip', ['-n', ns.name, 'route', 'show', 'proto', '199'])).trim().split('\n');
    expect(listed).toHaveLength(105);
  });
});
