// One resource's list+watch (client-node's ListWatch), feeding one kind of the SnapshotStore.
//
// A list replaces the kind in the store (replaceKind), so whatever vanished while the watch was
// down goes, and a relist that returns what is held changes nothing: no change event, no
// routing pass, no flapping routes. Watch events apply or remove single objects.
//
// ListWatch relists by itself after a 410 Gone, but stops for good on any other error (a torn
// connection, a refused one, a 5xx): this restarts it with capped exponential backoff. It keeps
// its resourceVersion across a restart, so it resumes the watch where it was and relists only if
// the server has compacted that version away.
import type { AllocationDetail } from '../../calico/objects/ipam-block.js';
import { ListWatch, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Backoff } from '../../util/backoff.js';
import type { ObjectKind, ParseResult } from '../../calico/objects/api.js';
import { parseObject } from '../../calico/objects/parse-object.js';
import type { SnapshotStore } from '../snapshot-store.js';
import type { KubeClient } from '../../calico/kubernetes/kubernetes-client.js';
import { apiVersionOf, collectionPath, qualifiedName, typed, type KubeResource } from '../../calico/kubernetes/kubernetes-resources.js';

export interface InformerOptions {
  readonly client: KubeClient;
  readonly resource: KubeResource;
  /** The snapshot kind the resource's objects parse to (Pod → Workload). */
  readonly kind: ObjectKind;
  readonly store: SnapshotStore;
  readonly log: Logger;
  readonly backoff: Backoff;
  readonly fieldSelector?: string;
  /** The server ends each watch after this long (a clean end, resumed at once): a half-open connection is noticed then. */
  readonly watchTimeoutSeconds: number;
  /** Called once, after the first list is in the store. */
  readonly onSynced: () => void;
  /** Whose IPAM allocations to keep in full (calico/objects/ipam-block.ts). */
  readonly detail: AllocationDetail;
}

export class ResourceInformer {
  readonly #options: InformerOptions;
  readonly #listWatch: ListWatch<KubernetesObject>;
  // Objects the last lists handed to ListWatch: already in the store through replaceKind, so the
  // add/update callbacks ListWatch fires for them are skipped rather than parsed a second time.
  readonly #listed = new WeakSet<object>();
  readonly #abort = new AbortController();
  #synced = false;
  #stopped = false;
  #restarts = 0;
  #lastFailure: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();

  constructor(options: InformerOptions) {
    this.#options = options;
    const watch = options.client.watch(options.resource, { active: () => !this.#stopped, progress: () => options.backoff.reset() });
    options.client.check(options.resource, 'list');
    const path = `${collectionPath(options.resource)}?allowWatchBookmarks=true&timeoutSeconds=${options.watchTimeoutSeconds}`;
    this.#listWatch = new ListWatch(path, watch, () => this.#list(), false, undefined, options.fieldSelector);
    this.#listWatch.on('add', (object) => this.#upsert(object));
    this.#listWatch.on('update', (object) => this.#upsert(object));
    this.#listWatch.on('delete', (object) => this.#remove(object));
    this.#listWatch.on('error', (error) => this.#failed(error));
  }

  get synced(): boolean {
    return this.#synced;
  }

  /** How many times the informer was restarted after an error. */
  get restarts(): number {
    return this.#restarts;
  }

  /** Why it last stopped, naming its resource; undefined if it never has. */
  get lastFailure(): string | undefined {
    return this.#lastFailure;
  }

  start(): void {
    // start() rejects only when the watch cannot even be set up (say, an unreadable token file);
    // that is one more failure to retry, not a crash.
    this.#running = this.#listWatch.start().catch((error: unknown) => this.#failed(error));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#abort.abort();
    await this.#listWatch.stop();
    await this.#running;
  }

  async #list(): Promise<KubernetesListObject<KubernetesObject>> {
    const { resource, kind, store } = this.#options;
    const list = await this.#options.client.list(resource, { fieldSelector: this.#options.fieldSelector, signal: this.#abort.signal });
    if (this.#stopped) throw new Error(`list ${qualifiedName(resource)}: informer stopped`);
    const items = list.items.map((item) => typed(resource, item));
    for (const item of items) this.#listed.add(item);
    const counts = store.replaceKind(kind, items.map((item) => parseObject(item, this.#options.detail)));
    this.#options.backoff.reset();
    this.#options.log.info({ resource: qualifiedName(resource), objects: items.length, added: counts.added, updated: counts.updated, removed: counts.removed, invalid: counts.invalid }, 'listed');
    if (!this.#synced) {
      this.#synced = true;
      this.#options.onSynced();
    }
    return { apiVersion: apiVersionOf(resource), kind: `${resource.kind}List`, metadata: { resourceVersion: list.resourceVersion }, items: items as KubernetesObject[] };
  }

  #upsert(object: KubernetesObject): void {
    if (this.#listed.has(object)) return;
    this.#options.store.apply(parseObject(typed(this.#options.resource, object as Record<string, unknown>), this.#options.detail));
  }

  #remove(object: KubernetesObject): void {
    // The key comes from the parser itself, so it is the key the object was stored under.
    const id = identify(parseObject(typed(this.#options.resource, object as Record<string, unknown>)));
    if (id !== undefined) this.#options.store.remove(id.kind, id.key);
  }

  #failed(error: unknown): void {
    // After stop() the aborted watch reports an AbortError: restarting then would resurrect it.
    if (this.#stopped || this.#timer !== undefined) return;
    const delay = this.#options.backoff.next();
    this.#restarts += 1;
    this.#lastFailure = `${qualifiedName(this.#options.resource)}: ${describe(error)}`;
    this.#options.client.contact.failed(this.#lastFailure);
    this.#options.log.warn({ resource: qualifiedName(this.#options.resource), error: describe(error), retryInMs: delay }, 'informer stopped; restarting');
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.start();
    }, delay);
  }
}

function identify(result: ParseResult): { kind: ObjectKind; key: string } | undefined {
  if (result.status === 'ok') return result.object;
  return result.kind === undefined || result.key === undefined ? undefined : { kind: result.kind, key: result.key };
}

/** Errors from node-fetch, the API and the list carry different fields; this keeps what helps. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const { code, statusCode } = error as { code?: unknown; statusCode?: unknown };
  const status = statusCode ?? code;
  return status === undefined ? error.message : `${error.message} (${String(status)})`;
}
