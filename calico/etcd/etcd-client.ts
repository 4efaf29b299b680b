// wren's view of etcd v3, over the `etcd3` package: consistent prefix reads, single-key reads,
// and the three transactional writes Calico's IPAM is built on (create-if-absent, compare-and-
// swap and compare-and-delete on the mod revision). A lost race is a result, not an error; an
// error always names the operation and the key.
//
// Fault handling (etcd3 1.1.2's defaults replaced by etcd-faults.ts):
// - etcd3 guards each endpoint with a circuit breaker that, after three failures, refuses every
//   call to it for 5 s. With one endpoint that turns an etcd restart into 5 s of refusals after
//   etcd is back; callers here already back off, so calls always go through.
// - etcd3 retries any "recoverable" gRPC error up to three times. For a transaction that is wrong:
//   a reply lost after the commit would be retried and reported as a conflict with our own write.
//   Here a call moves to the next endpoint only when it provably never reached etcd.
import { Etcd3, Range, type IDuplexStream, type IKeyValue, type IWatchRequest, type IWatchResponse } from 'etcd3';
import { redactUrls } from '../../util/redact.js';
import { DatastoreContact } from '../datastore-contact.js';
import { parseEndpoints } from './etcd-endpoints.js';
import { EtcdOperationError, etcdErrorText } from './etcd-errors.js';
import { NextEndpointIfUnsent, PassThrough } from './etcd-faults.js';

export interface KeyValue {
  readonly key: string;
  readonly value: string;
  readonly modRevision: number;
}

export interface PrefixListing<T = KeyValue> {
  /** The one revision every page was read at. */
  readonly revision: number;
  readonly kvs: readonly T[];
}

/** A successful write; `revision` is the write's revision, i.e. the key's new mod revision. */
export interface Written {
  readonly ok: true;
  readonly revision: number;
}
export type CreateResult = Written | { readonly ok: false; readonly reason: 'exists'; readonly current: KeyValue };
/** On failure `current` is what the key held when the comparison failed (read in the same transaction). */
export type SwapResult = Written | { readonly ok: false; readonly reason: 'conflict'; readonly current: KeyValue } | { readonly ok: false; readonly reason: 'missing' };

export type WatchStream = IDuplexStream<IWatchRequest, IWatchResponse>;

export interface EtcdUser {
  readonly username: string;
  readonly password: string;
}

/** PEM contents, as gRPC takes them. */
export interface EtcdTls {
  /** The CA bundle to trust; Node's own roots when no file is given. */
  readonly ca: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

export interface EtcdClientOptions {
  /** One URL or several, as a list or comma-separated: `http://a:2379,http://b:2379`. */
  readonly endpoints: string | readonly string[];
  /** Deadline for each unary call (not for watch streams). */
  readonly requestTimeoutMs?: number;
  /**
   * Keys per page in listPrefix. etcd 3.4 walks its index over the whole rest of the range for
   * every page, so small pages make a big listing quadratic; one page of 2,000 Calico values is
   * about 2 MB in flight.
   */
  readonly pageSize?: number;
  /** For https endpoints: the CA to trust and the client identity (agent/datastore/etcd-credentials.ts reads them). */
  readonly tls?: EtcdTls;
  /** An etcd user (etcd with `auth enable`): etcd3 trades it for a token, and again when that expires. */
  readonly user?: EtcdUser;
}

/** Parses an etcd revision (int64 as a decimal string from etcd3); wren keeps them as numbers. */
export function parseRevision(text: string | number, what = 'revision'): number {
  const revision = Number(text);
  if (!Number.isSafeInteger(revision) || revision < 0) throw new Error(`etcd ${what} ${String(text)} is not a usable revision`);
  return revision;
}

const COMPACTED = 'required revision has been compacted';
/** gRPC's CANCELLED: a stream this client ended itself, not etcd failing. */
const GRPC_CANCELLED = 1;
const LIST_ATTEMPTS = 3;

export class EtcdClient {
  readonly endpoints: readonly string[];
  /** Every answer from etcd, and every failed call or dropped watch stream (for /readyz and /status). */
  readonly contact = new DatastoreContact();
  private readonly etcd: Etcd3;
  private readonly pageSize: number;
  private readonly streams = new Set<WatchStream>();

  constructor(options: EtcdClientOptions) {
    this.endpoints = parseEndpoints(options.endpoints);
    this.pageSize = options.pageSize ?? 2000;
    const timeoutMs = options.requestTimeoutMs ?? 10_000;
    const tls = options.tls;
    if (tls !== undefined && !this.endpoints.every((e) => e.startsWith('https://'))) throw new Error(`etcd TLS needs https:// endpoints, got ${redactUrls(this.endpoints.join(','))}`);
    this.etcd = new Etcd3({
      hosts: [...this.endpoints],
      ...(tls === undefined ? {} : { credentials: { rootCertificate: tls.ca, privateKey: tls.key, certChain: tls.cert } }),
      ...(options.user === undefined ? {} : { auth: { username: options.user.username, password: options.user.password } }),
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeoutMs }),
      grpcOptions: {
        // A catch-up watch response holds up to 1000 revisions of events, far past gRPC's 4 MB
        // default; refusing it would make the watch fail the same way on every reconnect.
        'grpc.max_receive_message_length': -1,
        // Pings on open streams find a peer that vanished without a FIN (partition, frozen etcd).
        // etcd rejects pings more often than every 5 s (--grpc-keepalive-min-time).
        'grpc.keepalive_time_ms': 10_000,
        'grpc.keepalive_timeout_ms': 5_000,
      },
      faultHandling: { host: () => new PassThrough(), global: new NextEndpointIfUnsent(this.endpoints.length) },
    });
  }

  /** Every key under `prefix` at one revision, paged; restarts if a compaction overtakes the pages. */
  async listPrefix(prefix: string): Promise<PrefixListing> {
    return this.scanPrefix(prefix, (kv) => kv);
  }

  /**
   * listPrefix that turns each pair into what the caller keeps (`undefined`: nothing) as its page
   * arrives, so only one page of raw values is ever alive: at 100,000 blocks the whole listing
   * as strings is over 100 MB. `read` may run again for a key when a compaction restarts the
   * listing; only the last run's results are returned. `keysOnly`: every value reads as ''.
   */
  async scanPrefix<T>(prefix: string, read: (kv: KeyValue) => T | undefined, options: { keysOnly?: boolean } = {}): Promise<PrefixListing<T>> {
    const range = Range.prefix(prefix);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.listRange(range, read, options.keysOnly ?? false);
      } catch (error) {
        if (attempt >= LIST_ATTEMPTS || !etcdErrorText(error).includes(COMPACTED)) throw new EtcdOperationError('list', prefix, { cause: error });
      }
    }
  }

  async get(key: string): Promise<KeyValue | undefined> {
    try {
      const response = await this.answer(this.etcd.kv.range({ key: Buffer.from(key) }));
      const kv = response.kvs[0];
      return kv === undefined ? undefined : toKeyValue(kv);
    } catch (error) {
      throw new EtcdOperationError('get', key, { cause: error });
    }
  }

  /** Writes `key` only if it does not exist (create revision 0). */
  async create(key: string, value: string): Promise<CreateResult> {
    const result = await this.txn('create', key, { target: 'Create', create_revision: 0 }, { request_put: { key: Buffer.from(key), value: Buffer.from(value) } });
    if (result.ok) return result;
    if (result.current === undefined) throw new EtcdOperationError('create', key, { cause: new Error('comparison failed but the key is absent') });
    return { ok: false, reason: 'exists', current: result.current };
  }

  /** Writes `key` only if its mod revision is still `modRevision`. */
  async compareAndSwap(key: string, value: string, modRevision: number): Promise<SwapResult> {
    return swapResult(await this.txn('compare-and-swap', key, { target: 'Mod', mod_revision: modRevision }, { request_put: { key: Buffer.from(key), value: Buffer.from(value) } }));
  }

  /** Deletes `key` only if its mod revision is still `modRevision`. */
  async compareAndDelete(key: string, modRevision: number): Promise<SwapResult> {
    return swapResult(await this.txn('compare-and-delete', key, { target: 'Mod', mod_revision: modRevision }, { request_delete_range: { key: Buffer.from(key) } }));
  }

  /** A raw watch stream (for etcd-watch.ts), cancelled by close() if still open then. */
  async openWatchStream(): Promise<WatchStream> {
    // Opening is not an answer (gRPC may hand out a stream before it has a connection); the
    // stream's first response is.
    const stream = await this.etcd.watchClient.watch().catch((error: unknown) => {
      this.contact.failed(this.failure(error));
      throw error;
    });
    this.streams.add(stream);
    const forget = () => this.streams.delete(stream);
    stream.on('end', forget).on('error', forget);
    // Every response (events, the watch confirmed, a progress reply) is etcd answering.
    stream.on('data', () => this.contact.succeeded());
    stream.on('error', (error: Error & { code?: number }) => {
      if (error.code !== GRPC_CANCELLED) this.contact.failed(this.failure(error));
    });
    return stream;
  }

  close(): void {
    for (const stream of this.streams) {
      // end() first: etcd3 only marks the endpoint failed for an error on a still-writable stream.
      stream.end();
      stream.cancel();
    }
    this.etcd.close();
  }

  private async listRange<T>(range: Range, read: (kv: KeyValue) => T | undefined, keysOnly: boolean): Promise<PrefixListing<T>> {
    const kvs: T[] = [];
    let revision: number | undefined;
    let start = range.start;
    for (;;) {
      // Page 1 fixes the revision; later pages read at it, so together they are one snapshot.
      const page = await this.answer(this.etcd.kv.range({ key: start, range_end: range.end, limit: this.pageSize, revision, keys_only: keysOnly }));
      revision ??= parseRevision(page.header.revision);
      const last = page.kvs.at(-1);
      for (const kv of page.kvs) {
        const kept = read(toKeyValue(kv));
        if (kept !== undefined) kvs.push(kept);
      }
      if (!page.more || last === undefined) return { revision, kvs };
      start = Buffer.concat([last.key, Buffer.from([0])]);
    }
  }

  private async txn(
    operation: string,
    key: string,
    compare: { target: 'Create' | 'Mod'; create_revision?: number; mod_revision?: number },
    success: { request_put?: { key: Buffer; value: Buffer }; request_delete_range?: { key: Buffer } },
  ): Promise<Written | { ok: false; current: KeyValue | undefined }> {
    try {
      const response = await this.answer(this.etcd.kv.txn({
        compare: [{ key: Buffer.from(key), result: 'Equal', ...compare }],
        success: [success],
        failure: [{ request_range: { key: Buffer.from(key) } }],
      }));
      if (response.succeeded) return { ok: true, revision: parseRevision(response.header.revision) };
      const current = response.responses[0]?.response_range?.kvs[0];
      return { ok: false, current: current === undefined ? undefined : toKeyValue(current) };
    } catch (error) {
      throw new EtcdOperationError(operation, key, { cause: error });
    }
  }

  /** An etcd call, recorded as contact when it answers and as a failure when it does not. */
  private async answer<T>(call: Promise<T>): Promise<T> {
    try {
      const result = await call;
      this.contact.succeeded();
      return result;
    } catch (error) {
      this.contact.failed(this.failure(error));
      throw error;
    }
  }

  private failure(error: unknown): string {
    return `etcd ${this.endpoints.join(',')}: ${etcdErrorText(error)}`;
  }
}

function swapResult(result: Written | { ok: false; current: KeyValue | undefined }): SwapResult {
  if (result.ok) return result;
  return result.current === undefined ? { ok: false, reason: 'missing' } : { ok: false, reason: 'conflict', current: result.current };
}

function toKeyValue(kv: IKeyValue): KeyValue {
  const key = kv.key.toString('utf8');
  return { key, value: kv.value.toString('utf8'), modRevision: parseRevision(kv.mod_revision, `mod revision of ${key}`) };
}
