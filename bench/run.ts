// One benchmark run: cold sync for every encapsulation and size, then the agent scenarios for
// every size, then BGP to the fabric (with BIRD), then the targets. Everything it makes lives under one `wren-b-<hex>` stem and one
// temporary directory, both removed at the end (and on Ctrl-C).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { destroyByPrefix } from '../lab/index.js';
import { AGENT_RESYNC_S } from './agent-process.js';
import { localBlockCount } from './cluster.js';
import { birdInstalled } from './contenders/bird.js';
import { onInterrupt } from './interrupt.js';
import { machineFacts } from './machine.js';
import { quietStats } from './quiet.js';
import { runStem } from './names.js';
import type { BenchOptions } from './options.js';
import type { Progress } from './progress.js';
import type { AgentResult, BenchResults, BgpFabricResult, ColdSyncResult, StatusLoadResult } from './results.js';
import { agentSuite } from './scenarios/agent-suite.js';
import { bgpFabric } from './scenarios/bgp-fabric.js';
import { coldSync, naiveCost } from './scenarios/cold-sync.js';
import { statusLoadSuite } from './scenarios/status-load.js';
import type { Summary } from './stats.js';
import { evaluateTargets } from './targets.js';

export async function runBenchmark(options: BenchOptions, progress: Progress): Promise<BenchResults> {
  const startedAt = new Date();
  const started = performance.now();
  const stem = runStem();
  const workDir = await mkdtemp(join(tmpdir(), `${stem}-`));
  const sweep = async () => {
    await destroyByPrefix(stem).catch(() => undefined);
    await rm(workDir, { recursive: true, force: true });
  };
  const unregister = onInterrupt(sweep);
  const notes: string[] = [];
  const coldResults: ColdSyncResult[] = [];
  const agentResults: AgentResult[] = [];
  const loadResults: StatusLoadResult[] = [];
  let bgp: BgpFabricResult | undefined;
  try {
    const bird = options.bird && (await birdInstalled());
    if (!options.bird) notes.push('BIRD was left out (--no-bird).');
    else if (!bird) notes.push('BIRD is not installed (/usr/sbin/bird): its columns are empty. Install Debian\'s bird2 to compare.');
    describe(options, notes);

    if (options.cold) {
      for (const encap of options.encaps) {
        let naive: Summary | undefined;
        if (options.naiveSample > 0) naive = await naiveCost(stem, encap, options.pods, options.naiveSample, options.naiveReps, progress);
        for (const blocks of options.sizes) {
          const reps = blocks >= options.largeSize ? options.repsLarge : options.reps;
          coldResults.push(await coldSync({ stem, workDir, encap, blocks, blocksPerNode: options.blocksPerNode, pods: options.pods, reps, bird, ...(naive === undefined ? {} : { naiveMsPerRoute: naive }) }, progress));
        }
      }
    }
    if (options.agent) {
      for (const blocks of options.sizes) {
        try {
          agentResults.push(await agentSuite({
            stem,
            blocks,
            blocksPerNode: options.blocksPerNode,
            pods: options.pods,
            changes: { changes: options.changes, budgetMs: options.changeBudgetS * 1000, minChanges: options.minChanges },
            unchangedReps: options.unchangedReps,
            ...(options.idleSizes.includes(blocks) ? { idleSeconds: options.idleSeconds } : {}),
            bird,
          }, progress));
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          notes.push(`Agent scenarios at ${blocks} blocks failed: ${message}`);
          progress(`agent at ${blocks} blocks FAILED: ${message}`);
        }
      }
    }
    if (options.statusLoad) {
      for (const blocks of options.sizes) {
        try {
          loadResults.push(await statusLoadSuite({ stem, blocks, blocksPerNode: options.blocksPerNode, pods: options.pods }, progress));
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          notes.push(`Status load at ${blocks} blocks failed: ${message}`);
          progress(`status load at ${blocks} blocks FAILED: ${message}`);
        }
      }
    }
    if (options.bgpFabric && bird) {
      try {
        bgp = await bgpFabric({ stem, changes: options.bgpChanges }, progress);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        notes.push(`BGP to the fabric failed: ${message}`);
        progress(`BGP to the fabric FAILED: ${message}`);
      }
    }
  } finally {
    unregister();
    await sweep();
  }
  for (const c of coldResults) for (const [who, why] of Object.entries(c.errors)) notes.push(`Cold sync ${c.encap} ${c.blocks}: ${who} failed: ${why}`);
  notes.push(`Quiet machine: ${quietStats.waits} timed steps waited ${(quietStats.waitedMs / 1000).toFixed(1)} s in all for < 10% CPU; ${quietStats.notQuiet} started without it (20 s timeout) and are noisier.`);
  return {
    stem,
    machine: await machineFacts(),
    startedAt: startedAt.toISOString(),
    durationS: (performance.now() - started) / 1000,
    options: { ...options },
    coldSync: coldResults,
    agent: agentResults,
    statusLoad: loadResults,
    ...(bgp === undefined ? {} : { bgp }),
    targets: evaluateTargets(coldResults, agentResults, bgp),
    notes,
  };
}

/** How the figures were taken, next to them. */
function describe(o: BenchOptions, notes: string[]): void {
  const local = localBlockCount(o.pods);
  notes.push(
    `Cluster: N remote /26 blocks in a 10.0.0.0/8 pool, ${o.blocksPerNode} per remote node (at most 5,000 nodes: the routes' distinct gateways), each with 4 allocations; the local node has ${o.pods} pods with their cali veths (${local} blocks: ${local} blackholes + ${o.pods} /32 device routes). Every block has a confirmed BlockAffinity. VXLAN routes go via the remote VTEP on vxlan.calico (onlink), no-encap routes via the node address on eth0 (onlink).`,
    `Cold sync: each contender and repetition in a fresh namespace; ${o.reps} repetition(s) below ${o.largeSize.toLocaleString('en-US')} blocks, ${o.repsLarge} at or above. Before every timed step the benchmark waits for the machine to be quiet (< 10% CPU over 250 ms). wren: \`wren apply --snapshot FILE.json --netns NS\`, wall time of the CLI process. Floor: the lines wren renders (same planner, same fresh kernel), one \`ip -force -batch -\` / \`bridge -force -batch -\` per phase, route replaces grouped by (device, gateway) as wren's kernel adapter orders them (the fastest order for one process); "cluster order" times the same lines in the order the cluster lists its blocks (gateways interleaved), which costs the kernel more. BIRD: static routes exported by its kernel protocol (metric 0, default scan times); the VXLAN device, FDB and neighbour entries it cannot make are set up untimed first; converged = the last of its routes seen by an \`ip monitor route\` started before it, count checked against the kernel. Naive: one \`ip route replace\` process per route over ${o.naiveSample} routes (${o.naiveReps} repetition(s)), extrapolated to all of wren's lines.`,
    `Agent: etcd 3.4 in an underlay namespace on the bridge's gateway (data on tmpfs), the agent in the node namespace (\`ip netns exec\`), cluster loaded before it starts; VXLAN. One change and drift repair: up to ${o.changes} of each, stopped after ${o.changeBudgetS} s per size and scenario once ${o.minChanges} are done; before each, the agent is left to go idle (no pass for twice its longest recent pass, watched in its log: polling its /metrics 50 times a second put its garbage collection off into the idle window). One change: from just before the etcd write to the route's line on a long-lived \`ip -ts monitor route\`, timed by \`ip\`'s own stamp (so this process's own pauses are not counted). Drift: between the deletion's and the return's lines on that monitor.`,
    `Memory under load: after the agent scenarios (or, with --only status-load, on an agent started for it alone), 30 concurrent /metrics requests, then 30 concurrent /status requests, each burst three times 1.2 s apart (past /status's 1 s reuse window, so each /status burst computes once); the agent's VmHWM is reset before each burst (/proc/PID/clear_refs) so its peak is the burst's, and its process tree's RSS (with its \`ip\` children) is sampled every 10 ms; the worst round is shown. "Start peak" is VmHWM from start to converged.`,
    `Unchanged pass: a pod started on another node (one more allocation in its block, and its WorkloadEndpoint; no route changes); "metrics" is wren_pass_duration_seconds (it starts after the pass has read the kernel), "etcd write → pass done" is up to the pass's log line (ms timestamps); CPU is the agent's process tree (utime+stime+cutime+cstime from /proc). Idle: a ${o.idleSeconds} s window at ${o.idleSizes.map((s) => s.toLocaleString('en-US')).join(', ')} blocks, nothing polling the agent${o.idleSeconds === AGENT_RESYNC_S ? `: one whole resync period (${AGENT_RESYNC_S} s) rather than 60 s, because a resync pass and the garbage collection after it are most of the idle cost and a 60 s window holds one or none by chance; CPU is also given per 60 s. The window starts after the agent's first resync: that first check after start goes over every line of the table once, a start-up cost shown apart as that pass's duration` : ''}; BIRD's kernel and device scans run every 60 s (its defaults). Memory: VmHWM/VmRSS from /proc; \`wren apply\`'s peak RSS is sampled every 50 ms.`,
  );
  if (o.bgpFabric) {
    notes.push(`BGP to the fabric: one node (\`wren agent --bgp on\`, its own BIRD) on one subnet of a two-subnet underlay, a router namespace between them running a plain BIRD (AS 64513, learning into its kernel), etcd on the router's address, the BGPConfiguration (AS 64512, no mesh) and a BGPPeer pointing the node at the router, as \`wren lab up --bgp\` wires them. ${o.bgpChanges} blocks, one at a time, the agent idle before each: from just before the block and its affinity are written to etcd to the route's line on an \`ip monitor\` in the router's namespace, then from just before both are deleted to the route's deletion there. Memory: VmRSS and VmHWM of the agent and of the node's BIRD at the end.`);
  }
}
