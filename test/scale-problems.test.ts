// A valid dump whose blocks lend 200,000 addresses to nodes that do not exist. Before, one
// `push(...list)` of that many problems threw "Maximum call stack size exceeded" (Node 20
// overflows above about 125,000 arguments) and `wren routes` crashed; now it routes the blocks
// and prints the problems as a count per reason with three examples each, not 200,000 lines.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snapshotObjects } from '../calico/objects/snapshot-render.js';
import { run } from '../kernel/exec.js';
import type { IpamBlock } from '../routing/cluster.js';
import { WREN_MAIN, requireBuiltCli } from './support/built-cli.js';
import { block, node, pool } from './support/seed-cluster.js';

const BLOCKS = 4000;
const BORROWED_PER_BLOCK = 50;
const BORROWED = BLOCKS * BORROWED_PER_BLOCK; // 200,000

/** Block i of 10.0.0.0/8 in /26s: 10.0.0.0, 10.0.0.64, … */
function blockCidr(i: number): string {
  const base = i * 64;
  return `10.${(base >> 16) & 255}.${(base >> 8) & 255}.${base & 255}/26`;
}

let dir: string;
let file: string;
beforeAll(async () => {
  await requireBuiltCli();
  dir = await mkdtemp(join(tmpdir(), 'wren-scale-'));
  file = join(dir, 'cluster.json');
  // Each block is the existing peer's; ordinals 1..50 lent to nodes nobody registered.
  const blocks: IpamBlock[] = Array.from({ length: BLOCKS }, (_, i) =>
    block(blockCidr(i), 'peer', Array.from({ length: BORROWED_PER_BLOCK }, (_, k): [number, string] => [k + 1, `ghost-${i}-${k}`])),
  );
  const snapshot = { pools: [pool({}, '10.0.0.0/8')], nodes: [node('me', '172.16.0.2/16'), node('peer', '172.16.0.3/16')], blocks, affinities: [], workloads: [] };
  await writeFile(file, JSON.stringify({ apiVersion: 'v1', items: snapshotObjects(snapshot), kind: 'List', metadata: { resourceVersion: '' } }));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('wren routes on 200,000 addresses lent to nodes that do not exist', () => {
  it('routes every block and counts the problems per reason', async () => {
    const started = performance.now();
    const result = await run('node', [WREN_MAIN, 'routes', '--node', 'me', '--snapshot', file]);
    const seconds = (performance.now() - started) / 1000;
    expect(result.stderr).not.toMatch(/Maximum call stack/);
    expect(result.exitCode).toBe(0);
    // Every block of the peer routed directly; no ghost's address routed anywhere.
    const routes = result.stdout.trim().split('\n');
    expect(routes).toHaveLength(BLOCKS);
    expect(routes[0]).toBe('10.0.0.0/26 via 172.16.0.3 dev eth0 proto 199 onlink');
    // stderr: per reason up to three problems and one "… and N more" line, adding up to them all.
    const lines = result.stderr.trim().split('\n');
    expect(lines.length).toBeLessThanOrEqual(4 * 14);
    const listed = lines.filter((l) => !l.startsWith('warning: … and ')).length;
    const more = lines.map((l) => /^warning: … and (\d+) more [a-z-]+$/.exec(l)?.[1]).reduce((n, m) => n + Number(m ?? 0), 0);
    expect(listed + more).toBeGreaterThanOrEqual(BORROWED);
    expect(lines.some((l) => /^warning: IPAMBlock\/10-0-0-0-26 .*ghost-0-0/.test(l))).toBe(true);
    // Measured on the 2-core test machine: 1.0-1.8 s; the bound leaves room for a loaded one.
    expect(seconds).toBeLessThan(30);
  }, 60_000);
});
