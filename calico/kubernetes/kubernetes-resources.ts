// The Kubernetes resources the datastore reads and writes, and their URL paths. Calico's KDD
// keeps its own kinds as `crd.projectcalico.org/v1` custom resources and node facts on core v1
// Nodes (calico.md §5). Every resource here must be granted in kubernetes-access.ts.
import type { ApiAccess } from './kubernetes-access.js';

export interface KubeResource {
  readonly group: ApiAccess['group'];
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
}

export const NODES = { group: '', version: 'v1', plural: 'nodes', kind: 'Node' } as const satisfies KubeResource;
export const PODS = { group: '', version: 'v1', plural: 'pods', kind: 'Pod' } as const satisfies KubeResource;

const CALICO = { group: 'crd.projectcalico.org', version: 'v1' } as const;
export const IPPOOLS = { ...CALICO, plural: 'ippools', kind: 'IPPool' } as const satisfies KubeResource;
export const IPAMBLOCKS = { ...CALICO, plural: 'ipamblocks', kind: 'IPAMBlock' } as const satisfies KubeResource;
export const BLOCKAFFINITIES = { ...CALICO, plural: 'blockaffinities', kind: 'BlockAffinity' } as const satisfies KubeResource;
export const IPAMHANDLES = { ...CALICO, plural: 'ipamhandles', kind: 'IPAMHandle' } as const satisfies KubeResource;
export const BGPCONFIGURATIONS = { ...CALICO, plural: 'bgpconfigurations', kind: 'BGPConfiguration' } as const satisfies KubeResource;
export const BGPPEERS = { ...CALICO, plural: 'bgppeers', kind: 'BGPPeer' } as const satisfies KubeResource;

export function apiVersionOf(resource: KubeResource): string {
  return resource.group === '' ? resource.version : `${resource.group}/${resource.version}`;
}

/** "nodes" or "ipamblocks.crd.projectcalico.org", as kubectl and error messages name a resource. */
export function qualifiedName(resource: KubeResource): string {
  return resource.group === '' ? resource.plural : `${resource.plural}.${resource.group}`;
}

/** The cluster-wide collection: every object of a cluster-scoped kind, every namespace's pods. */
export function collectionPath(resource: KubeResource): string {
  const root = resource.group === '' ? `/api/${resource.version}` : `/apis/${resource.group}/${resource.version}`;
  return `${root}/${resource.plural}`;
}

/** One object of a cluster-scoped kind: wren never addresses a namespaced object by name. */
export function objectPath(resource: KubeResource, name: string): string {
  return `${collectionPath(resource)}/${encodeURIComponent(name)}`;
}

/**
 * The object as its kind's parser expects it. Built-in lists leave kind and apiVersion off their
 * items (they are on the list), and the collection an object came from says what it is, so both
 * are set from the resource rather than trusted from the item.
 */
export function typed(resource: KubeResource, object: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return { ...object, apiVersion: apiVersionOf(resource), kind: resource.kind };
}
