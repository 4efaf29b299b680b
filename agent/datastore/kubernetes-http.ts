// One JSON request to the Kubernetes API, authenticated the way the kubeconfig says (bearer
// token, service-account token file, client certificate, CA). Plain JSON in and out: the
// generated clients of @kubernetes/client-node turn objects into model instances (Dates for
// timestamps), and wren's parsers want exactly what the API server sent.
import { request as httpRequest, type Agent } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

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

export class KubeHttp {
  // The kubeconfig builds a new agent on every call; one is kept so TLS settings are read once.
  #agent: Agent | undefined;

  constructor(private readonly config: KubeConfig, private readonly timeoutMs: number) {}

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
    // Every call has a deadline: a half-open connection must fail the call, not hang the agent.
    const deadline = AbortSignal.timeout(this.timeoutMs);
    const signal = call.signal === undefined ? deadline : AbortSignal.any([call.signal, deadline]);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const response = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = send(url, { method: call.method, headers, agent: this.#agent, auth: options.auth, signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', (error) => reject(new Error(`${call.what}: ${error.message}`, { cause: error })));
      req.end(payload);
    });
    const body = parseJson(response.text);
    if (response.status >= 200 && response.status < 300 && body !== undefined) return body;
    throw failure(call.what, response.status, body);
  }
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
