// The issue's targets, each PASS, FAIL or "not measured" (a size or contender that did not run),
// with the figure it was judged on. Cold-sync targets are judged on medians.
import type { AgentResult, BgpFabricResult, ColdSyncResult, TargetResult } from './results.js';
import type { Summary } from './stats.js';
import { fmtMs } from './format.js';

const LARGE = [10_000, 100_000];
const BIG = 100_000;
const SMALL = 1000;

const missing = (name: string, limit: string, why = 'not measured'): TargetResult => ({ name, value: why, limit, pass: undefined });
const has = (s: Summary | undefined): s is Summary => s !== undefined && s.n > 0 && Number.isFinite(s.median);

function ratioTarget(name: string, limit: number, strict: boolean, num: Summary | undefined, den: Summary | undefined, numError?: string): TargetResult {
  const limitText = `${strict ? '<' : '≤'} ${limit}`;
  if (!has(num)) return missing(name, limitText, numError === undefined ? 'not measured' : `wren failed: ${numError}`);
  if (!has(den)) return missing(name, limitText);
  const ratio = num.median / den.median;
  return { name, value: `${ratio.toFixed(2)} (${fmtMs(num.median)} / ${fmtMs(den.median)} ms)`, limit: limitText, pass: strict ? ratio < limit : ratio <= limit };
}

export function evaluateTargets(cold: readonly ColdSyncResult[], agent: readonly AgentResult[], bgp?: BgpFabricResult): TargetResult[] {
  const out: TargetResult[] = [];
  const encaps = [...new Set(cold.map((c) => c.encap))];
  for (const encap of encaps) {
    for (const size of LARGE) {
      const c = cold.find((r) => r.encap === encap && r.blocks === size);
      out.push(ratioTarget(`cold sync, ${encap}, ${size} blocks: wren / ip -batch floor`, 1.3, false, c?.wren, c?.floor, c?.errors.wren));
      out.push(ratioTarget(`cold sync, ${encap}, ${size} blocks: wren / BIRD`, 1.0, true, c?.wren, c?.bird, c?.errors.wren));
    }
  }
  for (const a of agent) {
    out.push({ name: `one change, ${a.blocks} blocks: p99 (add and delete, n=${a.change.all.n})`, value: `${fmtMs(a.change.all.p99)} ms`, limit: '≤ 10 ms', pass: a.change.all.p99 <= 10 });
  }
  const big = agent.find((a) => a.blocks === BIG);
  const small = agent.find((a) => a.blocks === SMALL);
  const growth = 'one change: p99 at 100,000 / p99 at 1,000';
  if (big === undefined || small === undefined) out.push(missing(growth, '≤ 1.5'));
  else {
    const ratio = big.change.all.p99 / small.change.all.p99;
    out.push({ name: growth, value: `${ratio.toFixed(2)} (${fmtMs(big.change.all.p99)} / ${fmtMs(small.change.all.p99)} ms)`, limit: '≤ 1.5', pass: ratio <= 1.5 });
  }
  for (const a of agent) {
    out.push({ name: `unchanged agent pass, ${a.blocks} blocks: kernel writes`, value: String(a.unchangedPass.kernelLines), limit: '0', pass: a.unchangedPass.kernelLines === 0 });
  }
  for (const c of cold) {
    if (c.unchanged.wall.n > 0) out.push({ name: `unchanged wren apply, ${c.encap}, ${c.blocks} blocks: kernel writes`, value: String(c.unchanged.kernelLines), limit: '0', pass: c.unchanged.kernelLines === 0 });
  }
  const floorBig = cold.find((c) => c.encap === 'vxlan' && c.blocks === BIG)?.floor;
  out.push(ratioTarget('unchanged agent pass (etcd write → pass done), 100,000 blocks: / floor (vxlan)', 0.1, false, big?.unchangedPass.wholeMs, floorBig));
  for (const encap of encaps) {
    const c = cold.find((r) => r.encap === encap && r.blocks === BIG);
    out.push(ratioTarget(`unchanged wren apply, ${encap}, 100,000 blocks: / floor`, 0.1, false, c?.unchanged.wall, c?.floor, c?.errors.wren));
  }
  for (const a of agent) {
    out.push({ name: `drift repair, ${a.blocks} blocks: p99 (n=${a.drift.n})`, value: `${fmtMs(a.drift.p99)} ms`, limit: '≤ 50 ms', pass: a.drift.p99 <= 50 });
  }
  const idleName = 'idle CPU, 100,000 blocks: % of one core';
  if (big?.idle === undefined) out.push(missing(idleName, '< 1%'));
  else {
    const percent = (big.idle.agentCpuS / big.idle.seconds) * 100;
    out.push({ name: idleName, value: `${percent.toFixed(2)}% (${big.idle.agentCpuS.toFixed(2)} CPU-s in ${big.idle.seconds} s, ${big.idle.agentPasses} pass(es))`, limit: '< 1%', pass: percent < 1 });
  }
  const rssName = 'agent peak RSS (VmHWM), 100,000 blocks';
  if (big === undefined) out.push(missing(rssName, '≤ 100 MB'));
  else out.push({ name: rssName, value: `${big.agentHwmMb.toFixed(0)} MB`, limit: '≤ 100 MB', pass: big.agentHwmMb <= 100 });
  // Issue #18: a block's change reaches the fabric within 1 s at p99.
  for (const [what, l] of [['new block', bgp?.add], ['withdrawal', bgp?.withdraw]] as const) {
    const name = `BGP: ${what}, etcd → the router's kernel: p99${l === undefined ? '' : ` (n=${l.n})`}`;
    out.push(l === undefined ? missing(name, '≤ 1 s') : { name, value: `${fmtMs(l.p99)} ms`, limit: '≤ 1 s', pass: l.p99 <= 1000 });
  }
  return out;
}
