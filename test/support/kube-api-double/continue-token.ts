// List continuation tokens in the etcd3 storage layer's format: raw-URL base64 of
// {"v":"meta.k8s.io/v1","rv":<snapshot revision>,"start":"<next key>\u0000"}. The revision pins
// every page to one snapshot; rv -1 marks the "inconsistent" token handed out with a 410.
import { badRequest } from './status.js';

export interface ContinueToken {
  readonly revision: number;
  /** Items with keys strictly after this one come next. */
  readonly after: string;
}

export function encodeContinue(token: ContinueToken): string {
  const json = JSON.stringify({ v: 'meta.k8s.io/v1', rv: token.revision, start: `${token.after}\u0000` });
  return Buffer.from(json, 'utf8').toString('base64url');
}

export function decodeContinue(raw: string): ContinueToken {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch (err) {
    throw badRequest(`invalid continue token: ${(err as Error).message}`);
  }
  const t = parsed as { v?: unknown; rv?: unknown; start?: unknown };
  if (t.v !== 'meta.k8s.io/v1') throw badRequest(`invalid continue token: continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)`);
  if (typeof t.rv !== 'number' || typeof t.start !== 'string' || !t.start.endsWith('\u0000')) {
    throw badRequest('invalid continue token: continue key is not valid: malformed token');
  }
  return { revision: t.rv, after: t.start.slice(0, -1) };
}
