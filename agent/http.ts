// The agent's HTTP surface (Felix's health port by default, loopback only):
//   /healthz  live: the loop is turning (no pass stuck beyond the limit)
//   /readyz   ready: the datastore is in sync and the last pass succeeded
//   /metrics  Prometheus text format
//   /status   JSON for `wren status`: node, sync, counts, last error, and the pending diff
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HttpHandlers {
  live(): boolean;
  ready(): { ready: boolean; reason?: string };
  status(): Promise<unknown>;
  registry: Registry;
}

export async function startHttp(listen: { host: string; port: number }, handlers: HttpHandlers): Promise<{ server: Server; port: number }> {
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
          return r.ready ? send(200, 'ok\n') : send(503, `${r.reason ?? 'not ready'}\n`);
        }
        case '/metrics':
          return send(200, await handlers.registry.metrics(), handlers.registry.contentType);
        case '/status':
          return send(200, `${JSON.stringify(await handlers.status(), null, 2)}\n`, 'application/json');
        default:
          return send(404, 'not found: try /healthz /readyz /metrics /status\n');
      }
    };
    respond().catch((error: unknown) => send(500, `${(error as Error).message}\n`));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
