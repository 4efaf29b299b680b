// Reading request bodies and writing JSON answers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StatusObject } from './types.js';
import { badRequest, requestTooLarge } from './status.js';

/** kube-apiserver refuses request bodies over 3 MiB (413). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw requestTooLarge(MAX_BODY_BYTES);
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function sendJson(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export const sendStatus = (res: ServerResponse, status: StatusObject, headers: Record<string, string> = {}) =>
  sendJson(res, status.code, status, headers);

/** A JSON request body; undecodable bodies are the apiserver's 400 BadRequest. */
export function decodeJsonBody(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (err) {
    throw badRequest(`error decoding request body: ${(err as Error).message}`);
  }
}
