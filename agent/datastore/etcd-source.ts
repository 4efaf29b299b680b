// The cluster from etcd v3 in Calico's layout: one consistent list of `/calico/` at a revision,
// then one prefix watch from the revision after it. Puts and deletes go into the SnapshotStore
// key by key; when etcd has compacted the revisions the watch needs, the whole prefix is listed
// again and each kind replaced — the store emits nothing for what did not change, so routes do
// not flap — and the watch resumes after the relist.
import type { AllocationDetail } from '../../calico/objects/ipam-block.js';
import type { Logger } from 'pino';
import { Backoff } from '../../util/backoff.js';
import type { ClusterSnapshot } from '../../routing/cluster.js';
import type { ChangeFeed, ClusterSource } from '../cluster-source.js';
import { ChangeSignal } from '../change-signal.js';
import { OBJECT_KINDS, type ObjectKind, type ParseResult } from '../../calico/objects/api.js';
import { parseEtcdKey } from '../../calico/objects/etcd-keys.js';
import { parseEtcdKv } from '../../calico/objects/etcd-kv.js';
import { SnapshotStore } from '../snapshot-store.js';
import type { ContactState } from '../../calico/datastore-contact.js';
import type { EtcdClient } from '../../calico/etcd/etcd-client.js';
import { watchPrefix, type PrefixWatch } from './etcd-watch.js';

export const CALICO_PREFIX = '/calico/';

export class EtcdSource implements ClusterSource {
  readonly store: SnapshotStore;
  private synced = false;
  private listFailure: string | undefined;
  private watch: PrefixWatch | undefined;
  private readonly changed = new ChangeSignal();

  /** `detail`: whose IPAM allocations to keep in full (calico/objects/ipam-block.ts). */
  constructor(private readonly client: EtcdClient, private readonly log: Logger, private readonly detail: AllocationDetail = 'all') {
    // Each object at debug: the agent logs problems per reason, with a count (problem-log.ts).
    this.store = new SnapshotStore((p) => log.debug({ kind: p.kind, name: p.name, field: p.field, problem: p.message }, 'invalid object left out'));
    this.store.onChange(() => this.emit());
  }

  /** Lists once (retrying until etcd answers) and starts the watch. */
  async start(signal?: AbortSignal): Promise<void> {
    const backoff = new Backoff({ initialMs: 200, maxMs: 10_000 });
    for (;;) {
      try {
        const revision = await this.relist();
        if (signal?.aborted) return; // closed while the listing was under way
        this.synced = true;
        this.listFailure = undefined;
        this.emit();
        this.watch = watchPrefix(this.client, CALICO_PREFIX, revision + 1, {
          onPut: (key, value) => this.store.apply(parseEtcdKv(key, value, this.detail)),
          onDelete: (key) => {
            const id = parseEtcdKey(key);
            if (id.type !== 'other') this.store.remove(id.kind, id.key);
          },
          onCompacted: async () => {
            this.log.warn({ prefix: CALICO_PREFIX }, 'watch revision compacted; relisting');
            return this.relist();
          },
          onError: (error) => this.log.warn({ err: error }, 'etcd watch interrupted; retrying'),
          onReconnected: () => this.log.info({ prefix: CALICO_PREFIX }, 'etcd watch resumed'),
        });
        return;
      } catch (error) {
        if (signal?.aborted) throw error;
        this.listFailure = (error as Error).message;
        const delay = backoff.next();
        this.log.warn({ err: error, retryInMs: delay }, 'etcd list failed; retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  snapshot(): ClusterSnapshot {
    return this.store.snapshot();
  }

  get feed(): ChangeFeed {
    return this.store;
  }

  inSync(): boolean {
    return this.synced;
  }

  syncProblem(): string | undefined {
    return this.synced ? undefined : this.listFailure;
  }

  contact(): ContactState {
    return this.client.contact.state();
  }

  onChange(listener: () => void): () => void {
    return this.changed.subscribe(listener);
  }

  async close(): Promise<void> {
    await this.watch?.close();
    this.changed.clear();
  }

  /** Lists the whole prefix at one revision and replaces every kind; returns that revision. */
  private async relist(): Promise<number> {
    // Parsed page by page as they arrive: the raw values of a big cluster never coexist.
    const listing = await this.client.scanPrefix(CALICO_PREFIX, (kv) => {
      const result = parseEtcdKv(kv.key, kv.value, this.detail);
      return result.status === 'ignored' && result.kind === undefined ? undefined : result;
    });
    const byKind = new Map<ObjectKind, ParseResult[]>(OBJECT_KINDS.map((k) => [k, []]));
    for (const result of listing.kvs) {
      const kind = result.status === 'ok' ? result.object.kind : result.kind;
      if (kind !== undefined) byKind.get(kind)?.push(result);
    }
    for (const [kind, results] of byKind) this.store.replaceKind(kind, results);
    return listing.revision;
  }

  private emit(): void {
    if (this.synced) this.changed.emit();
  }
}
