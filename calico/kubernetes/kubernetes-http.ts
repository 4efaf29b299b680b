// One JSON request to the Kubernetes API, authenticated the way the kubeconfig says (bearer
// token, service-account token file, client certificate, CA). Plain JSON in and out: the
// generated clients of @kubernetes/client-node turn objects into model instances (Dates for
// timestamps), and wren's parsers want exactly what the API server sent.
import { request as httpRequest, type Agent } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import type { DatastoreContact } from '../datastore-contact.js';

/** A failed API call: the HTTP status and the Status reason (Conflict, AlreadyExists, NotFound, …). */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  constructor(readonly code: number, readonly reason: string, message: string) {
    super(message);
  }
}

export interface HttpCall {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly path: string;
  /** What the call is about, for error messages: "PUT ipamblocks.crd.projectcalico.org/10-244-0-0-26". */
  readonly what: string;
  readonly body?: unknown;
  readonly contentType?: string;
  readonly signal?: AbortSignal;
}

/** Unauthorized, Forbidden, Too Many Requests: the server refusing wren, not answering its question. */
const REFUSED = new Set([401, 403, 429]);

export class KubeHttp {
  // The kubeconfig builds a new agent on every call; one is kept so TLS settings are read once.
  #agent: Agent | undefined;

  /** `socketPath`: connect there instead of to the server's address (TLS still checks the address). */
  constructor(private readonly config: KubeConfig, private readonly timeoutMs: number, private readonly contact?: DatastoreContact, private readonly socketPath?: string) {}

  async send(call: HttpCall): Promise<Record<string, unknown>> {
    const options: RequestOptions = {};
    await this.config.applyToHTTPSOptions(options);
    this.#agent ??= options.agent as Agent | undefined;
    const server = this.config.getCurrentCluster()?.server;
    if (server === undefined) throw new Error(`${call.what}: the kubeconfig names no current cluster`);
    const url = new URL(server + call.path);
    const payload = call.body === undefined ? undefined : JSON.stringify(call.body);
    const headers: Record<string, string | number> = { ...(options.headers as Record<string, string>), Accept: 'application/json' };
    if (payload !== undefined) {
      headers['Content-Type'] = call.contentType ?? 'application/json';
      headers['Content-Length'] = Buffer.byteLength(payload);
    }
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const abort = abortable(call.signal, this.timeoutMs);
    const response = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = send(url, { method: call.method, headers, agent: this.#agent, auth: options.auth, signal: abort.signal, socketPath: this.socketPath }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', (error) => {
        // An abort surfaces as a bare AbortError; the deadline's reason says what happened.
        const reason: unknown = abort.signal.aborted ? abort.signal.reason : undefined;
        reject(new Error(`${call.what}: ${reason instanceof Error ? reason.message : error.message}`, { cause: error }));
      });
      req.end(payload);
    }).finally(abort.done).catch((error: unknown) => {
      this.contact?.failed((error as Error).message);
      throw error;
    });
    const body = parseJson(response.text);
    // A 404 or a 409 is the server answering; a refusal of wren itself or an outage is not.
    if (REFUSED.has(response.status) || response.status >= 500) this.contact?.failed(failure(call.what, response.status, body).message);
    else this.contact?.succeeded();
    if (response.status >= 200 && response.status < 300 && body !== undefined) return body;
    throw failure(call.what, response.status, body);
  }
}

/**
 * Every call has a deadline (a half-open connection must fail the call, not hang the agent) and
 * ends early when the caller aborts. By hand rather than AbortSignal.any, which Node 20 gained
 * only in 20.3; `done` unhooks from the caller's signal, which outlives many calls.
 */
function abortable(outer: AbortSignal | undefined, timeoutMs: number): { signal: AbortSignal; done: () => void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  const follow = () => controller.abort(outer?.reason);
  if (outer?.aborted) follow();
  else outer?.addEventListener('abort', follow, { once: true });
  return {
    signal: controller.signal,
    done: () => {
      clearTimeout(timer);
      outer?.removeEventListener('abort', follow);
    },
  };
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The Status the API server answers an error with, or as much as a proxy in between left of it. */
function failure(what: string, status: number, body: Record<string, unknown> | undefined): KubeApiError {
  const reason = typeof body?.reason === 'string' ? body.reason : status >= 200 && status < 300 ? 'InvalidResponse' : `HTTP${status}`;
  const message = typeof body?.message === 'string' ? body.message : status < 300 ? 'the answer is not a JSON object' : 'no Status in the answer';
  return new KubeApiError(status, reason, `${what}: ${status} ${reason}: ${message}`);
}
