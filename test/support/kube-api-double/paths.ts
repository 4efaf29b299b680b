// Request paths → what they address, following the apiserver's URL layout:
//   /api/v1/{plural}[/{name}[/{sub}]]                      core, cluster-scoped or all namespaces
//   /api/v1/namespaces/{ns}/{plural}[/{name}[/{sub}]]      core, namespaced
//   /apis/{group}/{version}/...                            the same, for named groups
// plus the discovery documents at /version, /api, /api/v1, /apis, /apis/{group}[/{version}].
import type { ResourceDef } from './resources.js';
import type { Registry } from './registry.js';

export type Target =
  | { readonly type: 'version' }
  | { readonly type: 'apiVersions' }
  | { readonly type: 'apiGroupList' }
  | { readonly type: 'apiGroup'; readonly group: string }
  | { readonly type: 'resourceList'; readonly group: string; readonly version: string }
  | { readonly type: 'collection'; readonly def: ResourceDef; readonly namespace?: string }
  | { readonly type: 'object'; readonly def: ResourceDef; readonly namespace?: string; readonly name: string; readonly subresource?: 'status' }
  | { readonly type: 'unknown' };

const UNKNOWN: Target = { type: 'unknown' };

function resourcePath(registry: Registry, group: string, version: string, rest: string[]): Target {
  if (rest.length === 0) return registry.servesGroupVersion(group, version) ? { type: 'resourceList', group, version } : UNKNOWN;
  let namespace: string | undefined;
  let parts = rest;
  const [first, ns, plural] = rest;
  if (first === 'namespaces' && ns !== undefined && plural !== undefined && registry.lookup(group, version, plural)?.namespaced) {
    namespace = ns;
    parts = rest.slice(2);
  }
  const [resource = '', name, sub, ...extra] = parts;
  const def = registry.lookup(group, version, resource);
  if (def === undefined || extra.length > 0 || name === '') return UNKNOWN;
  // A namespaced object is only addressable through its namespace; a cluster-scoped one never is.
  if (name !== undefined && def.namespaced !== (namespace !== undefined)) return UNKNOWN;
  if (name === undefined) return namespace === undefined ? { type: 'collection', def } : { type: 'collection', def, namespace };
  if (sub !== undefined && (sub !== 'status' || !def.statusSubresource)) return UNKNOWN;
  const target = { type: 'object', def, name, ...(namespace === undefined ? {} : { namespace }) } as const;
  return sub === undefined ? target : { ...target, subresource: 'status' };
}

function segments(pathname: string): string[] | undefined {
  try {
    return pathname.split('/').filter((s) => s !== '').map(decodeURIComponent);
  } catch {
    return undefined; // malformed percent-encoding addresses nothing
  }
}

export function parseTarget(registry: Registry, pathname: string): Target {
  const segs = segments(pathname);
  if (segs === undefined) return UNKNOWN;
  const [root, a, b, ...rest] = segs;
  if (root === 'version' && a === undefined) return { type: 'version' };
  if (root === 'api') {
    if (a === undefined) return { type: 'apiVersions' };
    return resourcePath(registry, '', a, b === undefined ? rest : [b, ...rest]);
  }
  if (root === 'apis') {
    if (a === undefined) return { type: 'apiGroupList' };
    if (b === undefined) return registry.defs.some((d) => d.group === a) ? { type: 'apiGroup', group: a } : UNKNOWN;
    return resourcePath(registry, a, b, rest);
  }
  return UNKNOWN;
}
