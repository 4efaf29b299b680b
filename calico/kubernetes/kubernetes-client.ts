// The datastore's only way to the Kubernetes API. Each verb is checked against KUBERNETES_ACCESS
// before anything is sent, and a call not listed there throws: the DaemonSet's ClusterRole is
// generated from that list, so an unlisted call would be a 403 in a real cluster — better a
// failing test here than a node that cannot register.
import type { KubeConfig } from '@kubernetes/client-node';
import { DatastoreContact } from '../datastore-contact.js';
import { allowed, type ApiAccess } from './kubernetes-access.js';
import { KubeApiError, KubeHttp } from './kubernetes-http.js';
import { collectionPath, objectPath, qualifiedName, type KubeResource } from './kubernetes-resources.js';
import { GuardedWatch, type WatchHooks } from './kubernetes-watch.js';

export type KubeObject = Record<string, unknown>;

export class KubernetesAccessError extends Error {
  override readonly name = 'KubernetesAccessError';
}

export interface ListResult {
  readonly resourceVersion: string;
  readonly items: KubeObject[];
}

export interface KubeClientOptions {
  /** Deadline of one request (a list page, a get, a write). Default 30 s. */
  readonly requestTimeoutMs?: number;
  /** Objects per list page, as client-go's informers page. Default 500. */
  readonly pageSize?: number;
  /** Reach the server through this unix socket (the lab's forwarder into its namespace); not for watches. */
  readonly socketPath?: string;
}

export class KubeClient {
  /** Every answer from the API server, and every failed call or stopped informer (for /readyz and /status). */
  readonly contact = new DatastoreContact();
  readonly #http: KubeHttp;
  readonly #pageSize: number;

  constructor(readonly config: KubeConfig, options: KubeClientOptions = {}) {
    this.#http = new KubeHttp(config, options.requestTimeoutMs ?? 30_000, this.contact, options.socketPath);
    this.#pageSize = options.pageSize ?? 500;
  }

  /** Throws unless the verb on the resource is in KUBERNETES_ACCESS. */
  check(resource: KubeResource, verb: ApiAccess['verbs'][number]): void {
    if (!allowed(resource.group, resource.plural, verb)) {
      throw new KubernetesAccessError(`${verb} on ${qualifiedName(resource)} is not in KUBERNETES_ACCESS (calico/kubernetes/kubernetes-access.ts), so wren's ClusterRole does not grant it`);
    }
  }

  /** Every object of the collection, page by page at one resourceVersion (a 410 mid-way throws). */
  async list(resource: KubeResource, options: { fieldSelector?: string; signal?: AbortSignal } = {}): Promise<ListResult> {
    this.check(resource, 'list');
    const items: KubeObject[] = [];
    let resourceVersion: string | undefined;
    let token = '';
    do {
      const query = new URLSearchParams({ limit: String(this.#pageSize) });
      if (options.fieldSelector !== undefined) query.set('fieldSelector', options.fieldSelector);
      if (token !== '') query.set('continue', token);
      const what = `list ${qualifiedName(resource)}`;
      const page = await this.#http.send({ method: 'GET', path: `${collectionPath(resource)}?${query}`, what, signal: options.signal });
      const metadata = record(page.metadata);
      if (!Array.isArray(page.items)) throw new Error(`${what}: the answer has no items`);
      for (const item of page.items) if (isObject(item)) items.push(item);
      resourceVersion ??= typeof metadata.resourceVersion === 'string' ? metadata.resourceVersion : '';
      token = typeof metadata.continue === 'string' ? metadata.continue : '';
    } while (token !== '');
    return { resourceVersion: resourceVersion ?? '', items };
  }

  /** The object, or undefined when there is none (404). */
  async get(resource: KubeResource, name: string): Promise<KubeObject | undefined> {
    this.check(resource, 'get');
    try {
      return await this.#http.send({ method: 'GET', path: objectPath(resource, name), what: `get ${qualifiedName(resource)}/${name}` });
    } catch (error) {
      if (isApiError(error, 404)) return undefined;
      throw error;
    }
  }

  async create(resource: KubeResource, object: KubeObject): Promise<KubeObject> {
    this.check(resource, 'create');
    return this.#http.send({ method: 'POST', path: collectionPath(resource), what: `create ${qualifiedName(resource)}/${nameOf(object)}`, body: object });
  }

  /** PUT: a stale metadata.resourceVersion in `object` is a 409 Conflict (compare-and-swap). */
  async replace(resource: KubeResource, name: string, object: KubeObject): Promise<KubeObject> {
    this.check(resource, 'update');
    return this.#http.send({ method: 'PUT', path: objectPath(resource, name), what: `update ${qualifiedName(resource)}/${name}`, body: object });
  }

  /** RFC 7386 merge patch: keys set to null are removed, keys left out are kept. */
  async mergePatch(resource: KubeResource, name: string, patch: KubeObject): Promise<KubeObject> {
    this.check(resource, 'patch');
    const what = `patch ${qualifiedName(resource)}/${name}`;
    return this.#http.send({ method: 'PATCH', path: objectPath(resource, name), what, body: patch, contentType: 'application/merge-patch+json' });
  }

  /** DELETE, only if the object still has this uid and resourceVersion (else 409). */
  async delete(resource: KubeResource, name: string, preconditions: { uid: string; resourceVersion: string }): Promise<void> {
    this.check(resource, 'delete');
    const body = { apiVersion: 'v1', kind: 'DeleteOptions', preconditions };
    await this.#http.send({ method: 'DELETE', path: objectPath(resource, name), what: `delete ${qualifiedName(resource)}/${name}`, body });
  }

  /** A client-node Watch for an informer on the resource. */
  watch(resource: KubeResource, hooks: WatchHooks): GuardedWatch {
    this.check(resource, 'watch');
    return new GuardedWatch(this.config, {
      active: () => hooks.active(),
      progress: () => {
        this.contact.succeeded();
        hooks.progress();
      },
      answered: () => this.contact.succeeded(),
    });
  }
}

export function isApiError(error: unknown, code: number): error is KubeApiError {
  return error instanceof KubeApiError && error.code === code;
}

export function record(value: unknown): Record<string, unknown> {
  return isObject(value) ? value : {};
}

function isObject(value: unknown): value is KubeObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nameOf(object: KubeObject): string {
  const name = record(object.metadata).name;
  return typeof name === 'string' ? name : '(unnamed)';
}
