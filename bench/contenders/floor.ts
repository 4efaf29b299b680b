// Contender 2, the floor: exactly the lines wren renders, written by iproute2 alone — one
// `ip -force -batch -` (or `bridge …` for VXLAN FDB entries) per phase, with nothing else in the
// way. The time is from spawning the first process to the last one's exit. The floor proper
// runs the lines in kernel order (route replaces grouped by gateway, the fastest order for one
// process); the same lines in cluster order (gateways interleaved) are timed too, for comparison.
import { timedRun } from '../timed-run.js';
import type { PlannedPhase } from '../wren-lines.js';

export interface FloorRun {
  readonly wallMs: number;
  readonly processes: number;
  readonly lines: number;
}

export async function runPhases(netns: string, phases: readonly PlannedPhase[], order: 'kernel' | 'cluster' = 'kernel'): Promise<FloorRun> {
  let wallMs = 0;
  let lines = 0;
  for (const phase of phases) {
    const text = (order === 'kernel' ? phase.lines : phase.clusterOrderLines).join('\n');
    const result = await timedRun(phase.tool, ['-n', netns, '-force', '-batch', '-'], `${text}\n`);
    if (result.exitCode !== 0) throw new Error(`${phase.tool} -batch (${phase.name}) exited ${result.exitCode}: ${result.stderr.trim().split('\n').slice(0, 3).join('; ')}`);
    wallMs += result.ms;
    lines += phase.lines.length;
  }
  return { wallMs, processes: phases.length, lines };
}
