// metav1.Status errors with the reasons, codes and message wording of k8s.io/apimachinery's
// pkg/api/errors, so callers that branch on `reason`/`code` (or print messages) see what a real
// kube-apiserver would send.
import type { StatusObject } from './types.js';
import type { ResourceDef } from './resources.js';
import { qualifiedResource } from './resources.js';

/** An API failure carrying the Status body the server answers with. */
export class ApiError extends Error {
  constructor(readonly status: StatusObject) {
    super(status.message);
    this.name = 'ApiError';
  }
}

type Details = NonNullable<StatusObject['details']>;

function failure(code: number, reason: string, message: string, details?: Details): ApiError {
  const status: StatusObject = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  if (details !== undefined) status.details = details;
  return new ApiError(status);
}

function resourceDetails(def: ResourceDef, name: string): Details {
  return def.group === '' ? { name, kind: def.plural } : { name, group: def.group, kind: def.plural };
}

export const notFound = (def: ResourceDef, name: string) =>
  failure(404, 'NotFound', `${qualifiedResource(def)} "${name}" not found`, resourceDetails(def, name));

export const alreadyExists = (def: ResourceDef, name: string) =>
  failure(409, 'AlreadyExists', `${qualifiedResource(def)} "${name}" already exists`, resourceDetails(def, name));

/** Optimistic-concurrency failure; `why` defaults to etcd3's stale-resourceVersion wording. */
export const conflict = (def: ResourceDef, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again') =>
  failure(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(def)} "${name}": ${why}`, resourceDetails(def, name));

/** Field validation failure (422), worded like errors.NewInvalid. */
export function invalid(def: ResourceDef, name: string, field: string, causeReason: string, detail: string): ApiError {
  const message = `${def.kind} "${name}" is invalid: ${field}: ${detail}`;
  const details: Details = { name, kind: def.kind, causes: [{ reason: causeReason, message: detail, field }] };
  if (def.group !== '') details.group = def.group;
  return failure(422, 'Invalid', message, details);
}

export const badRequest = (message: string) => failure(400, 'BadRequest', message);
export const unprocessable = (message: string) => failure(422, 'Invalid', message);
export const expired = (message: string) => failure(410, 'Expired', message);
export const unauthorized = () => failure(401, 'Unauthorized', 'Unauthorized');
export const pathNotFound = () => failure(404, 'NotFound', 'the server could not find the requested resource', {});
export const methodNotAllowed = () => failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
export const serviceUnavailable = () => failure(503, 'ServiceUnavailable', 'the server is currently unable to handle the request', {});

export const unsupportedMediaType = (accepted: readonly string[]) =>
  failure(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`);

export const requestTooLarge = (limit: number) =>
  failure(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limit}`);

export const internalError = (cause: string) =>
  failure(500, 'InternalError', `Internal error occurred: ${cause}`, { causes: [{ message: cause }] });

/** The watch cache's answer when asked for a revision it has not reached yet (errors.NewTimeoutError). */
export const tooLargeResourceVersion = (requested: number, current: number) =>
  failure(504, 'Timeout', `Timeout: Too large resource version: ${requested}, current: ${current}`, {
    causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
    retryAfterSeconds: 1,
  });

export function asStatus(err: unknown): StatusObject {
  if (err instanceof ApiError) return err.status;
  return internalError(err instanceof Error ? err.message : String(err)).status;
}
