// kube-api-double: a TEST DOUBLE of kube-apiserver's list/watch/write protocol over real HTTP on
// 127.0.0.1, for testing code built on @kubernetes/client-node without a cluster.
//
// What @kubernetes/client-node 1.4.0's informer (makeInformer / ListWatch) does, read from its
// dist/cache.js and dist/watch.js and checked in test/kube-api-double-informer.test.ts (all but
// the two points marked "source only"):
// - start(): 'connect', then the list function (only when it has no resourceVersion yet), then a
//   watch from the list's metadata.resourceVersion. It never sends allowWatchBookmarks or
//   timeoutSeconds; put them in the path ('/api/v1/nodes?allowWatchBookmarks=true&timeoutSeconds=300'),
//   its own params are appended. Selectors passed to makeInformer/ListWatch go on the WATCH only;
//   the list function must apply the same ones. makeInformer has no field selector: use
//   new ListWatch(path, new Watch(kc), listFn, false, labelSelector, fieldSelector).
// - Clean end of a watch (timeoutSeconds, server closes): 'connect', re-watch from the last
//   resourceVersion seen (events and BOOKMARKs both advance it). No relist.
// - ERROR event with code 410 (or HTTP 410 on the watch request, source only): resourceVersion is
//   cleared and, when the server then ends the stream, it relists by itself, diffing against its
//   cache: gone → 'delete', changed resourceVersion → 'update', unchanged → nothing. Other ERROR
//   events are ignored.
// - Everything else STOPS the informer after one 'error' callback; it never retries by itself:
//   torn connection → Error 'Premature close' (code ERR_STREAM_PREMATURE_CLOSE); refused →
//   FetchError (ECONNREFUSED); non-200 watch answer → Error(statusText) with .statusCode; failed
//   list → ApiException with .code (its .body is the raw JSON text of the Status for codes the
//   OpenAPI spec does not declare, undefined for 401). start() resolves even then.
//   The caller restarts with start() (and backoff); it keeps the last resourceVersion, so it
//   re-watches from there and only relists if that answers 410.
// - stop() (and, source only, start() on an informer whose watch is still open) aborts the watch,
//   which reaches 'error' as an AbortError (name 'AbortError'): a restart-on-error handler must
//   ignore it after stop(), or it will resurrect the informer.
// - Cached objects from the list are deserialised model instances (creationTimestamp is a Date);
//   objects from watch events are raw JSON (strings). Read fields defensively.
// - Watches have no client-side timeout (watch.js overwrites its 30 s AbortSignal); a half-open
//   connection is only noticed by TCP keep-alive, after minutes. Use timeoutSeconds.
// - An http:// server needs insecure-skip-tls-verify: true in the kubeconfig (see kubeconfig.ts).
//
// What the double does not do: TLS, protobuf, server-side apply (apply-patch → 415), dryRun
// other than All, deletecollection (405), field pruning, defaulting or schema validation of
// custom resources, namespace existence or lifecycle, managedFields, garbage collection of
// owner references, admission.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { KubeObject } from './types.js';
import type { ResourceDef } from './resources.js';
import type { ResourceStats } from './stats.js';
import type { RouterContext } from './router.js';
import { DEFAULT_RESOURCES, qualifiedResource } from './resources.js';
import { Registry } from './registry.js';
import { ObjectStore } from './store.js';
import { RequestStats } from './stats.js';
import { handleRequest } from './router.js';
import { serviceUnavailable } from './status.js';
import { sendStatus } from './http-io.js';
import { applyObject, listKind, readObject, removeObject } from './control.js';

export interface KubeApiDoubleOptions {
  /** Resources to serve; defaults to nodes, pods and Calico's crd.projectcalico.org/v1 kinds. */
  readonly resources?: readonly ResourceDef[];
  /** Bearer token every request must carry; null serves anyone. Default 'kube-api-double-token'. */
  readonly token?: string | null;
  /** Events kept for watch resumption and consistent pages; older ones are compacted. Default 1000. */
  readonly historyLimit?: number;
  /** How often watches with allowWatchBookmarks get a BOOKMARK. Default 60 000 (kube-apiserver: ~1 min). */
  readonly bookmarkIntervalMs?: number;
  /** Watches without timeoutSeconds end after a random [t, 2t) seconds. Default 1800, as kube-apiserver. */
  readonly minRequestTimeoutSeconds?: number;
  /** How long a read at a future resourceVersion waits before 504. Default 3000, as the watch cache. */
  readonly tooLargeResourceVersionWaitMs?: number;
  /** Unread watch output after which the server ends a slow watcher's stream. Default 16 MiB. */
  readonly slowWatcherBytes?: number;
}

/** 'unavailable': every new request gets 503 ServiceUnavailable. 'refuse': the port stops listening
 *  (ECONNREFUSED). Open connections are left alone either way: add dropConnections() for a crash. */
export type PauseMode = 'unavailable' | 'refuse';

export interface KubeApiDouble {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly token: string | undefined;
  /** Creates or replaces an object as given (kind required), bypassing the API's checks. */
  apply(obj: KubeObject): KubeObject;
  /** Deletes an object at once; returns what was removed, or undefined if it was not there. */
  remove(kind: string, name: string, namespace?: string): KubeObject | undefined;
  get(kind: string, name: string, namespace?: string): KubeObject | undefined;
  list(kind: string): KubeObject[];
  /** The latest revision (the resourceVersion the next list would carry). */
  resourceVersion(): string;
  /** Drops the event history: watches and pages from an older resourceVersion now get 410. */
  compact(): void;
  /** Destroys every open connection (watches included) without a clean end, like a crash. */
  dropConnections(): void;
  pause(mode?: PauseMode): Promise<void>;
  resume(): Promise<void>;
  /** Request counts per qualified resource ("nodes", "ipamblocks.crd.projectcalico.org"). */
  stats(): Record<string, ResourceStats>;
  close(): Promise<void>;
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

function stopListening(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => server.close(() => resolve()));
}

export async function startKubeApiDouble(options: KubeApiDoubleOptions = {}): Promise<KubeApiDouble> {
  const registry = new Registry(options.resources ?? DEFAULT_RESOURCES);
  const store = new ObjectStore(options.historyLimit ?? 1000);
  const stats = new RequestStats();
  const closing = new AbortController();
  const sockets = new Set<Socket>();
  const token = options.token === null ? undefined : options.token ?? 'kube-api-double-token';
  let paused: PauseMode | undefined;
  let port = 0;

  const ctx: RouterContext = {
    store, registry, stats, token,
    closing: closing.signal,
    serverAddress: () => `127.0.0.1:${port}`,
    tooLargeWaitMs: options.tooLargeResourceVersionWaitMs ?? 3000,
    bookmarkIntervalMs: options.bookmarkIntervalMs ?? 60_000,
    minRequestTimeoutSeconds: options.minRequestTimeoutSeconds ?? 1800,
    slowWatcherBytes: options.slowWatcherBytes ?? 16 * 1024 * 1024,
  };
  const server = createServer((req, res) => {
    if (paused === 'unavailable') {
      req.resume();
      sendStatus(res, serviceUnavailable().status, { 'Retry-After': '1' });
      return;
    }
    void handleRequest(ctx, req, res);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  port = await listen(server, 0);
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    token,
    apply: (obj) => applyObject(store, registry, obj),
    remove: (kind, name, namespace) => removeObject(store, registry, kind, name, namespace),
    get: (kind, name, namespace) => readObject(store, registry, kind, name, namespace),
    list: (kind) => listKind(store, registry, kind),
    resourceVersion: () => String(store.currentRevision()),
    compact: () => store.compact(),
    dropConnections: () => {
      for (const socket of sockets) socket.destroy();
    },
    pause: async (mode = 'unavailable') => {
      paused = mode;
      if (mode === 'refuse') await stopListening(server);
    },
    resume: async () => {
      const was = paused;
      paused = undefined;
      if (was === 'refuse' && !closing.signal.aborted) await listen(server, port);
    },
    stats: () => stats.snapshot(registry.defs.map(qualifiedResource)),
    close: async () => {
      closing.abort();
      for (const socket of sockets) socket.destroy();
      await stopListening(server);
    },
  };
}
