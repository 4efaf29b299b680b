// Parsed objects → ClusterSnapshot, in a fixed order (each kind sorted by name; workloads by
// namespace, then name, then node), so the same objects make the same snapshot however they
// arrived: list order, watch order, file order, Kubernetes or etcd keys.
import type { ClusterSnapshot } from '../../routing/cluster.js';
import type { ObjectKind, ParsedObject } from './api.js';

type ValueOf<K extends ObjectKind> = Extract<ParsedObject, { kind: K }>['value'];

export function buildSnapshot(objects: Iterable<ParsedObject>): ClusterSnapshot {
  const byKind = new Map<ObjectKind, ParsedObject[]>();
  for (const object of objects) {
    const list = byKind.get(object.kind);
    if (list === undefined) byKind.set(object.kind, [object]);
    else list.push(object);
  }
  const of = <K extends ObjectKind>(kind: K): ValueOf<K>[] => (byKind.get(kind) ?? []).sort(order).map((o) => o.value as ValueOf<K>);
  return { pools: of('IPPool'), nodes: of('Node'), blocks: of('IPAMBlock'), affinities: of('BlockAffinity'), workloads: of('Workload'), bgpConfigurations: of('BGPConfiguration'), bgpPeers: of('BGPPeer') };
}

/**
 * Two objects of one kind: by name, then key; workloads by namespace, name, node, then key.
 * Allocates nothing, as it runs n·log n times (200,000 objects for 100,000 blocks).
 */
function order(a: ParsedObject, b: ParsedObject): number {
  if (a.kind === 'Workload' && b.kind === 'Workload') {
    return compare(a.value.namespace, b.value.namespace) || compare(a.value.name, b.value.name) || compare(a.value.node, b.value.node) || compare(a.key, b.key);
  }
  return compare(a.value.name, b.value.name) || compare(a.key, b.key);
}

/** Code-unit order, not locale order: the same on every machine. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
