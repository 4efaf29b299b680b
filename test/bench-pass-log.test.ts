// How the benchmark follows an agent's passes without asking the agent: its log file, read as it
// grows, from where it stood when the tail began.
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PassLogTail } from '../bench/pass-log.js';

const pass = (ms: number, reason: string) => `{"level":20,"time":"2026-11-24T20:43:25.927Z","mode":"incremental","reasons":["${reason}"],"changes":1,"ms":${ms},"msg":"pass applied"}\n`;
let dir: string | undefined;
afterEach(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('pass log tail', () => {
  it('returns only the passes logged since the last read, whole lines only, other lines skipped', async () => {
    dir = await mkdtemp(join(tmpdir(), 'wren-passlog-'));
    const log = join(dir, 'agent.log');
    await writeFile(log, pass(9, 'start'));
    const tail = await PassLogTail.fromEnd(log);
    try {
      expect(await tail.read()).toEqual([]);
      const half = pass(1.5, 'datastore');
      await appendFile(log, `{"level":30,"msg":"etcd watch resumed"}\n[123:0x1]  40 ms: Scavenge 1.0 (2.0) -> 0.5 (2.0) MB\n${half.slice(0, 40)}`);
      expect(await tail.read()).toEqual([]);
      await appendFile(log, `${half.slice(40)}${pass(0.3, 'kernel-route')}`);
      const read = await tail.read();
      expect(read.map((p) => [p.ms, p.reasons[0]])).toEqual([
        [1.5, 'datastore'],
        [0.3, 'kernel-route'],
      ]);
      expect(read[0]?.endedAt).toBe(Date.parse('2026-11-24T20:43:25.927Z'));
      expect(await tail.read()).toEqual([]);
    } finally {
      await tail.close();
    }
  });
});
