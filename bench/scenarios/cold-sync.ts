// Scenario 1, cold sync: an empty node namespace to a converged kernel, for wren, the
// `ip -batch` floor and BIRD, each repetition of each in a namespace made just for it (the
// naive one-process-per-route agent is measured once per encapsulation: naiveCost). Scenario 3's
// `wren apply` half runs here too: a second `wren apply` on wren's converged namespace, with
// `ip monitor` proving it wrote nothing.
//
// A contender that fails (wren running out of memory, BIRD missing) is recorded with its reason
// and the others still run.
import { join } from 'node:path';
import { buildCluster, LOCAL_NODE, type BenchCluster, type Encap } from '../cluster.js';
import { MonitorOverrun, setUpNonRoutes, startBird } from '../contenders/bird.js';
import { runPhases } from '../contenders/floor.js';
import { naivePerRoute } from '../contenders/naive.js';
import { wrenApply } from '../contenders/wren-apply.js';
import { countRoutes } from '../kernel-routes.js';
import { netnsName } from '../names.js';
import { createNodeNs, type NodeNs } from '../node-ns.js';
import type { Progress } from '../progress.js';
import { waitQuiet } from '../quiet.js';
import type { ColdSyncResult } from '../results.js';
import { RouteMonitor } from '../route-monitor.js';
import { writeSnapshotJson } from '../snapshot-json.js';
import { summarize, type Summary } from '../stats.js';
import { planFor } from '../wren-lines.js';

export interface ColdSyncOptions {
  readonly stem: string;
  readonly workDir: string;
  readonly encap: Encap;
  readonly blocks: number;
  readonly blocksPerNode: number;
  readonly pods: number;
  readonly reps: number;
  /** False when BIRD is not installed or not wanted. */
  readonly bird: boolean;
  /** Naive agent's per-route cost, measured once per encapsulation and passed in. */
  readonly naiveMsPerRoute?: Summary;
}

const MB = 1024;
const BIRD_TIMEOUT_MS = 120_000;

async function inFreshNs<T>(stem: string, label: string, cluster: BenchCluster, body: (ns: NodeNs) => Promise<T>): Promise<T> {
  const ns = await createNodeNs(netnsName(stem, label), cluster.localCidr, cluster.localIfaces);
  try {
    return await body(ns);
  } finally {
    await ns.remove();
  }
}

async function expectRoutes(netns: string, proto: number | 'bird', expected: number, who: string): Promise<void> {
  const n = await countRoutes(netns, proto);
  if (n !== expected) throw new Error(`${who}: ${n} routes in the kernel, expected ${expected}`);
}

interface Samples {
  wren: number[];
  wrenPass: number[];
  wrenRss: number[];
  floor: number[];
  floorClusterOrder: number[];
  bird: number[];
  birdRss: number[];
  unchangedWall: number[];
  unchangedPass: number[];
  unchangedLines: number;
  lines: number;
  errors: Map<string, string>;
}

async function wrenContender(o: ColdSyncOptions, cluster: BenchCluster, file: string, s: Samples, tag: string, progress: Progress): Promise<void> {
  await inFreshNs(o.stem, 'w', cluster, async (ns) => {
    await waitQuiet();
    const run = await wrenApply(ns.name, LOCAL_NODE, file);
    if (run.summary.failed > 0 || run.summary.held > 0) throw new Error(`wren apply: ${run.summary.failed} failed, ${run.summary.held} held`);
    await expectRoutes(ns.name, 199, cluster.expectedRoutes, 'wren apply');
    s.wren.push(run.wallMs);
    s.wrenPass.push(run.summary.ms);
    if (run.peakRssKb !== undefined) s.wrenRss.push(run.peakRssKb / MB);
    // Scenario 3 (`wren apply` half): nothing changed, so nothing of wren's may reach the kernel.
    const monitor = new RouteMonitor(ns.name);
    try {
      await monitor.ready();
      let seen = 0;
      const unsubscribe = monitor.subscribe((hit) => {
        if (/ proto 199\b/.test(hit.line)) seen += 1;
      });
      await waitQuiet();
      const again = await wrenApply(ns.name, LOCAL_NODE, file);
      await new Promise((r) => setTimeout(r, 100)); // a late monitor line still counts
      unsubscribe();
      s.unchangedWall.push(again.wallMs);
      s.unchangedPass.push(again.summary.ms);
      s.unchangedLines = Math.max(s.unchangedLines, seen, again.summary.changes);
      progress(`cold sync ${tag}: wren apply ${Math.round(run.wallMs)} ms (its pass ${run.summary.ms} ms, peak RSS ≥ ${Math.round((run.peakRssKb ?? 0) / MB)} MB); unchanged apply ${Math.round(again.wallMs)} ms, ${seen} kernel lines`);
    } finally {
      monitor.stop();
    }
  });
}

async function floorContender(o: ColdSyncOptions, cluster: BenchCluster, s: Samples, tag: string, progress: Progress, order: 'kernel' | 'cluster'): Promise<void> {
  await inFreshNs(o.stem, order === 'kernel' ? 'f' : 'c', cluster, async (ns) => {
    const plan = await planFor(ns.name, cluster.snapshot, LOCAL_NODE);
    s.lines = plan.phases.reduce((n, p) => n + p.lines.length, 0);
    await waitQuiet();
    const run = await runPhases(ns.name, plan.phases, order);
    const who = order === 'kernel' ? 'ip -batch floor' : 'ip -batch in cluster order';
    await expectRoutes(ns.name, 199, cluster.expectedRoutes, who);
    (order === 'kernel' ? s.floor : s.floorClusterOrder).push(run.wallMs);
    progress(`cold sync ${tag}: ${who} ${Math.round(run.wallMs)} ms (${run.lines} lines, ${run.processes} processes)`);
  });
}

async function birdContender(o: ColdSyncOptions, cluster: BenchCluster, s: Samples, tag: string, progress: Progress): Promise<void> {
  // An overrun of the benchmark's own monitor says nothing about BIRD: the run is made again,
  // once, in a fresh namespace.
  try {
    await birdRun(o, cluster, s, tag, progress);
  } catch (error) {
    if (!(error instanceof MonitorOverrun)) throw error;
    progress(`cold sync ${tag}: ${error.message}; running BIRD again`);
    await birdRun(o, cluster, s, tag, progress);
  }
}

async function birdRun(o: ColdSyncOptions, cluster: BenchCluster, s: Samples, tag: string, progress: Progress): Promise<void> {
  await inFreshNs(o.stem, 'b', cluster, async (ns) => {
    const plan = await planFor(ns.name, cluster.snapshot, LOCAL_NODE);
    await setUpNonRoutes(ns.name, plan.phases);
    const monitor = new RouteMonitor(ns.name);
    try {
      await monitor.ready();
      await waitQuiet();
      const bird = await startBird(ns.name, cluster.localCidr.split('/')[0] ?? '', plan.routes, monitor, BIRD_TIMEOUT_MS);
      try {
        await expectRoutes(ns.name, 'bird', cluster.expectedRoutes, 'BIRD');
        const overrun = monitor.overruns[0];
        if (overrun !== undefined) throw new MonitorOverrun(ns.name, overrun);
        s.bird.push(bird.convergedMs);
        if (bird.memory !== undefined) s.birdRss.push(bird.memory.hwmKb / MB);
        progress(`cold sync ${tag}: BIRD ${Math.round(bird.convergedMs)} ms`);
      } finally {
        await bird.stop();
      }
    } finally {
      monitor.stop();
    }
  });
}

async function attempt(s: Samples, who: string, tag: string, progress: Progress, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (!s.errors.has(who)) s.errors.set(who, message);
    progress(`cold sync ${tag}: ${who} FAILED: ${message}`);
  }
}

export async function coldSync(o: ColdSyncOptions, progress: Progress): Promise<ColdSyncResult> {
  const cluster = buildCluster({ blocks: o.blocks, pods: o.pods, encap: o.encap, localTunnel: true, blocksPerNode: o.blocksPerNode });
  const file = join(o.workDir, `snapshot-${o.encap}-${o.blocks}.json`);
  const snapshotBytes = await writeSnapshotJson(file, cluster.snapshot);
  const s: Samples = { wren: [], wrenPass: [], wrenRss: [], floor: [], floorClusterOrder: [], bird: [], birdRss: [], unchangedWall: [], unchangedPass: [], unchangedLines: 0, lines: 0, errors: new Map() };
  for (let rep = 1; rep <= o.reps; rep++) {
    const tag = `${o.encap} ${o.blocks} rep ${rep}/${o.reps}`;
    // A wren that failed once (out of memory) fails the same way again: not worth minutes more.
    if (!s.errors.has('wren')) await attempt(s, 'wren', tag, progress, () => wrenContender(o, cluster, file, s, tag, progress));
    await attempt(s, 'floor', tag, progress, () => floorContender(o, cluster, s, tag, progress, 'kernel'));
    await attempt(s, 'floor-cluster-order', tag, progress, () => floorContender(o, cluster, s, tag, progress, 'cluster'));
    if (o.bird) await attempt(s, 'bird', tag, progress, () => birdContender(o, cluster, s, tag, progress));
  }
  if (s.lines === 0) s.lines = (await inFreshNs(o.stem, 'p', cluster, (ns) => planFor(ns.name, cluster.snapshot, LOCAL_NODE))).phases.reduce((n, p) => n + p.lines.length, 0);
  const naive = o.naiveMsPerRoute;
  return {
    encap: o.encap,
    blocks: o.blocks,
    routes: cluster.expectedRoutes,
    remoteNodes: cluster.remoteNodes,
    pods: o.pods,
    snapshotBytes,
    lines: s.lines,
    wren: summarize(s.wren),
    wrenPass: summarize(s.wrenPass),
    wrenPeakRssMb: summarize(s.wrenRss),
    floor: summarize(s.floor),
    floorClusterOrder: summarize(s.floorClusterOrder),
    ...(o.bird ? { bird: summarize(s.bird), birdRssMb: summarize(s.birdRss) } : {}),
    ...(naive === undefined ? {} : { naiveMsPerRoute: naive, naiveExtrapolated: scale(naive, s.lines) }),
    unchanged: { wall: summarize(s.unchangedWall), pass: summarize(s.unchangedPass), kernelLines: s.unchangedLines },
    errors: Object.fromEntries(s.errors),
  };
}

function scale(summary: Summary, by: number): Summary {
  return { n: summary.n, min: summary.min * by, median: summary.median * by, max: summary.max * by };
}

/** The naive agent's cost per route, on `sample` of wren's route lines, `reps` times. */
export async function naiveCost(stem: string, encap: Encap, pods: number, sample: number, reps: number, progress: Progress): Promise<Summary> {
  const cluster = buildCluster({ blocks: sample, pods, encap, localTunnel: true });
  const perRoute: number[] = [];
  for (let rep = 1; rep <= reps; rep++) {
    await inFreshNs(stem, 'n', cluster, async (ns) => {
      const plan = await planFor(ns.name, cluster.snapshot, LOCAL_NODE);
      await waitQuiet();
      const run = await naivePerRoute(ns.name, plan.phases, sample);
      perRoute.push(run.msPerRoute);
      progress(`naive ${encap} rep ${rep}/${reps}: ${run.routes} routes, one ip process each: ${run.msPerRoute.toFixed(2)} ms a route`);
    });
  }
  return summarize(perRoute);
}
