// The agent's HTTP surface (Felix's health port by default, loopback only):
//   /healthz  live: the loop is turning (no pass stuck beyond the limit)
//   /readyz   ready: the datastore is in sync and answering (or failing for less than the
//             datastore timeout), and the last pass succeeded; `ok: …` names what is wrong
//             but does not make the node unready (a BGP peer down)
//   /metrics  Prometheus text format
//   /status   JSON for `wren status`: node, sync, counts, last error, and the pending diff
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { lstat, rm } from 'node:fs/promises';
import type { Registry } from 'prom-client';
import { fileKind } from './file-kind.js';
import type { HttpAddress } from '../util/http-client.js';
import { redactUrls } from '../util/redact.js';

export interface HttpHandlers {
  live(): boolean;
  ready(): { ready: boolean; reason?: string };
  status(): Promise<unknown>;
  registry: Registry;
}

/** Something other than a socket where the agent would listen: never removed. */
export class ListenPathError extends Error {
  override readonly name = 'ListenPathError';
  constructor(readonly path: string, readonly found: string) {
    super(`--http-listen (WREN_HTTP_LISTEN) unix:${path}: ${found} is there, not a socket: refused (only a socket left by an earlier agent is removed)`);
  }
}

/** Where the agent's HTTP server listens (the address util/http-client.ts reaches). */
export type Listen = HttpAddress;

/** `ADDRESS:PORT`, `[v6]:PORT`, or `unix:/path` (the lab reaches agents in other namespaces that way). */
export function parseListen(text: string): Listen {
  if (text.startsWith('unix:')) return { path: text.slice('unix:'.length) };
  const at = text.lastIndexOf(':');
  return { host: text.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(text.slice(at + 1)) };
}

export async function startHttp(listen: Listen, handlers: HttpHandlers): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (code: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(code, { 'content-type': type });
      res.end(body);
    };
    const respond = async () => {
      switch (path) {
        case '/healthz':
          return handlers.live() ? send(200, 'ok\n') : send(503, 'reconcile loop stuck\n');
        case '/readyz': {
          const r = handlers.ready();
          // Ready with a reason: something worth saying that does not make the node unready (a BGP peer down).
          if (r.ready) return send(200, r.reason === undefined ? 'ok\n' : `ok: ${redactUrls(r.reason)}\n`);
          return send(503, `${redactUrls(r.reason ?? 'not ready')}\n`);
        }
        case '/metrics':
          return send(200, await handlers.registry.metrics(), handlers.registry.contentType);
        case '/status':
          // Errors from datastores and files end up in here: shown without URL user info.
          return send(200, `${redactUrls(JSON.stringify(await handlers.status(), null, 2))}\n`, 'application/json');
        default:
          return send(404, 'not found: try /healthz /readyz /metrics /status\n');
      }
    };
    respond().catch((error: unknown) => send(500, `${redactUrls((error as Error).message)}\n`));
  });
  if ('path' in listen) await removeStaleSocket(listen.path);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if ('path' in listen) server.listen(listen.path, () => resolve());
    else server.listen(listen.port, listen.host, () => resolve());
  });
  const address = server.address();
  return { server, port: typeof address === 'object' && address !== null ? (address as AddressInfo).port : 0 };
}

/**
 * A socket left by a killed agent must go before listen() can bind the path again; anything
 * else there (a file, a link, a directory) is someone's, and the agent runs as root.
 */
async function removeStaleSocket(path: string): Promise<void> {
  const found = await lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (found === undefined) return;
  if (!found.isSocket()) throw new ListenPathError(path, fileKind(found));
  await rm(path, { force: true });
}
