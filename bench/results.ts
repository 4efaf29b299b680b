// The shape of a benchmark run's results: what the terminal table and the JSON file are made from.
import type { Latency, Summary } from './stats.js';
import type { Encap } from './cluster.js';
import type { UnchangedPassResult } from './scenarios/unchanged-pass.js';

export interface ClusterFacts {
  readonly encap: Encap;
  readonly blocks: number;
  readonly routes: number;
  /** Remote nodes: the distinct gateways of the remote routes. */
  readonly remoteNodes: number;
  readonly pods: number;
}

export interface ColdSyncResult extends ClusterFacts {
  readonly snapshotBytes: number;
  /** Batch lines wren writes (devices, FDB, neighbours, routes). */
  readonly lines: number;
  readonly wren: Summary;
  /** The pass as `wren apply` reports it (plan and apply): without process start, snapshot loading and the kernel read that overlaps it. */
  readonly wrenPass: Summary;
  readonly wrenPeakRssMb: Summary;
  /** One `ip -batch` per phase, route replaces grouped by gateway (kernel order): the floor. */
  readonly floor: Summary;
  /** The same lines in the cluster's order (gateways interleaved): what order alone costs. */
  readonly floorClusterOrder: Summary;
  /** Undefined when BIRD is not installed (said so in `notes`). */
  readonly bird?: Summary;
  readonly birdRssMb?: Summary;
  readonly naiveMsPerRoute?: Summary;
  /** naiveMsPerRoute × lines. */
  readonly naiveExtrapolated?: Summary;
  /** A second `wren apply` on the converged kernel. */
  readonly unchanged: { readonly wall: Summary; readonly pass: Summary; readonly kernelLines: number };
  /** Contenders that failed, by name (wren, floor, floor-cluster-order, bird), with the first reason. */
  readonly errors: Record<string, string>;
}

export interface IdleResult {
  readonly seconds: number;
  readonly agentCpuS: number;
  /** Agent passes that ran during the window (its periodic resync). */
  readonly agentPasses: number;
  readonly birdCpuS?: number;
  /** The duration of the agent's first resync after start, when the window waited for it. */
  readonly firstResyncMs?: number;
}

/** One burst of concurrent requests: the worst of its rounds. */
export interface BurstResult {
  /** The agent's VmHWM over the burst (reset just before it), MB. */
  readonly peakMb: number;
  readonly rssAfterMb: number;
  /** The agent and its `ip` children, RSS summed, sampled every 10 ms: the highest sample, MB. */
  readonly treePeakMb: number;
  /** Wall time until the last answer. */
  readonly ms: number;
  /** The largest answer. */
  readonly bytes: number;
  /** Status computations (dry-run passes) over all rounds of this burst kind. */
  readonly computations: number;
}

export interface LoadResult {
  /** The agent and its `ip` children while it started and converged (sampled every 50 ms), MB. */
  readonly startTreePeakMb: number;
  readonly concurrency: number;
  readonly idleRssMb: number;
  readonly status: BurstResult;
  readonly metrics: BurstResult;
}

/** `--only status-load`: an agent started for the load alone. */
export interface StatusLoadResult extends ClusterFacts {
  readonly startMs: number;
  /** VmHWM from start to converged: the peak a memory limit must also hold. */
  readonly startHwmMb: number;
  readonly load: LoadResult;
}

export interface AgentResult extends ClusterFacts {
  readonly startMs: number;
  readonly change: { readonly add: Latency; readonly del: Latency; readonly all: Latency };
  readonly drift: Latency;
  readonly unchangedPass: UnchangedPassResult;
  readonly idle?: IdleResult;
  readonly agentHwmMb: number;
  readonly agentRssMb: number;
  readonly birdHwmMb?: number;
  /** 30 concurrent /status and /metrics requests at the end, on the same agent. */
  readonly load?: LoadResult;
}

/** BGP to the fabric (scenarios/bgp-fabric.ts): one node, its BIRD, a router's BIRD. */
export interface BgpFabricResult {
  /** From the agent's start to its session established. */
  readonly sessionMs: number;
  /** A block and its affinity written to etcd → the route in the router's kernel. */
  readonly add: Latency;
  /** Affinity and block deleted → the route gone from the router's kernel. */
  readonly withdraw: Latency;
  readonly agentRssMb: number;
  readonly agentHwmMb: number;
  /** The node's BIRD, which the agent runs beside itself. */
  readonly birdRssMb: number;
  readonly birdHwmMb: number;
  readonly routerBirdRssMb?: number;
}

export interface TargetResult {
  readonly name: string;
  readonly value: string;
  readonly limit: string;
  readonly pass: boolean | undefined;
}

export interface BenchResults {
  /** Every namespace this run made is named `<stem>-…` (and removed at its end). */
  readonly stem: string;
  readonly machine: Record<string, string | number>;
  readonly startedAt: string;
  readonly durationS: number;
  readonly options: Record<string, unknown>;
  readonly coldSync: ColdSyncResult[];
  readonly agent: AgentResult[];
  readonly statusLoad: StatusLoadResult[];
  /** Absent when not run (BIRD not installed, --no-bird, or --only something else). */
  readonly bgp?: BgpFabricResult;
  readonly targets: TargetResult[];
  readonly notes: string[];
}
