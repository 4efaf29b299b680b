// The agent's watch on wren's NAT tables (agent/nat-watch.ts) on a real kernel: `nft -j monitor`
// in a namespace turns a change to wren's table — and only to wren's — into a 'kernel-nat' pass;
// a monitor that cannot run is restarted with backoff, said once as a warning, then quietly.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { watchNat } from '../agent/nat-watch.js';
import { runOk } from '../kernel/exec.js';
import { scratchNs, type ScratchNs } from './support/scratch-ns.js';
import { until } from './support/until.js';

let ns: ScratchNs | undefined;
const stops: (() => void)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) stop();
  await ns?.remove();
  ns = undefined;
});

function capture() {
  const lines: { level: number; msg: string; reason?: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line) as (typeof lines)[number]);
      done();
    },
  });
  return { lines, log: pino({ level: 'debug' }, sink) };
}

describe('the NAT watch', () => {
  it("a change to wren's table asks for a pass; other tables' changes do not", async () => {
    ns = await scratchNs('natwatch');
    const nft = (...args: string[]) => runOk('ip', ['netns', 'exec', ns!.name, 'nft', ...args]);
    const reasons: string[] = [];
    const { log } = capture();
    const watch = watchNat(ns.name, { markDirty: (reason) => reasons.push(reason) }, log);
    stops.push(() => watch.stop());
    await new Promise((r) => setTimeout(r, 300)); // the monitor is listening
    await nft('add', 'table', 'inet', 'filter');
    await nft('add', 'table', 'ip', 'nat');
    await nft('add', 'table', 'inet', 'wren-nat'); // wren's name, not wren's family
    await new Promise((r) => setTimeout(r, 300));
    expect(reasons).toEqual([]);
    await nft('add', 'table', 'ip', 'wren-nat');
    await until(() => reasons.length > 0, 2000, 'an event for wren\'s table');
    const seen = reasons.length;
    await nft('add', 'table', 'ip6', 'wren-nat');
    await until(() => reasons.length > seen, 2000, 'an event for the ip6 table');
    expect(new Set(reasons)).toEqual(new Set(['kernel-nat']));
  });

  it('a monitor that cannot run: a pass to re-read, one warning, then debug lines as it is retried with backoff', async () => {
    const reasons: string[] = [];
    const { lines, log } = capture();
    const watch = watchNat('wren-t-no-such-namespace', { markDirty: (reason) => reasons.push(reason) }, log);
    stops.push(() => watch.stop());
    await until(() => lines.length >= 2, 5000, 'a second end');
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [40, 'nft monitor stopped; NAT tables read again and the monitor restarted'],
      [20, 'nft monitor stopped; NAT tables read again and the monitor restarted'],
    ]);
    expect(lines[0]?.reason).toMatch(/^nft monitor exited/);
    expect(reasons).toEqual(['kernel-nat', 'kernel-nat']);
  });
});
