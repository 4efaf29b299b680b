// A datastore as the agent uses it: where the cluster comes from, and — for the live datastores —
// where the node registers and allocates its tunnel addresses.
import type { ClusterSource } from '../cluster-source.js';
import type { IpamAllocator } from '../../calico/ipam/allocator.js';
import type { NodeWriter } from '../../calico/node-writer.js';
import type { ObjectProblem } from '../../routing/cluster.js';

export interface Datastore {
  readonly source: ClusterSource;
  /** Absent for a snapshot file: there is nothing to register in. */
  readonly ipam?: IpamAllocator;
  readonly nodes?: NodeWriter;
  invalidObjects(): number;
  /** The problems of the objects currently left out or trimmed, for one-shot commands to print. */
  problems(): readonly ObjectProblem[];
  close(): Promise<void>;
}
