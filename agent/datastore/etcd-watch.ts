// One resilient watch on a key prefix (wren watches `/calico/`): events are delivered in revision
// order, each exactly once, across etcd restarts. The watch asks etcd for `nextRevision`, one past
// the last event delivered; after a lost connection it waits (capped exponential backoff with
// jitter) and asks again from there, so a write made while it was away arrives once on return.
// If etcd has compacted that revision away, the caller relists and the watch resumes after it.
//
// Why a raw gRPC watch stream (EtcdClient.openWatchStream, i.e. etcd3's public `watchClient`)
// and not etcd3's Watcher. What etcd3 1.1.2 does, read in lib/watch.js and checked against etcd
// 3.4.23:
// - Compaction: etcd first confirms the watch (`created`), then sends a response with
//   `canceled: true`, `compact_revision: N` and an empty `cancel_reason`. etcd3's WatchManager
//   turns any cancel into `watcher.emit('error', new EtcdError('Watcher canceled: ' + reason))`,
//   i.e. the message "Watcher canceled: " with the compact revision dropped, and no 'data'. A
//   Watcher with no 'error' listener at that moment throws from inside the stream handler.
// - Disconnect (etcd killed): the stream emits 'error' with grpc-js's plain Error, code 14,
//   "14 UNAVAILABLE: Connection dropped" (not cast to GRPCUnavailableError), then 'end'. The
//   manager handles both, so every Watcher gets 'disconnected' twice (that Error, then
//   EtcdWatchStreamEnded) and two reconnect timers start. While etcd is down each retry emits
//   'connecting' then 'disconnected' ("14 UNAVAILABLE: No connection established ... ECONNREFUSED");
//   after three, etcd3's per-endpoint circuit breaker answers BrokenCircuitError for 5 s, even
//   once etcd is back. 'connected' (a new `created` response) is the only sign of recovery.
// - Resume point: the Watcher restarts from the *header* revision + 1 of the last response,
//   including the `created` response, whose header is etcd's current revision before the
//   catch-up events are sent; a drop between the two skips those events.
// - After Etcd3.close() a Watcher that was not cancelled retries forever (ClientClosedError).
// Here the stream's own responses decide: events advance nextRevision by their mod revision,
// `compact_revision` means compaction, 'error'/'end' mean a lost connection.
import { setTimeout as delay } from 'node:timers/promises';
import { ClientClosedError, Range, type IWatchResponse } from 'etcd3';
import { Backoff } from '../../util/backoff.js';
import { parseRevision, type WatchStream } from '../../calico/etcd/etcd-client.js';

export interface WatchSource {
  openWatchStream(): Promise<WatchStream>;
}

export interface WatchHandlers {
  onPut(key: string, value: string, modRevision: number): void;
  onDelete(key: string, modRevision: number): void;
  /**
   * The revisions the watch needs are compacted away: relist, diff, and resolve with the
   * revision the relist read at; the watch resumes just after it. A rejection is reported
   * through onError and the handler is called again after a backoff.
   */
  onCompacted(): Promise<number>;
  /**
   * A failed attempt, or a handler that threw. Informational, the watch keeps retrying; except
   * for etcd3's ClientClosedError (the client was closed under the watch), after which it stops.
   */
  onError(error: Error): void;
  /** A watch is established again after one or more failed attempts. */
  onReconnected(): void;
}

export interface WatchOptions {
  /** Retry delays double from initialMs up to maxMs, with jitter in [delay/2, delay]. */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  /** Waits between attempts; must settle when `signal` aborts (close()). */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly random?: () => number;
  /**
   * How often an open watch asks etcd for a progress reply (etcd 3.4's progress_request): in a
   * quiet cluster that reply is the only sign that etcd is there. Default 10 s; 0: never.
   */
  readonly progressIntervalMs?: number;
}

export interface PrefixWatch {
  /** The revision the watch asks etcd for next: one past the last event delivered. */
  readonly nextRevision: number;
  /** Stops the watch; no handler runs once this resolves. */
  close(): Promise<void>;
}

/** Watches `prefix` from `fromRevision` (inclusive, as etcd's start_revision). */
export function watchPrefix(source: WatchSource, prefix: string, fromRevision: number, handlers: WatchHandlers, options: WatchOptions = {}): PrefixWatch {
  const watch = new ResilientWatch(source, prefix, fromRevision, handlers, options);
  watch.start();
  return watch;
}

type Outcome = { readonly type: 'compacted' } | { readonly type: 'failed'; readonly error: Error } | { readonly type: 'closed' };

const DEFAULT_BACKOFF = { initialMs: 250, maxMs: 10_000 } as const;
const DEFAULT_PROGRESS_INTERVAL_MS = 10_000;

class ResilientWatch implements PrefixWatch {
  nextRevision: number;
  private readonly range: Range;
  private readonly abort = new AbortController();
  /** Reset when etcd confirms a watch. */
  private readonly backoff: Backoff;
  private lostConnection = false;
  private finishAttempt: ((outcome: Outcome) => void) | undefined;
  private done: Promise<void> = Promise.resolve();

  constructor(
    private readonly source: WatchSource,
    private readonly prefix: string,
    fromRevision: number,
    private readonly handlers: WatchHandlers,
    private readonly options: WatchOptions,
  ) {
    this.nextRevision = parseRevision(fromRevision, `start revision for ${prefix}`);
    this.range = Range.prefix(prefix);
    this.backoff = new Backoff({ ...(options.backoff ?? DEFAULT_BACKOFF), jitter: 0.5, random: options.random });
  }

  start(): void {
    this.done = this.run();
  }

  async close(): Promise<void> {
    this.abort.abort();
    this.finishAttempt?.({ type: 'closed' });
    await this.done;
  }

  private get closed(): boolean {
    return this.abort.signal.aborted;
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      const outcome = await this.attempt();
      if (outcome.type === 'closed' || this.closed) return;
      if (outcome.type === 'compacted') {
        await this.relist();
        continue;
      }
      this.lostConnection = true;
      this.report(outcome.error);
      if (outcome.error instanceof ClientClosedError) return;
      await this.pause();
    }
  }

  /** One stream, from open to its end; resolves with why it ended. */
  private async attempt(): Promise<Outcome> {
    let stream: WatchStream;
    try {
      stream = await this.source.openWatchStream();
    } catch (error) {
      return { type: 'failed', error: this.describe('open a watch stream', error) };
    }
    const progressMs = this.options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS;
    let progress: NodeJS.Timeout | undefined;
    return new Promise<Outcome>((resolve) => {
      const finish = (outcome: Outcome) => {
        if (this.finishAttempt !== finish) return;
        this.finishAttempt = undefined;
        clearInterval(progress);
        // end() before cancel(): etcd keeps a half-closed stream open, and etcd3 resets the
        // endpoint's connection on an error from a stream that is still writable.
        stream.end();
        stream.cancel();
        resolve(outcome);
      };
      this.finishAttempt = finish;
      stream.on('data', (response: IWatchResponse) => {
        if (this.finishAttempt !== finish) return;
        try {
          this.receive(response, finish);
        } catch (error) {
          // Only a revision past 2^53 gets here; thrown from a stream listener it would crash.
          finish({ type: 'failed', error: this.describe('read a watch response', error) });
        }
      });
      // Listeners first: cancel() makes the stream emit 'error', which must not go unheard.
      stream.on('error', (error: Error) => finish({ type: 'failed', error: this.describe('watch', error) }));
      stream.on('end', () => finish({ type: 'failed', error: this.describe('watch', new Error('etcd ended the stream')) }));
      if (this.closed) return finish({ type: 'closed' });
      stream.write({ create_request: { key: this.range.start, range_end: this.range.end, start_revision: this.nextRevision } });
      // A progress reply carries no events and no `created`: receive() passes over it.
      if (progressMs > 0) progress = setInterval(() => stream.write({ progress_request: {} }), progressMs).unref();
    });
  }

  private receive(response: IWatchResponse, finish: (outcome: Outcome) => void): void {
    if (response.compact_revision !== '0') return finish({ type: 'compacted' });
    if (response.canceled) {
      const reason = response.cancel_reason === '' ? 'no reason given' : response.cancel_reason;
      return finish({ type: 'failed', error: this.describe('watch', new Error(`etcd cancelled the watch: ${reason}`)) });
    }
    if (response.created) {
      this.backoff.reset();
      if (this.lostConnection) {
        this.lostConnection = false;
        this.safely(() => this.handlers.onReconnected());
      }
      return;
    }
    // etcd never splits one revision's events across responses (we ask for no fragments), so
    // moving past the last revision seen loses none of a multi-key transaction.
    let last = this.nextRevision - 1;
    for (const event of response.events) {
      const key = event.kv.key.toString('utf8');
      const revision = parseRevision(event.kv.mod_revision, `mod revision of ${key}`);
      if (revision < this.nextRevision) continue; // Already delivered; etcd should not resend it.
      if (event.type === 'Delete') this.safely(() => this.handlers.onDelete(key, revision));
      else this.safely(() => this.handlers.onPut(key, event.kv.value.toString('utf8'), revision));
      last = Math.max(last, revision);
    }
    this.nextRevision = last + 1;
  }

  private async relist(): Promise<void> {
    while (!this.closed) {
      try {
        const revision = parseRevision(await this.handlers.onCompacted(), `relist revision for ${this.prefix}`);
        this.nextRevision = revision + 1;
        return;
      } catch (error) {
        if (this.closed) return;
        this.report(this.describe('relist after compaction', error));
        await this.pause();
      }
    }
  }

  private async pause(): Promise<void> {
    const ms = this.backoff.next();
    const sleep = this.options.sleep ?? ((wait, signal) => delay(wait, undefined, { signal }).catch(() => undefined));
    await sleep(ms, this.abort.signal);
  }

  private report(error: Error): void {
    if (this.closed) return;
    try {
      this.handlers.onError(error);
    } catch {
      // An error handler that throws has nowhere left to report to.
    }
  }

  /** A throwing handler must not end the watch; it is reported and the event counts as delivered. */
  private safely(call: () => void): void {
    try {
      call();
    } catch (error) {
      this.report(this.describe('handle an event', error));
    }
  }

  private describe(what: string, cause: unknown): Error {
    if (cause instanceof ClientClosedError) return cause;
    const message = cause instanceof Error ? cause.message : String(cause);
    return new Error(`etcd watch on ${this.prefix} (next revision ${this.nextRevision}): could not ${what}: ${message}`, { cause });
  }
}
