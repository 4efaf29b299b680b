// WATCH: a chunked HTTP 200 stream of newline-delimited {type, object} events, as the apiserver's
// watch cache serves it.
//   resourceVersion unset or "0" → synthetic ADDED for every current object, then changes
//   resourceVersion N            → every change after N (a future N waits silently for it)
//   N older than the compaction  → one ERROR event carrying a 410 Expired Status, then the stream ends
// Selectors apply to events the way the cacher applies them: an object that stops matching arrives
// as DELETED (its previous state at the new revision), one that starts matching as ADDED.
// BOOKMARKs (only with allowWatchBookmarks=true) carry kind/apiVersion and metadata.resourceVersion
// only. timeoutSeconds ends the stream cleanly; without it the server picks a random timeout in
// [minRequestTimeout, 2·minRequestTimeout), like kube-apiserver's --min-request-timeout.
import type { ServerResponse } from 'node:http';
import type { KubeObject, WatchEvent } from './types.js';
import type { ResourceDef } from './resources.js';
import type { StoredEvent } from './store.js';
import type { Predicate } from './selectors.js';
import type { ReadContext } from './list.js';
import { apiVersionOf, qualifiedResource } from './resources.js';
import { objectFilter } from './selectors.js';
import { parseRevision } from './list.js';
import { ApiError, badRequest, expired, unprocessable } from './status.js';
import { waitForRevision } from './freshness.js';

export interface WatchContext extends ReadContext {
  readonly bookmarkIntervalMs: number;
  readonly minRequestTimeoutSeconds: number;
  /** Output a client has not read yet beyond which the server gives up on it (ends the stream). */
  readonly slowWatcherBytes: number;
}

export interface WatchOptions {
  readonly resourceVersion: string;
  readonly bookmarks: boolean;
  readonly sendInitialEvents: boolean;
  readonly timeoutSeconds: number | undefined;
}

export function parseWatchOptions(params: URLSearchParams): WatchOptions {
  const rv = params.get('resourceVersion') ?? '';
  if (rv !== '' && rv !== '0') parseRevision(rv);
  const timeout = params.get('timeoutSeconds');
  if (timeout !== null && !/^\d+$/.test(timeout)) throw badRequest(`invalid timeoutSeconds: ${JSON.stringify(timeout)}`);
  const bookmarks = params.get('allowWatchBookmarks') === 'true';
  const sendInitialEvents = params.get('sendInitialEvents') === 'true';
  const match = params.get('resourceVersionMatch') ?? '';
  if (sendInitialEvents && (match !== 'NotOlderThan' || !bookmarks)) {
    throw unprocessable('ListOptions.meta.k8s.io "" is invalid: sendInitialEvents: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan and allowWatchBookmarks');
  }
  if (!sendInitialEvents && match !== '') {
    throw unprocessable('ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided');
  }
  return { resourceVersion: rv, bookmarks, sendInitialEvents, timeoutSeconds: timeout === null ? undefined : Number(timeout) };
}

/** What a watcher with `filter` sees of a stored event, if anything. */
export function eventFor(filter: Predicate, e: StoredEvent): WatchEvent | undefined {
  const now = filter(e.object);
  const before = e.prev !== undefined && filter(e.prev);
  if (e.type === 'DELETED') return now ? { type: 'DELETED', object: e.object } : undefined;
  if (now) return { type: e.type === 'MODIFIED' && before ? 'MODIFIED' : 'ADDED', object: e.object };
  if (!before || e.prev === undefined) return undefined;
  const gone = structuredClone(e.prev);
  gone.metadata.resourceVersion = String(e.revision);
  return { type: 'DELETED', object: gone };
}

function bookmark(def: ResourceDef, revision: number, initialEventsEnd: boolean): WatchEvent {
  const metadata: KubeObject['metadata'] = { resourceVersion: String(revision) };
  if (initialEventsEnd) metadata.annotations = { 'k8s.io/initial-events-end': 'true' };
  return { type: 'BOOKMARK', object: { kind: def.kind, apiVersion: apiVersionOf(def), metadata } };
}

/** Streams a watch on `res` until timeout, client disconnect or server close; resolves when done. */
export async function serveWatch(
  ctx: WatchContext, def: ResourceDef, namespace: string | undefined, params: URLSearchParams,
  opts: WatchOptions, res: ServerResponse,
): Promise<void> {
  const filter = objectFilter(def, namespace, params);
  const resource = qualifiedResource(def);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();
  const send = (event: WatchEvent) => {
    if (res.writableEnded || res.destroyed) return;
    res.write(`${JSON.stringify(event)}\n`);
    if (res.writableLength > ctx.slowWatcherBytes) res.end();
  };

  let floor: number;
  if (opts.resourceVersion === '' || opts.resourceVersion === '0' || opts.sendInitialEvents) {
    if (opts.resourceVersion !== '' && opts.resourceVersion !== '0') {
      try {
        await waitForRevision(ctx.store, parseRevision(opts.resourceVersion), ctx.tooLargeWaitMs, ctx.closing);
      } catch (err) {
        if (err instanceof ApiError) send({ type: 'ERROR', object: err.status });
        res.end();
        return;
      }
    }
    floor = ctx.store.currentRevision();
    for (const [, obj] of ctx.store.current(resource)) if (filter(obj)) send({ type: 'ADDED', object: obj });
    if (opts.sendInitialEvents) send(bookmark(def, floor, true));
  } else {
    floor = Number(opts.resourceVersion);
    const backlog = ctx.store.eventsAfter(resource, floor);
    if (backlog === undefined) {
      send({ type: 'ERROR', object: expired(`too old resource version: ${floor} (${ctx.store.compactedRevision()})`).status });
      res.end();
      return;
    }
    for (const e of backlog) {
      const out = eventFor(filter, e);
      if (out !== undefined) send(out);
    }
  }

  const unsubscribe = ctx.store.subscribe((e) => {
    if (e.resource !== resource || e.revision <= floor) return;
    const out = eventFor(filter, e);
    if (out !== undefined) send(out);
  });
  // timeoutSeconds=0 means "no preference", as unset.
  const timeoutMs = opts.timeoutSeconds !== undefined && opts.timeoutSeconds > 0
    ? opts.timeoutSeconds * 1000
    : ctx.minRequestTimeoutSeconds * 1000 * (1 + Math.random());
  const timeout = setTimeout(() => res.end(), timeoutMs);
  const ticker = opts.bookmarks && ctx.bookmarkIntervalMs > 0
    ? setInterval(() => {
      // The cacher drops bookmarks that are not newer than the revision the watch started from.
      const revision = ctx.store.currentRevision();
      if (revision > floor) send(bookmark(def, revision, false));
    }, ctx.bookmarkIntervalMs)
    : undefined;
  await new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timeout);
      if (ticker !== undefined) clearInterval(ticker);
      unsubscribe();
      resolve();
    };
    // 'close' on the response covers both a clean end and a connection torn down under it.
    if (res.writableEnded || res.destroyed) done();
    else res.once('close', done);
  });
}
