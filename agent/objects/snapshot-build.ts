// Parsed objects → ClusterSnapshot, in a fixed order (each kind sorted by name; workloads by
// namespace, then name, then node), so the same objects make the same snapshot however they
// arrived: list order, watch order, file order, Kubernetes or etcd keys.
import type { ClusterSnapshot } from '../../routing/cluster.js';
import type { ParsedObject } from './api.js';

type ValueOf<K extends ParsedObject['kind']> = Extract<ParsedObject, { kind: K }>['value'];

export function buildSnapshot(objects: Iterable<ParsedObject>): ClusterSnapshot {
  const sorted = [...objects].sort((a, b) => compareNames(sortNames(a), sortNames(b)) || compare(a.key, b.key));
  const of = <K extends ParsedObject['kind']>(kind: K): ValueOf<K>[] => sorted.filter((o) => o.kind === kind).map((o) => o.value as ValueOf<K>);
  return { pools: of('IPPool'), nodes: of('Node'), blocks: of('IPAMBlock'), affinities: of('BlockAffinity'), workloads: of('Workload') };
}

function sortNames(object: ParsedObject): readonly string[] {
  return object.kind === 'Workload' ? [object.value.namespace, object.value.name, object.value.node] : [object.value.name];
}

function compareNames(a: readonly string[], b: readonly string[]): number {
  for (const [i, name] of a.entries()) {
    const order = compare(name, b[i] ?? '');
    if (order !== 0) return order;
  }
  return a.length - b.length;
}

/** Code-unit order, not locale order: the same on every machine. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
