// GET against an agent's HTTP endpoint, on TCP or on a unix socket (which is how `wren lab`
// reaches agents that live in other network namespaces).
import { request } from 'node:http';

/** Where an HTTP server listens: a TCP host and port, or a unix socket's path. */
export type HttpAddress = { readonly host: string; readonly port: number } | { readonly path: string };

export function httpGet(listen: HttpAddress, path: string, timeoutMs = 2000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const target = 'path' in listen ? { socketPath: listen.path } : { host: listen.host, port: listen.port };
    const req = request({ ...target, path, method: 'GET', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}
