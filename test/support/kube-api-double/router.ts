// One request → one handler: authentication, path resolution, verb selection (GET on a collection
// is list, or watch with ?watch=true), counting, and Status answers for every failure.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ObjectStore } from './store.js';
import type { Registry } from './registry.js';
import type { RequestStats } from './stats.js';
import type { WatchContext } from './watch.js';
import type { ObjectAddress } from './writes.js';
import type { Verb } from './types.js';
import { qualifiedResource } from './resources.js';
import { parseTarget } from './paths.js';
import { discoveryDocument } from './discovery.js';
import { listObjects } from './list.js';
import { parseWatchOptions, serveWatch } from './watch.js';
import { createObject, updateObject } from './writes.js';
import { patchObject } from './patch.js';
import { deleteObject, parseDeleteOptions } from './delete.js';
import { objectKey } from './store.js';
import { ApiError, asStatus, badRequest, methodNotAllowed, notFound, pathNotFound, unauthorized } from './status.js';
import { decodeJsonBody, readBody, sendJson, sendStatus } from './http-io.js';

export interface RouterContext extends WatchContext {
  readonly store: ObjectStore;
  readonly registry: Registry;
  readonly stats: RequestStats;
  readonly token: string | undefined;
  readonly serverAddress: () => string;
}

const TRUE_VALUES = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']); // Go's strconv.ParseBool

function dryRunOf(params: URLSearchParams): boolean {
  const values = params.getAll('dryRun');
  for (const v of values) if (v !== 'All') throw badRequest(`Invalid dryRun value: ${JSON.stringify(v)}; supported values: "All"`);
  return values.length > 0;
}

function authorised(ctx: RouterContext, req: IncomingMessage): boolean {
  return ctx.token === undefined || req.headers.authorization === `Bearer ${ctx.token}`;
}

async function route(ctx: RouterContext, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const target = parseTarget(ctx.registry, url.pathname);
  const method = req.method ?? 'GET';
  const params = url.searchParams;
  const doc = discoveryDocument(ctx.registry, target, ctx.serverAddress());
  if (doc !== undefined) {
    if (method !== 'GET') throw methodNotAllowed();
    sendJson(res, 200, doc);
    return;
  }
  if (target.type === 'collection') {
    const { def, namespace } = target;
    const resource = qualifiedResource(def);
    const count = (verb: Verb) => ctx.stats.count(resource, verb);
    if (method === 'GET' && TRUE_VALUES.has(params.get('watch') ?? '')) {
      count('watch');
      const opts = parseWatchOptions(params);
      ctx.stats.watchOpened(resource);
      try {
        await serveWatch(ctx, def, namespace, params, opts, res);
      } finally {
        ctx.stats.watchClosed(resource);
      }
      return;
    }
    if (method === 'GET') {
      count('list');
      sendJson(res, 200, await listObjects(ctx, def, namespace, params));
      return;
    }
    // POST needs the namespace in the path for namespaced types (there is no all-namespaces create).
    if (method === 'POST' && (namespace !== undefined || !def.namespaced)) {
      count('create');
      const body = decodeJsonBody(await readBody(req));
      sendJson(res, 201, createObject(ctx.store, def, namespace, body, dryRunOf(params)));
      return;
    }
    throw methodNotAllowed();
  }
  if (target.type === 'object') {
    const { def } = target;
    const at: ObjectAddress = target;
    const resource = qualifiedResource(def);
    const count = (verb: Verb) => ctx.stats.count(resource, verb);
    switch (method) {
      case 'GET': {
        count('get');
        const obj = ctx.store.get(resource, objectKey(at.namespace, at.name));
        if (obj === undefined) throw notFound(def, at.name);
        sendJson(res, 200, obj);
        return;
      }
      case 'PUT':
        count('update');
        sendJson(res, 200, updateObject(ctx.store, def, at, decodeJsonBody(await readBody(req)), dryRunOf(params)));
        return;
      case 'PATCH':
        count('patch');
        sendJson(res, 200, patchObject(ctx.store, def, at, req.headers['content-type'] ?? '', await readBody(req), dryRunOf(params)));
        return;
      case 'DELETE':
        if (at.subresource !== undefined) break;
        count('delete');
        sendJson(res, 200, deleteObject(ctx.store, def, at, parseDeleteOptions(params, await readBody(req)), dryRunOf(params)));
        return;
    }
    throw methodNotAllowed();
  }
  throw pathNotFound();
}

export async function handleRequest(ctx: RouterContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    if (!authorised(ctx, req)) throw unauthorized();
    await route(ctx, req, res, new URL(req.url ?? '/', 'http://127.0.0.1'));
  } catch (err) {
    if (!(err instanceof ApiError)) console.error('kube-api-double: unexpected failure', err);
    sendStatus(res, asStatus(err));
  }
}
