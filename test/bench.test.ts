// The benchmark itself, at a small size, so it cannot rot: every scenario runs (cold sync with
// wren, the ip -batch floor, BIRD when installed and the naive agent; one change, drift repair,
// the unchanged pass, idle cost and memory against a real agent on a real etcd; with BIRD, BGP to
// the fabric: blocks announced to and withdrawn from a router's kernel) and produces sane figures. The targets are not asserted: they are what the benchmark measures.
import { describe, expect, it } from 'vitest';
import { FULL, type BenchOptions } from '../bench/options.js';
import { birdInstalled } from '../bench/contenders/bird.js';
import { silentProgress } from '../bench/progress.js';
import { runBenchmark } from '../bench/run.js';
import { renderMarkdown } from '../bench/table.js';
import { listNetns } from '../lab/topology/index.js';
import { requireBuiltCli } from './support/built-cli.js';


const SMALL: BenchOptions = {
  ...FULL,
  sizes: [1000],
  encaps: ['vxlan'],
  reps: 1,
  repsLarge: 1,
  changes: 20,
  changeBudgetS: 60,
  minChanges: 20,
  unchangedReps: 2,
  idleSeconds: 3,
  idleSizes: [1000],
  naiveSample: 50,
  naiveReps: 1,
  bgpChanges: 5,
};

describe('npm run bench, at 1,000 blocks', () => {
  it('runs every scenario and every figure is sane', async () => {
    await requireBuiltCli();
    const before = new Set(await listNetns());
    const bird = await birdInstalled();
    const r = await runBenchmark(SMALL, silentProgress);

    expect(r.coldSync).toHaveLength(1);
    const cold = r.coldSync[0]!;
    expect(cold.errors).toEqual({});
    expect(cold.routes).toBe(1000 + 4 + 250);
    expect(cold.lines).toBeGreaterThan(cold.routes);
    for (const s of [cold.wren, cold.wrenPass, cold.floor, cold.floorClusterOrder, cold.unchanged.wall]) {
      expect(s.n).toBe(1);
      expect(s.median).toBeGreaterThan(0);
    }
    expect(cold.unchanged.kernelLines).toBe(0);
    expect(cold.naiveMsPerRoute?.median).toBeGreaterThan(0);
    if (bird) {
      expect(cold.bird?.n).toBe(1);
      expect(cold.bird?.median).toBeGreaterThan(0);
      expect(cold.birdRssMb?.median).toBeGreaterThan(0);
    }

    expect(r.agent).toHaveLength(1);
    const agent = r.agent[0]!;
    expect(agent.startMs).toBeGreaterThan(0);
    for (const l of [agent.change.add, agent.change.del, agent.drift]) {
      expect(l.n).toBe(20);
      expect(l.p50).toBeGreaterThan(0);
      expect(l.p99).toBeGreaterThanOrEqual(l.p50);
    }
    expect(agent.unchangedPass.kernelLines).toBe(0);
    expect(agent.unchangedPass.passMs.n).toBe(2);
    expect(agent.unchangedPass.passMs.median).toBeGreaterThan(0);
    expect(agent.unchangedPass.wholeMs.median).toBeGreaterThanOrEqual(agent.unchangedPass.passMs.min);
    expect(agent.idle?.seconds).toBe(3);
    expect(agent.idle?.agentCpuS).toBeGreaterThanOrEqual(0);
    if (bird) expect(agent.idle?.birdCpuS).toBeGreaterThanOrEqual(0);
    expect(agent.agentHwmMb).toBeGreaterThan(10);
    // 30 concurrent /status three times, more than the reuse window apart: one computation each.
    expect(agent.load?.status.computations).toBe(3);
    for (const burst of [agent.load?.status, agent.load?.metrics]) {
      expect(burst?.peakMb).toBeGreaterThan(10);
      expect(burst?.treePeakMb).toBeGreaterThanOrEqual(burst?.rssAfterMb ?? Number.NaN);
      expect(burst?.bytes).toBeGreaterThan(100);
    }
    expect(renderMarkdown(r)).toContain('### Memory under concurrent /status and /metrics');

    if (bird) {
      expect(r.bgp?.add.n).toBe(5);
      expect(r.bgp?.withdraw.n).toBe(5);
      expect(r.bgp?.add.p50).toBeGreaterThan(0);
      expect(r.bgp?.withdraw.p99).toBeGreaterThanOrEqual(r.bgp?.withdraw.p50 ?? Number.NaN);
      expect(r.bgp?.birdRssMb).toBeGreaterThan(0.5);
      expect(renderMarkdown(r)).toContain('### BGP to the fabric');
    }

    expect(r.targets.length).toBeGreaterThan(5);
    expect(r.targets.some((t) => t.pass !== undefined)).toBe(true);
    expect(renderMarkdown(r)).toContain('| vxlan | 1,000 |');
    // Everything it made is gone (its own stem: other runs may share the machine).
    expect((await listNetns()).filter((n) => n.startsWith(`${r.stem}-`) && !before.has(n))).toEqual([]);
  }, 150_000);
});
