// The double's etcd: one global revision counter shared by every resource (so resourceVersions are
// comparable across kinds, as etcd's mod revisions are), the current objects, and a bounded event
// history. The history lets watches resume from an old revision and lets paginated or Exact lists
// read a consistent snapshot; once an event falls out of it (or compact() drops it) those reads
// get 410 Expired, as after an etcd compaction.
import type { KubeObject } from './types.js';

export type StoredEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoredEvent {
  readonly revision: number;
  readonly type: StoredEventType;
  /** Qualified resource ("pods", "ipamblocks.crd.projectcalico.org"). */
  readonly resource: string;
  readonly key: string;
  /** State after the event; for DELETED the last state, stamped with the deletion revision. */
  readonly object: KubeObject;
  /** State before the event (absent for ADDED). */
  readonly prev: KubeObject | undefined;
}

type Listener = (event: StoredEvent) => void;

export const objectKey = (namespace: string | undefined, name: string) => (namespace ? `${namespace}/${name}` : name);

const byKey = <T>(a: [string, T], b: [string, T]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

export class ObjectStore {
  private revision = 1; // a fresh etcd starts at revision 1
  private compactedThrough = 0;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly history: StoredEvent[] = [];
  private readonly listeners = new Set<Listener>();

  constructor(private readonly historyLimit: number) {}

  currentRevision(): number {
    return this.revision;
  }

  /** Revisions at or below this have no events left; reading or watching from older fails. */
  compactedRevision(): number {
    return this.compactedThrough;
  }

  get(resource: string, key: string): KubeObject | undefined {
    const obj = this.objects.get(resource)?.get(key);
    return obj === undefined ? undefined : structuredClone(obj);
  }

  /** Current objects of a resource in etcd key order (namespace/name). */
  current(resource: string): [string, KubeObject][] {
    return [...(this.objects.get(resource) ?? new Map<string, KubeObject>())]
      .map(([k, o]): [string, KubeObject] => [k, structuredClone(o)])
      .sort(byKey);
  }

  /** Objects as they were at `revision`, undoing later events; undefined when compacted away. */
  snapshotAt(resource: string, revision: number): [string, KubeObject][] | undefined {
    if (revision < this.compactedThrough) return undefined;
    const state = new Map(this.current(resource));
    const later = this.history.filter((e) => e.resource === resource && e.revision > revision);
    for (const event of later.reverse()) {
      if (event.prev === undefined) state.delete(event.key);
      else state.set(event.key, structuredClone(event.prev));
    }
    return [...state].sort(byKey);
  }

  /** Events for `resource` after `revision`; undefined when some of them were compacted away. */
  eventsAfter(resource: string, revision: number): StoredEvent[] | undefined {
    if (revision < this.compactedThrough) return undefined;
    return this.history.filter((e) => e.resource === resource && e.revision > revision);
  }

  /** Stores `next` under a new revision (undefined deletes) and tells every listener. */
  write(resource: string, key: string, next: KubeObject | undefined): StoredEvent {
    let bucket = this.objects.get(resource);
    if (bucket === undefined) {
      bucket = new Map();
      this.objects.set(resource, bucket);
    }
    const prev = bucket.get(key);
    if (next === undefined && prev === undefined) throw new Error(`store: delete of missing ${resource} ${key}`);
    const revision = ++this.revision;
    const object = structuredClone(next ?? prev) as KubeObject;
    object.metadata.resourceVersion = String(revision);
    if (next === undefined) bucket.delete(key);
    else bucket.set(key, object);
    const type: StoredEventType = next === undefined ? 'DELETED' : prev === undefined ? 'ADDED' : 'MODIFIED';
    const event: StoredEvent = { revision, type, resource, key, object, prev };
    this.history.push(event);
    while (this.history.length > this.historyLimit) {
      const dropped = this.history.shift();
      if (dropped !== undefined) this.compactedThrough = dropped.revision;
    }
    for (const listener of [...this.listeners]) listener(event);
    return event;
  }

  /** Forgets all history, as `etcdctl compact <current>` would. */
  compact(): void {
    this.history.length = 0;
    this.compactedThrough = this.revision;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** RFC 3339 at second precision, the way metav1.Time serialises. */
export const timestamp = (at = new Date()) => at.toISOString().replace(/\.\d{3}Z$/, 'Z');
