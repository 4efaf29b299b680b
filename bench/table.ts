// The results as Markdown, for the terminal and for pasting into the README.
import { fmtCount, fmtLatency, fmtMb, fmtMs, fmtSummary } from './format.js';
import type { BenchResults, BurstResult, ColdSyncResult } from './results.js';

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  return [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function ratio(a: number, b: number): string {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? (a / b).toFixed(2) : '–';
}

function wrenCell(c: ColdSyncResult): string {
  return c.errors.wren === undefined ? fmtSummary(c.wren) : `FAILED: ${c.errors.wren.slice(0, 80)}`;
}

export function renderMarkdown(r: BenchResults): string {
  const out: string[] = [];
  const m = r.machine;
  out.push(`## wren benchmark — ${r.startedAt}`, '');
  out.push(`Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB RAM; Linux ${m.kernel}; Node ${m.node}; ${m.iproute2}; ${m.bird}; ${m.etcd}. Run took ${Math.round(r.durationS)} s.`, '');
  out.push('Times in ms: median (min–max) over repetitions; latencies p50 / p99. Sizes are remote /26 blocks; routes add the 4 local blackholes and 250 pod /32s.', '');

  if (r.coldSync.length > 0) {
    out.push('### Cold sync: empty namespace → kernel converged', '');
    out.push(table(
      ['encap', 'blocks', 'routes (lines)', 'reps', 'wren apply', 'ip -batch floor', 'ip -batch, cluster order', 'BIRD 2', 'one ip per route (extrapolated)', 'wren / floor', 'wren / BIRD', "wren's own pass", 'wren apply peak RSS MB', 'BIRD RSS MB'],
      r.coldSync.map((c) => [
        c.encap, fmtCount(c.blocks), `${fmtCount(c.routes)} (${fmtCount(c.lines)})`, String(Math.max(c.wren.n, c.floor.n)), wrenCell(c), fmtSummary(c.floor),
        c.errors['floor-cluster-order'] === undefined ? fmtSummary(c.floorClusterOrder) : `FAILED: ${c.errors['floor-cluster-order'].slice(0, 60)}`,
        c.bird === undefined ? (c.errors.bird ?? 'not run') : c.errors.bird === undefined ? fmtSummary(c.bird) : `FAILED: ${c.errors.bird.slice(0, 60)}`,
        c.naiveExtrapolated === undefined ? '–' : `${fmtSummary(c.naiveExtrapolated)} (${fmtMs(c.naiveMsPerRoute?.median ?? Number.NaN)} ms/route)`,
        ratio(c.wren.median, c.floor.median), ratio(c.wren.median, c.bird?.median ?? Number.NaN), fmtSummary(c.wrenPass), fmtSummary(c.wrenPeakRssMb, '', fmtMb), fmtSummary(c.birdRssMb, '', fmtMb),
      ]),
    ), '');
    out.push('### Unchanged `wren apply` (second run on the converged kernel)', '');
    out.push(table(
      ['encap', 'blocks', 'wall', "wren's own pass", 'kernel writes', 'wall / floor'],
      r.coldSync.map((c) => [c.encap, fmtCount(c.blocks), fmtSummary(c.unchanged.wall), fmtSummary(c.unchanged.pass), c.unchanged.wall.n === 0 ? '–' : String(c.unchanged.kernelLines), ratio(c.unchanged.wall.median, c.floor.median)]),
    ), '');
  }

  if (r.agent.length > 0) {
    out.push('### `wren agent` on etcd (VXLAN)', '');
    out.push(table(
      ['blocks', 'start → converged', 'one change: add p50 / p99', 'delete p50 / p99', 'changes n', 'drift repair p50 / p99 (n)', 'unchanged pass: metrics', 'etcd write → pass done', 'pass CPU', 'kernel writes'],
      r.agent.map((a) => [
        fmtCount(a.blocks), fmtMs(a.startMs), fmtLatency(a.change.add), fmtLatency(a.change.del), `${a.change.add.n} + ${a.change.del.n}`, `${fmtLatency(a.drift)} (${a.drift.n})`,
        fmtSummary(a.unchangedPass.passMs), fmtSummary(a.unchangedPass.wholeMs), fmtSummary(a.unchangedPass.cpuMs), String(a.unchangedPass.kernelLines),
      ]),
    ), '');
    out.push('### Idle and memory', '');
    const per60 = (cpu: number, seconds: number) => ((cpu / seconds) * 60).toFixed(2);
    const percent = (cpu: number, seconds: number) => ((cpu / seconds) * 100).toFixed(2);
    out.push(table(
      ['blocks', 'window (agent passes in it)', 'agent CPU-s per 60 s', 'agent % of a core', 'BIRD CPU-s per 60 s', 'BIRD % of a core', 'agent VmHWM / VmRSS MB', 'BIRD VmHWM MB'],
      r.agent.map((a) => {
        const i = a.idle;
        return [
          fmtCount(a.blocks), i === undefined ? '–' : `${i.seconds} s (${i.agentPasses})${i.firstResyncMs === undefined ? '' : `, after the first resync (${Math.round(i.firstResyncMs)} ms)`}`, i === undefined ? '–' : per60(i.agentCpuS, i.seconds), i === undefined ? '–' : percent(i.agentCpuS, i.seconds),
          i?.birdCpuS === undefined ? '–' : per60(i.birdCpuS, i.seconds), i?.birdCpuS === undefined ? '–' : percent(i.birdCpuS, i.seconds),
          `${fmtMb(a.agentHwmMb)} / ${fmtMb(a.agentRssMb)}`, a.birdHwmMb === undefined ? '–' : fmtMb(a.birdHwmMb),
        ];
      }),
    ), '');
  }

  const loads = [
    ...r.agent.flatMap((a) => (a.load === undefined ? [] : [{ blocks: a.blocks, startHwmMb: a.agentHwmMb, load: a.load }])),
    ...r.statusLoad.map((s) => ({ blocks: s.blocks, startHwmMb: s.startHwmMb, load: s.load })),
  ];
  if (loads.length > 0) {
    out.push('### Memory under concurrent /status and /metrics', '');
    const burst = (b: BurstResult) => [`${fmtMb(b.peakMb)} (${fmtMb(b.treePeakMb)})`, fmtMs(b.ms), fmtCount(b.bytes)];
    out.push(table(
      ['blocks', 'start peak MB (with ip children)', 'idle RSS MB', 'requests', '/status peak MB (with ip children)', '/status burst ms', '/status bytes', 'computations', '/metrics peak MB (with ip children)', '/metrics burst ms', '/metrics bytes'],
      loads.map(({ blocks, startHwmMb, load }) => [
        fmtCount(blocks), `${fmtMb(startHwmMb)} (${fmtMb(load.startTreePeakMb)})`, fmtMb(load.idleRssMb), String(load.concurrency), ...burst(load.status), String(load.status.computations), ...burst(load.metrics),
      ]),
    ), '');
  }

  if (r.bgp !== undefined) {
    const b = r.bgp;
    out.push('### BGP to the fabric: etcd → the router\'s kernel (BIRD on the node and the router)', '');
    out.push(table(
      ['blocks n', 'new block p50 / p99', 'withdrawal p50 / p99', 'session up after start', 'agent VmRSS / VmHWM MB', 'node\'s BIRD VmRSS / VmHWM MB', 'router\'s BIRD VmRSS MB'],
      [[String(b.add.n), fmtLatency(b.add), fmtLatency(b.withdraw), fmtMs(b.sessionMs), `${fmtMb(b.agentRssMb)} / ${fmtMb(b.agentHwmMb)}`, `${fmtMb(b.birdRssMb)} / ${fmtMb(b.birdHwmMb)}`, b.routerBirdRssMb === undefined ? '–' : fmtMb(b.routerBirdRssMb)]],
    ), '');
  }

  out.push('### Targets', '');
  out.push(table(['target', 'measured', 'limit', 'result'], r.targets.map((t) => [t.name, t.value, t.limit, t.pass === undefined ? 'not measured' : t.pass ? 'PASS' : 'FAIL'])), '');
  if (r.notes.length > 0) out.push(['### Notes', '', ...r.notes.map((n) => `- ${n}`), ''].join('\n'));
  return out.join('\n');
}
