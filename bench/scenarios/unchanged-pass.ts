// Scenario 3 (agent half): a pass with nothing to change. Triggered the way a busy cluster
// triggers most passes: a pod starts on another node, which changes nothing in this node's
// routes. Calico's CNI plugin writes one more allocation into that node's block (no change to
// wren: an address of the block's own node routes with the block) and the pod's
// WorkloadEndpoint (a change to the snapshot, so a pass). The pass time is the agent's own, from its
// `/metrics` (wren_pass_duration_seconds: sum and count before and after) — which starts after
// the pass has read the kernel — and, whole, from the etcd write to the pass's log line
// (millisecond timestamps); its CPU is the agent process tree's across the pass. "Writes
// nothing" is checked twice: no line of wren's protocol on `ip monitor`, and no change in
// wren_kernel_changes_total.
import { blockKey } from '../../calico/index.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { nthAddress } from '../../kernel/index.js';
import { workload } from '../../test/support/index.js';
import type { AgentEnv } from '../agent-env.js';
import { caliName } from '../cluster.js';
import { blockKv, workloadKv } from '../etcd-kvs.js';
import { cpuBetween, treeCpu } from '../proc.js';
import type { Progress } from '../progress.js';
import type { RouteMonitor } from '../route-monitor.js';
import { summarize, type Summary } from '../stats.js';

export interface UnchangedPassResult {
  readonly passMs: Summary;
  /** From the etcd write to the end of the pass it caused. */
  readonly wholeMs: Summary;
  readonly cpuMs: Summary;
  readonly kernelLines: number;
}

export async function agentUnchangedPass(env: AgentEnv, monitor: RouteMonitor, reps: number, progress: Progress): Promise<UnchangedPassResult> {
  const target = env.cluster.snapshot.blocks.find((b) => b.affinityNode !== env.cluster.localNode);
  if (target === undefined || target.affinityNode === undefined) throw new Error('no remote block to touch');
  const key = blockKey(target.cidr);
  const passMs: number[] = [];
  const cpuMs: number[] = [];
  const wholeMs: number[] = [];
  let kernelLines = 0;
  const unsubscribe = monitor.subscribe((hit) => {
    if (/ proto 199\b/.test(hit.line)) kernelLines += 1;
  });
  try {
    for (let rep = 0; rep < reps; rep++) {
      await env.agent.idle();
      const before = await env.agent.metrics();
      const current = await env.etcd.get(key);
      if (current === undefined) throw new Error(`block ${target.cidr} is not in etcd`);
      // The block as it is, plus one allocation (its tunnel address keeps its handle, as in Calico).
      const grown = { ...target, allocations: [...target.allocations, { ip: nthAddress(target.cidr, 32 + rep), node: target.affinityNode }] };
      const value = blockKv(grown).value;
      const pod = workloadKv(workload('bench-remote', `pod-${rep}`, target.affinityNode, [nthAddress(target.cidr, 32 + rep)], caliName(rep)));
      const cpu0 = await treeCpu(env.agent.pid);
      const wallT0 = Date.now();
      const swapped = await env.etcd.compareAndSwap(key, value, current.modRevision);
      if (!swapped.ok) throw new Error(`block ${target.cidr}: write lost a race`);
      if (!(await env.etcd.create(pod.key, pod.value)).ok) throw new Error(`${pod.key} exists already`);
      let after = await env.agent.metrics();
      while (after.passes === before.passes) {
        await sleep(10);
        after = await env.agent.metrics();
      }
      const cpu1 = await treeCpu(env.agent.pid);
      await env.agent.idle();
      after = await env.agent.metrics();
      if (after.kernelChanges !== before.kernelChanges) throw new Error(`an unchanged pass changed ${after.kernelChanges - before.kernelChanges} thing(s) in the kernel`);
      passMs.push(((after.passSecondsSum - before.passSecondsSum) / (after.passes - before.passes)) * 1000);
      cpuMs.push(cpuBetween(cpu0, cpu1) * 1000);
      const logged = (await env.agent.passesLogged(wallT0)).find((p) => p.reasons.includes('datastore'));
      if (logged !== undefined) wholeMs.push(logged.endedAt - wallT0);
    }
  } finally {
    unsubscribe();
  }
  const result = { passMs: summarize(passMs), wholeMs: summarize(wholeMs), cpuMs: summarize(cpuMs), kernelLines };
  progress(`unchanged agent pass at ${env.cluster.expectedRoutes} routes: ${result.passMs.median.toFixed(1)} ms by its metrics, ${result.wholeMs.median.toFixed(0)} ms from the etcd write (medians of ${reps}), ${result.cpuMs.median.toFixed(0)} ms CPU, ${kernelLines} kernel lines`);
  return result;
}
