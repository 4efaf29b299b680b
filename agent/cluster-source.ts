// Where the agent and the one-shot commands take the cluster from. Every source — a dump file,
// etcd, the Kubernetes API — offers the same three things: the whole validated snapshot at any
// time, whether it has listed everything once, and a signal that something changed.
import { readFile } from 'node:fs/promises';
import type { BlockAffinity, ClusterSnapshot, IpPool, ObjectProblem } from '../routing/cluster.js';
import type { ObjectChange } from './snapshot-store.js';
import type { ContactState } from '../calico/datastore-contact.js';
import type { AllocationDetail } from '../calico/objects/ipam-block.js';
import { parseSnapshotText } from '../calico/objects/snapshot-file.js';
import { ClusterRefusedError, contentRefusal, dumpText, refusalOf, type ClusterRefusal } from './cluster-wholeness.js';

/**
 * What a source backed by a SnapshotStore offers besides the snapshot: the objects that changed
 * since the last look, and lookups, so the loop can route one change without the whole picture.
 */
export interface ChangeFeed {
  takeChanges(): readonly ObjectChange[] | 'all';
  affinitiesOf(cidr: string): readonly BlockAffinity[] | undefined;
  pools(): readonly IpPool[];
  hasNode(name: string): boolean;
}

export interface ClusterSource {
  snapshot(): ClusterSnapshot;
  /** Absent when the source only knows whole snapshots: every pass is then a full one. */
  readonly feed?: ChangeFeed;
  /** True once every kind has been listed: before that nothing may be withdrawn from the kernel. */
  inSync(): boolean;
  /** While not in sync: why the last attempt to list failed, if one has. */
  syncProblem?(): string | undefined;
  /** Live datastores: when it last answered and whether it is failing now (for /readyz and /status). */
  contact?(): ContactState;
  /**
   * Why the source's latest input cannot be a whole cluster (a dump file emptied or cut short),
   * while it serves the last good picture: the loop runs no pass until it is whole again.
   */
  refusal?(): ClusterRefusal | undefined;
  /** Called after each change (and on reaching sync); returns an unsubscribe function. */
  onChange(listener: () => void): () => void;
  close(): Promise<void>;
}

/**
 * The file as text, checked to be text (cluster-wholeness.ts). Its bytes are dropped on return, so
 * they are not held while the text is parsed: at 100,000 blocks that is 100 MB of peak RSS.
 */
async function readDump(path: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new Error(`cannot read snapshot ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return dumpText(bytes);
}

export interface LoadedCluster {
  readonly snapshot: ClusterSnapshot;
  readonly problems: readonly ObjectProblem[];
}

// A file that cannot be a whole cluster (empty, binary, truncated, or without any object wren
// reads) throws ClusterRefusedError naming the file (cluster-wholeness.ts).
/** `detail`: whose IPAM allocations to keep in full (calico/objects/ipam-block.ts); every node's unless told. */
export async function loadSnapshotFile(path: string, detail: AllocationDetail = 'all'): Promise<LoadedCluster> {
  try {
    const parsed = parseSnapshotText(await readDump(path), detail);
    const refusal = contentRefusal(parsed);
    if (refusal !== undefined) throw new ClusterRefusedError(refusal);
    return { snapshot: parsed.snapshot, problems: parsed.problems };
  } catch (error) {
    throw error instanceof ClusterRefusedError ? new ClusterRefusedError(refusalOf(`snapshot ${path}`, error.refusal)) : error;
  }
}
