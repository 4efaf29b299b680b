// The discovery documents clients fetch before talking to resources (/version, /api, /apis, and
// per group-version APIResourceLists). The verbs listed are exactly those the double serves.
import type { Registry } from './registry.js';
import type { JsonObject } from './types.js';
import type { Target } from './paths.js';

const VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
const STATUS_VERBS = ['get', 'patch', 'update'];

function groupDoc(registry: Registry, group: string): JsonObject {
  const versions = [...new Set(registry.defs.filter((d) => d.group === group).map((d) => d.version))]
    .map((version) => ({ groupVersion: `${group}/${version}`, version }));
  return { name: group, versions, preferredVersion: versions[0] ?? null };
}

function resourceList(registry: Registry, group: string, version: string): JsonObject {
  const resources: JsonObject[] = [];
  for (const d of registry.defs.filter((x) => x.group === group && x.version === version)) {
    resources.push({ name: d.plural, singularName: d.singular, namespaced: d.namespaced, kind: d.kind, verbs: VERBS });
    if (d.statusSubresource) resources.push({ name: `${d.plural}/status`, singularName: '', namespaced: d.namespaced, kind: d.kind, verbs: STATUS_VERBS });
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group === '' ? version : `${group}/${version}`, resources };
}

/** The body for a discovery target, or undefined when the target is not a discovery document. */
export function discoveryDocument(registry: Registry, target: Target, serverAddress: string): JsonObject | undefined {
  switch (target.type) {
    case 'version':
      return {
        major: '1', minor: '31', gitVersion: 'v1.31.0', gitCommit: 'kube-api-double', gitTreeState: 'clean',
        buildDate: '2024-08-13T00:00:00Z', goVersion: 'go1.22.5', compiler: 'gc', platform: 'linux/amd64',
      };
    case 'apiVersions':
      return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
    case 'apiGroupList': {
      const groups = [...new Set(registry.defs.map((d) => d.group).filter((g) => g !== ''))];
      return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map((g) => groupDoc(registry, g)) };
    }
    case 'apiGroup':
      return { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(registry, target.group) };
    case 'resourceList':
      return resourceList(registry, target.group, target.version);
    default:
      return undefined;
  }
}
