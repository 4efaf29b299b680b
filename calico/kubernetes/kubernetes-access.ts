// Every Kubernetes API call the datastore makes, by resource and verb. The datastore's client
// refuses a call that is not listed here, and the DaemonSet's ClusterRole is checked against
// this list by test/daemonset.test.ts, so the grant is exactly what the code uses.
export interface ApiAccess {
  readonly group: '' | 'crd.projectcalico.org';
  readonly resource: string;
  readonly verbs: readonly ('get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete')[];
}

export const KUBERNETES_ACCESS: readonly ApiAccess[] = [
  { group: '', resource: 'nodes', verbs: ['get', 'list', 'watch', 'patch'] },
  { group: '', resource: 'pods', verbs: ['list', 'watch'] },
  { group: 'crd.projectcalico.org', resource: 'ippools', verbs: ['list', 'watch'] },
  { group: 'crd.projectcalico.org', resource: 'ipamblocks', verbs: ['get', 'list', 'watch', 'create', 'update', 'delete'] },
  { group: 'crd.projectcalico.org', resource: 'blockaffinities', verbs: ['get', 'list', 'watch', 'create', 'update', 'delete'] },
  { group: 'crd.projectcalico.org', resource: 'ipamhandles', verbs: ['get', 'create', 'update', 'delete'] },
  { group: 'crd.projectcalico.org', resource: 'bgpconfigurations', verbs: ['list', 'watch'] },
  { group: 'crd.projectcalico.org', resource: 'bgppeers', verbs: ['list', 'watch'] },
];

export function allowed(group: ApiAccess['group'], resource: string, verb: ApiAccess['verbs'][number]): boolean {
  return KUBERNETES_ACCESS.some((a) => a.group === group && a.resource === resource && a.verbs.includes(verb));
}
