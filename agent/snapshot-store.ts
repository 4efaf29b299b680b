// The one in-memory, validated picture of the cluster that both datastores (Kubernetes watches,
// etcd watches) feed and every routing pass reads. Objects arrive as ParseResults, one per key
// within a kind; the snapshot is rebuilt only after a change and then handed out as is.
//
// An object that turns invalid loses its previous value, as if deleted. That is Felix's rule (its
// ValidationFilter turns a failed update into a deletion), and the safe one: the datastore no
// longer vouches for the old value, and routes kept from it could point at a node that has since
// given the block up. The problem is reported instead, and counted until the object is fixed or
// goes away.
//
// Listeners hear only real changes: a relist that returns what is already held changes nothing,
// so a periodic resync never makes routes flap.
import type { BlockAffinity, ClusterSnapshot, IpPool, ObjectProblem } from '../routing/cluster.js';
import type { ObjectKind, ParsedObject, ParseResult } from '../calico/objects/api.js';
import { compareHeld, sameObject } from '../calico/objects/equals.js';
import { parseObject } from '../calico/objects/parse-object.js';
import { ProblemLedger, type ProblemSink } from '../calico/objects/problem-ledger.js';
import { buildSnapshot } from '../calico/objects/snapshot-build.js';

export type { ProblemSink } from '../calico/objects/problem-ledger.js';

export interface StoreChange {
  readonly kind: ObjectKind;
  readonly added: number;
  readonly updated: number;
  readonly removed: number;
}

export interface RelistCounts extends StoreChange {
  readonly unchanged: number;
  readonly invalid: number;
}

export type ChangeListener = (change: StoreChange) => void;

type AffinityObject = Extract<ParsedObject, { kind: 'BlockAffinity' }>;

type ValueOf<K extends ObjectKind> = Extract<ParsedObject, { kind: K }>['value'];

/** One object's change: its value before the first change and after the last one since the journal was taken. */
export type ObjectChange = { [K in ObjectKind]: { readonly kind: K; readonly before?: ValueOf<K>; readonly after?: ValueOf<K> } }[ObjectKind];

export class SnapshotStore {
  readonly #values = new Map<ObjectKind, Map<string, ParsedObject>>();
  readonly #ledger: ProblemLedger;
  readonly #listeners = new Set<ChangeListener>();
  /**
   * BlockAffinities by the block CIDR they name, for routing one block without the whole
   * snapshot. A CIDR almost always has one: it is held as its object, not in a map of one.
   */
  readonly #affinities = new Map<string, AffinityObject | Map<string, AffinityObject>>();
  #cache: ClusterSnapshot | undefined;
  /** Changes key by key since the last takeChanges(); 'all' until the first, and after a relist. */
  #journal: Map<string, { kind: ObjectKind; before: ParsedObject | undefined; after: ParsedObject | undefined }> | 'all' = 'all';

  /** `onProblem` hears each distinct problem of an object once, for as long as the object keeps it. */
  constructor(onProblem: ProblemSink = () => undefined) {
    this.#ledger = new ProblemLedger(onProblem);
  }

  /** Applies one watch event's object. Returns whether the snapshot changed. */
  apply(result: ParseResult): boolean {
    const id = identify(result);
    if (id === undefined) return false;
    const { problems, invalid } = problemsOf(result);
    this.#ledger.track(id.kind, id.key, problems, invalid);
    // Invalid: reported and counted. Ignored (deleted, finished, host-network): simply not there.
    if (result.status !== 'ok') return this.#delete(id.kind, id.key) && this.#emit({ kind: id.kind, added: 0, updated: 0, removed: 1 });
    const outcome = this.#set(result.object);
    return outcome !== 'unchanged' && this.#emit({ kind: id.kind, added: outcome === 'added' ? 1 : 0, updated: outcome === 'updated' ? 1 : 0, removed: 0 });
  }

  upsertRaw(raw: unknown): ParseResult {
    const result = parseObject(raw);
    this.apply(result);
    return result;
  }

  /** A watch delete. Returns whether the snapshot changed. */
  remove(kind: ObjectKind, key: string): boolean {
    this.#ledger.track(kind, key, [], false);
    return this.#delete(kind, key) && this.#emit({ kind, added: 0, updated: 0, removed: 1 });
  }

  /**
   * A relist: `results` is everything of `kind` now in the datastore, and whatever is held but
   * missing from it is gone. Emits one change, and none if nothing differs.
   */
  replaceKind(kind: ObjectKind, results: readonly ParseResult[]): RelistCounts {
    const next = new Map<string, ParsedObject>();
    const found = new Map<string, ReturnType<typeof problemsOf>>();
    for (const result of results) {
      const id = identify(result);
      // Ignored results may be of any kind (a Service in a list); anything else must match.
      if (id === undefined || (result.status === 'ignored' && id.kind !== kind)) continue;
      if (id.kind !== kind) throw new TypeError(`replaceKind(${kind}) was given a ${id.kind} (${id.key})`);
      if (result.status === 'ok') next.set(id.key, result.object);
      else next.delete(id.key);
      found.set(id.key, problemsOf(result));
    }
    for (const key of this.#ledger.keys(kind)) if (!found.has(key)) this.#ledger.track(kind, key, [], false);
    for (const [key, { problems, invalid }] of found) this.#ledger.track(kind, key, problems, invalid);

    const counts = compareHeld(this.#values.get(kind) ?? new Map<string, ParsedObject>(), next);
    if (counts.added + counts.updated + counts.removed > 0) {
      this.#values.set(kind, next);
      // A relist changes many keys at once and is rare: consumers recompute everything.
      this.#journal = 'all';
      if (kind === 'BlockAffinity') {
        this.#affinities.clear();
        for (const object of next.values()) this.#indexAffinity(object, true);
      }
      this.#emit({ kind, added: counts.added, updated: counts.updated, removed: counts.removed });
    }
    return { kind, ...counts, invalid: [...found.values()].filter((entry) => entry.invalid).length };
  }

  /** The current picture; the same object until something changes, so calling it is cheap. */
  snapshot(): ClusterSnapshot {
    this.#cache ??= buildSnapshot([...this.#values.values()].flatMap((byKey) => [...byKey.values()]));
    return this.#cache;
  }

  /**
   * The objects that changed since the previous call, each with its first value before and last
   * value after (an object that came and went in between is left out), or 'all' when that is
   * not known key by key: on the first call, and after a relist replaced a whole kind.
   */
  takeChanges(): ObjectChange[] | 'all' {
    const journal = this.#journal;
    this.#journal = new Map();
    if (journal === 'all') return 'all';
    const out: ObjectChange[] = [];
    for (const { kind, before, after } of journal.values()) {
      if (before !== after) out.push({ kind, before: before?.value, after: after?.value } as ObjectChange);
    }
    return out;
  }

  /** The live affinities naming a block CIDR. */
  affinitiesOf(cidr: string): BlockAffinity[] | undefined {
    const held = this.#affinities.get(cidr);
    if (held === undefined) return undefined;
    return held instanceof Map ? [...held.values()].map((o) => o.value) : [held.value];
  }

  /** The pools, without building a snapshot. */
  pools(): IpPool[] {
    return [...(this.#values.get('IPPool')?.values() ?? [])].map((o) => o.value as IpPool);
  }

  /** Whether the node is held (Nodes are keyed by name), without building a snapshot. */
  hasNode(name: string): boolean {
    return this.#values.get('Node')?.has(name) ?? false;
  }

  get(kind: ObjectKind, key: string): ParsedObject | undefined {
    return this.#values.get(kind)?.get(key);
  }

  /** Objects currently rejected (and so missing from the snapshot). */
  get invalidCount(): number {
    return this.#ledger.invalidCount;
  }

  /** Every problem that holds now: rejected objects, and fields dropped from kept ones. */
  problems(): ObjectProblem[] {
    return this.#ledger.problems();
  }

  /** Returns a function that unsubscribes. */
  onChange(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #set(object: ParsedObject): 'added' | 'updated' | 'unchanged' {
    let byKey = this.#values.get(object.kind);
    if (byKey === undefined) this.#values.set(object.kind, (byKey = new Map()));
    const held = byKey.get(object.key);
    if (held !== undefined && sameObject(held, object)) return 'unchanged';
    byKey.set(object.key, object);
    this.#record(object.kind, object.key, held, object);
    return held === undefined ? 'added' : 'updated';
  }

  #delete(kind: ObjectKind, key: string): boolean {
    const held = this.#values.get(kind)?.get(key);
    if (held === undefined) return false;
    this.#values.get(kind)?.delete(key);
    this.#record(kind, key, held, undefined);
    return true;
  }

  #record(kind: ObjectKind, key: string, before: ParsedObject | undefined, after: ParsedObject | undefined): void {
    if (before !== undefined) this.#indexAffinity(before, false);
    if (after !== undefined) this.#indexAffinity(after, true);
    if (this.#journal === 'all') return;
    const id = `${kind}\0${key}`;
    const entry = this.#journal.get(id);
    if (entry === undefined) this.#journal.set(id, { kind, before, after });
    else entry.after = after;
  }

  #indexAffinity(object: ParsedObject, present: boolean): void {
    if (object.kind !== 'BlockAffinity') return;
    const cidr = object.value.cidr;
    const held = this.#affinities.get(cidr);
    if (present) {
      if (held === undefined || (!(held instanceof Map) && held.key === object.key)) this.#affinities.set(cidr, object);
      else if (held instanceof Map) held.set(object.key, object);
      else this.#affinities.set(cidr, new Map([[held.key, held], [object.key, object]]));
    } else if (held === object) {
      this.#affinities.delete(cidr);
    } else if (held instanceof Map && held.get(object.key) === object) {
      held.delete(object.key);
      const [last, ...more] = held.values();
      if (last !== undefined && more.length === 0) this.#affinities.set(cidr, last);
    }
  }

  #emit(change: StoreChange): true {
    this.#cache = undefined;
    for (const listener of [...this.#listeners]) listener(change);
    return true;
  }
}

function identify(result: ParseResult): { kind: ObjectKind; key: string } | undefined {
  if (result.status === 'ok') return result.object;
  return result.kind === undefined || result.key === undefined ? undefined : { kind: result.kind, key: result.key };
}

function problemsOf(result: ParseResult): { problems: readonly ObjectProblem[]; invalid: boolean } {
  if (result.status === 'invalid') return { problems: [result.problem], invalid: true };
  return { problems: result.status === 'ok' ? (result.problems ?? []) : [], invalid: false };
}
