// How the CLI talks to a person: results on stdout, problems on stderr, one line each.
import type { ObjectProblem } from '../../routing/cluster.js';
import type { LoadedCluster } from '../cluster-source.js';
import { ClusterRefusedError, clusterRefusal, outlineOf } from '../cluster-wholeness.js';
import { summariseProblems, summaryLines } from '../problem-summary.js';

export interface Output {
  out(line: string): void;
  err(line: string): void;
}

export const stdio: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Problems on stderr, per reason: the first few with kind, name and field, then how many more. */
export function reportProblems(io: Output, problems: Iterable<ObjectProblem>): void {
  for (const line of summaryLines(summariseProblems(problems))) io.err(`warning: ${line}`);
}

/**
 * A cluster without a pool or without the node would withdraw every route: refused before anything
 * is computed, with the objects' problems first (a node left out as invalid explains its absence).
 */
export function refuseUnlessWhole(io: Output, cluster: LoadedCluster, nodeName: string): void {
  const refusal = clusterRefusal(outlineOf(cluster.snapshot), nodeName);
  if (refusal === undefined) return;
  reportProblems(io, cluster.problems);
  throw new ClusterRefusedError(refusal);
}
