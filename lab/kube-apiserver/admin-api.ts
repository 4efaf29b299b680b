// The lab's own calls to its API server, as its administrator (system:masters): installing CRDs
// and RBAC, asking for ServiceAccount tokens, and what the missing kubelet and controller-manager
// would write (Nodes and their status, Pods, the default ServiceAccount). Over TCP, or over a unix
// socket when the server lives in a network namespace this process is not in (the lab's
// forwarder, forwarder.ts); TLS and the server's name are checked either way.
import { request } from 'node:https';

export interface KubeEndpoint {
  /** https://ADDRESS:PORT as the certificate names it. */
  readonly server: string;
  readonly caPem: string;
  readonly token: string;
  /** Connect here instead of to the server's address (TLS still checks the address). */
  readonly socketPath?: string;
}

export interface KubeAnswer {
  readonly status: number;
  readonly text: string;
}

/** A refused call: the status and the Status message the server gave. */
export class KubeAdminError extends Error {
  override readonly name = 'KubeAdminError';
  constructor(readonly status: number, readonly what: string, detail: string) {
    super(`${what}: ${status} ${detail}`);
  }
}

export class KubeAdminApi {
  constructor(readonly endpoint: KubeEndpoint, private readonly timeoutMs = 15_000) {}

  /** Any answer, whatever its status; throws only when there is none (refused, timed out). */
  raw(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<KubeAnswer> {
    const url = new URL(this.endpoint.server + path);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string | number> = { Authorization: `Bearer ${this.endpoint.token}`, Accept: 'application/json' };
    if (payload !== undefined) Object.assign(headers, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(payload) });
    return new Promise((resolve, reject) => {
      const req = request(url, { method, headers, ca: this.endpoint.caPem, socketPath: this.endpoint.socketPath, timeout: this.timeoutMs, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${this.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** The answer as JSON; a status outside 2xx throws, naming the call and the server's message. */
  async call(method: string, path: string, body?: unknown, contentType?: string): Promise<Record<string, unknown>> {
    const answer = await this.raw(method, path, body, contentType);
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(answer.text) as Record<string, unknown>;
    } catch {
      // Not JSON: the message below says what came instead.
    }
    if (answer.status < 200 || answer.status > 299) {
      throw new KubeAdminError(answer.status, `${method} ${path}`, typeof json.message === 'string' ? json.message : answer.text.slice(0, 200));
    }
    return json;
  }

  /** Creates the object, or leaves the one already there (409): setting up twice is harmless. */
  async ensure(path: string, object: unknown): Promise<void> {
    try {
      await this.call('POST', path, object);
    } catch (error) {
      if (!(error instanceof KubeAdminError && error.status === 409)) throw error;
    }
  }
}
