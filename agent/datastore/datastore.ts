// A datastore as the agent uses it: where the cluster comes from, and — for the live datastores —
// where the node registers and allocates its tunnel addresses.
import type { ClusterSource } from '../cluster-source.js';
import type { IpamAllocator } from '../ipam/allocator.js';
import type { NodeWriter } from '../registration.js';

export interface Datastore {
  readonly source: ClusterSource;
  /** Absent for a snapshot file: there is nothing to register in. */
  readonly ipam?: IpamAllocator;
  readonly nodes?: NodeWriter;
  invalidObjects(): number;
  close(): Promise<void>;
}
