// `npm run bench -- [flags]`: what to run and how long to spend. Defaults are the full run
// (well under 20 minutes on 2 cores); `--quick` cuts it to a couple of minutes.
import { intFlag, parseFlags, UsageError } from '../agent/index.js';
import { AGENT_RESYNC_S } from './agent-process.js';
import { BLOCKS_PER_NODE, type Encap } from './cluster.js';

export interface BenchOptions {
  /** Remote blocks (≈ routes) per size. */
  readonly sizes: readonly number[];
  readonly encaps: readonly Encap[];
  readonly pods: number;
  readonly blocksPerNode: number;
  /** Cold-sync repetitions below `largeSize`, and at or above it. */
  readonly reps: number;
  readonly repsLarge: number;
  readonly largeSize: number;
  readonly changes: number;
  /** Per size and scenario (one change, drift): stop once spent, with at least `minChanges`. */
  readonly changeBudgetS: number;
  readonly minChanges: number;
  readonly unchangedReps: number;
  readonly idleSeconds: number;
  readonly idleSizes: readonly number[];
  readonly naiveSample: number;
  readonly naiveReps: number;
  readonly bird: boolean;
  readonly cold: boolean;
  readonly agent: boolean;
  /** `--only status-load`: an agent per size under concurrent /status and /metrics, nothing else. */
  readonly statusLoad: boolean;
  /** BGP to the fabric (needs BIRD): blocks announced and withdrawn, each timed to the router's kernel. */
  readonly bgpFabric: boolean;
  readonly bgpChanges: number;
  readonly out: string;
}

export const FULL: BenchOptions = {
  sizes: [1000, 10_000, 100_000],
  encaps: ['vxlan', 'none'],
  pods: 250,
  blocksPerNode: BLOCKS_PER_NODE,
  reps: 3,
  repsLarge: 1,
  largeSize: 100_000,
  changes: 200,
  changeBudgetS: 120,
  minChanges: 10,
  unchangedReps: 5,
  // One resync period of the agent: see scenarios/idle.ts.
  idleSeconds: AGENT_RESYNC_S,
  idleSizes: [10_000, 100_000],
  naiveSample: 1000,
  naiveReps: 3,
  bird: true,
  cold: true,
  agent: true,
  statusLoad: false,
  bgpFabric: true,
  bgpChanges: 100,
  out: 'bench-results/latest.json',
};

const QUICK: Partial<BenchOptions> = {
  sizes: [1000, 10_000],
  reps: 1,
  changes: 50,
  changeBudgetS: 20,
  minChanges: 10,
  unchangedReps: 3,
  idleSeconds: 10,
  naiveSample: 200,
  naiveReps: 1,
  bgpChanges: 30,
};

export const USAGE = `npm run bench -- [--quick] [--sizes 1000,10000,100000] [--encaps vxlan,none] [--reps 3] [--reps-large 1]
  [--changes 200] [--change-budget 30] [--min-changes 10] [--unchanged-reps 5] [--idle-seconds 90] [--idle-sizes 10000,100000]
  [--naive-sample 1000] [--naive-reps 3] [--pods 250] [--blocks-per-node 20] [--bgp-changes 100] [--no-bird] [--only cold|agent|status-load|bgp] [--out bench-results/latest.json]`;

const FLAGS = {
  quick: { type: 'boolean' },
  sizes: { type: 'string' },
  encaps: { type: 'string' },
  pods: { type: 'string' },
  'blocks-per-node': { type: 'string' },
  reps: { type: 'string' },
  'reps-large': { type: 'string' },
  changes: { type: 'string' },
  'change-budget': { type: 'string' },
  'min-changes': { type: 'string' },
  'unchanged-reps': { type: 'string' },
  'idle-seconds': { type: 'string' },
  'idle-sizes': { type: 'string' },
  'naive-sample': { type: 'string' },
  'naive-reps': { type: 'string' },
  'no-bird': { type: 'boolean' },
  'bgp-changes': { type: 'string' },
  only: { type: 'string' },
  out: { type: 'string' },
  help: { type: 'boolean' },
} as const;

export function parseOptions(argv: readonly string[]): BenchOptions | 'help' {
  const { values: v } = parseFlags(argv, FLAGS);
  if (v.help) return 'help';
  const base: BenchOptions = { ...FULL, ...(v.quick ? QUICK : {}) };
  const sizes = v.sizes === undefined ? base.sizes : intList(v.sizes, 'sizes', 1, 250_000);
  const only = v.only;
  if (only !== undefined && only !== 'cold' && only !== 'agent' && only !== 'status-load' && only !== 'bgp') throw new UsageError(`--only must be cold, agent, status-load or bgp, got "${only}"`);
  return {
    ...base,
    sizes,
    encaps: v.encaps === undefined ? base.encaps : encapList(v.encaps),
    pods: intFlag(v.pods, 'pods', 1, 1000) ?? base.pods,
    blocksPerNode: intFlag(v['blocks-per-node'], 'blocks-per-node', 1, 250_000) ?? base.blocksPerNode,
    reps: intFlag(v.reps, 'reps', 1, 50) ?? base.reps,
    repsLarge: intFlag(v['reps-large'], 'reps-large', 1, 50) ?? base.repsLarge,
    changes: intFlag(v.changes, 'changes', 1, 10_000) ?? base.changes,
    changeBudgetS: intFlag(v['change-budget'], 'change-budget', 1, 3600) ?? base.changeBudgetS,
    minChanges: intFlag(v['min-changes'], 'min-changes', 1, 10_000) ?? base.minChanges,
    unchangedReps: intFlag(v['unchanged-reps'], 'unchanged-reps', 1, 100) ?? base.unchangedReps,
    idleSeconds: intFlag(v['idle-seconds'], 'idle-seconds', 1, 3600) ?? base.idleSeconds,
    idleSizes: v['idle-sizes'] === undefined ? base.idleSizes.filter((s) => sizes.includes(s)) : intList(v['idle-sizes'], 'idle-sizes', 1, 250_000),
    naiveSample: intFlag(v['naive-sample'], 'naive-sample', 0, 100_000) ?? base.naiveSample,
    naiveReps: intFlag(v['naive-reps'], 'naive-reps', 1, 50) ?? base.naiveReps,
    bird: !v['no-bird'],
    cold: only === undefined || only === 'cold',
    agent: only === undefined || only === 'agent',
    statusLoad: only === 'status-load',
    bgpFabric: !v['no-bird'] && (only === undefined || only === 'bgp'),
    bgpChanges: intFlag(v['bgp-changes'], 'bgp-changes', 1, 1024) ?? base.bgpChanges,
    out: v.out ?? base.out,
  };
}

function intList(text: string, flag: string, min: number, max: number): number[] {
  return text.split(',').map((part) => intFlag(part.trim().replace(/_/g, ''), flag, min, max) ?? 0);
}

function encapList(text: string): Encap[] {
  return text.split(',').map((part) => {
    const e = part.trim();
    if (e !== 'vxlan' && e !== 'none') throw new UsageError(`--encaps takes vxlan and/or none, got "${e}"`);
    return e;
  });
}
