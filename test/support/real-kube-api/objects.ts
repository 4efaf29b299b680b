// Objects on a real API server, for tests: written and removed as their owners would (a Pod's
// and a Node's status through the status subresource, as the kubelet writes it; deletes without
// a grace period, as the kubelet finally confirms them), listed and read back raw.
import { KubeAdminError, type KubeAdminApi } from '../../../lab/kube-apiserver/admin-api.js';
import { calicoPlural, CALICO_GROUP, type CalicoKind } from '../../../lab/kube-apiserver/calico-crds.js';

export type Json = Record<string, unknown>;
export type TestKind = 'Node' | 'Pod' | CalicoKind;

const CALICO_KINDS: readonly CalicoKind[] = ['IPPool', 'IPAMBlock', 'BlockAffinity', 'IPAMHandle', 'IPAMConfig', 'BGPConfiguration', 'BGPPeer', 'FelixConfiguration'];
/** Namespaces tests put pods in; each has a `default` ServiceAccount (see bootstrap). */
export const POD_NAMESPACES = ['default', 'kube-system'] as const;

export function collectionPath(kind: TestKind, namespace = 'default'): string {
  if (kind === 'Node') return '/api/v1/nodes';
  if (kind === 'Pod') return `/api/v1/namespaces/${namespace}/pods`;
  return `/apis/${CALICO_GROUP}/v1/${calicoPlural(kind)}`;
}

export class KubeObjects {
  constructor(private readonly admin: KubeAdminApi) {}

  /** Creates the object, or replaces the one of that name; then its status, if it has one and a status subresource. */
  async put(given: Json): Promise<Json> {
    const object = fresh(given);
    const { kind, metadata } = object as { kind: TestKind; metadata: { name: string; namespace?: string } };
    const collection = collectionPath(kind, metadata.namespace);
    let written: Json;
    try {
      written = await this.admin.call('POST', collection, object);
    } catch (error) {
      if (!(error instanceof KubeAdminError && error.status === 409)) throw error;
      const current = await this.admin.call('GET', `${collection}/${metadata.name}`);
      const resourceVersion = (current.metadata as Json).resourceVersion;
      written = await this.admin.call('PUT', `${collection}/${metadata.name}`, { ...object, metadata: { ...metadata, resourceVersion } });
    }
    if ((kind === 'Node' || kind === 'Pod') && object.status !== undefined) {
      written = await this.admin.call('PUT', `${collection}/${metadata.name}/status`, { ...written, status: object.status });
    }
    return written;
  }

  async get(kind: TestKind, name: string, namespace?: string): Promise<Json | undefined> {
    const answer = await this.admin.raw('GET', `${collectionPath(kind, namespace)}/${name}`);
    if (answer.status === 404) return undefined;
    if (answer.status !== 200) throw new Error(`get ${kind} ${name}: ${answer.status} ${answer.text.slice(0, 200)}`);
    return JSON.parse(answer.text) as Json;
  }

  async list(kind: TestKind, namespace?: string): Promise<Json[]> {
    return (await this.admin.call('GET', collectionPath(kind, namespace))).items as Json[];
  }

  /** Deletes at once (no grace period); an object already gone is fine. */
  async remove(kind: TestKind, name: string, namespace?: string): Promise<void> {
    const answer = await this.admin.raw('DELETE', `${collectionPath(kind, namespace)}/${name}?gracePeriodSeconds=0`);
    if (answer.status !== 200 && answer.status !== 202 && answer.status !== 404) throw new Error(`delete ${kind} ${name}: ${answer.status} ${answer.text.slice(0, 200)}`);
  }

  /** Every Calico object, Node and test Pod gone: a clean cluster for the next test. */
  async clear(): Promise<void> {
    const collections = [...CALICO_KINDS.map((kind) => collectionPath(kind)), collectionPath('Node'), ...POD_NAMESPACES.map((ns) => collectionPath('Pod', ns))];
    for (const collection of collections) await this.admin.call('DELETE', `${collection}?gracePeriodSeconds=0`);
  }
}

/** The object without what the server sets (a kubectl dump carries it; a create must not). */
function fresh(object: Json): Json {
  const { uid: _u, resourceVersion: _r, creationTimestamp: _c, managedFields: _m, generation: _g, selfLink: _s, ...metadata } = object.metadata as Json;
  return { ...object, metadata };
}
