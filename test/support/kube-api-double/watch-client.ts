// A bare watch client for tests that check the wire format itself: opens GET …?watch=true with
// node:http (no client-node in between), splits the newline-delimited JSON stream and hands
// events out in order.
import { get } from 'node:http';
import type { ClientRequest, IncomingHttpHeaders } from 'node:http';
import type { WatchEvent } from './types.js';

export interface WatchClient {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The next event, waiting up to `timeoutMs` for it. */
  next(timeoutMs?: number): Promise<WatchEvent>;
  /** Resolves when the server ends the stream cleanly; rejects if the connection breaks. */
  readonly ended: Promise<void>;
  close(): void;
}

export function openWatch(url: string, token: string | undefined): Promise<WatchClient> {
  return new Promise((resolve, reject) => {
    const queue: WatchEvent[] = [];
    const waiters: (() => void)[] = [];
    let finished = false;
    const wake = () => waiters.splice(0).forEach((w) => w());
    const req: ClientRequest = get(url, { headers: token === undefined ? {} : { Authorization: `Bearer ${token}` } }, (res) => {
      let buffered = '';
      const ended = new Promise<void>((done, broke) => {
        res.on('end', () => done());
        res.on('error', broke);
        res.on('aborted', () => broke(new Error('watch connection aborted')));
      });
      ended.catch(() => undefined).finally(() => {
        finished = true;
        wake();
      });
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffered += chunk;
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          if (line.trim() !== '') queue.push(JSON.parse(line) as WatchEvent);
        }
        wake();
      });
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        ended,
        next: (timeoutMs = 2000) => new Promise<WatchEvent>((ok, fail) => {
          const timer = setTimeout(() => fail(new Error(`no watch event within ${timeoutMs} ms`)), timeoutMs);
          const check = () => {
            const event = queue.shift();
            if (event !== undefined) {
              clearTimeout(timer);
              ok(event);
            } else if (finished) {
              clearTimeout(timer);
              fail(new Error('watch stream ended'));
            } else waiters.push(check);
          };
          check();
        }),
        close: () => req.destroy(),
      });
    });
    req.on('error', (err) => {
      if (!finished) reject(err);
    });
  });
}
