// Strategic merge patch (application/strategic-merge-patch+json) for built-in types: a merge patch
// whose lists merge by the type's patchMergeKey (ResourceDef.mergeKeys) instead of being replaced,
// with the directives kubectl and controllers send: $patch (replace|delete|merge),
// $deleteFromPrimitiveList/<field>, $setElementOrder/<field> and $retainKeys.
import { isPlainObject } from './json.js';

export type MergeKeys = Readonly<Record<string, string>>;

const DELETE_FROM = '$deleteFromPrimitiveList/';
const ORDER = '$setElementOrder/';

function withoutDirective(item: Record<string, unknown>): Record<string, unknown> {
  const { $patch: _directive, ...rest } = item;
  return rest;
}

function mergeList(original: unknown, patch: unknown[], path: string, keys: MergeKeys): unknown[] {
  const key = keys[path];
  if (key === undefined) return structuredClone(patch);
  if (patch.some((p) => isPlainObject(p) && p.$patch === 'replace')) {
    return patch.filter((p) => !(isPlainObject(p) && p.$patch === 'replace')).map((p) => structuredClone(p));
  }
  const result = Array.isArray(original) ? structuredClone(original) : [];
  if (key === '') {
    for (const p of patch) if (!result.includes(p)) result.push(p);
    return result;
  }
  for (const p of patch) {
    if (!isPlainObject(p)) throw new TypeError(`${path}: list items must be objects keyed by ${key}`);
    const at = result.findIndex((r) => isPlainObject(r) && r[key] === p[key]);
    if (p.$patch === 'delete') {
      if (at >= 0) result.splice(at, 1);
    } else if (at >= 0) result[at] = strategicMerge(result[at], p, `${path}[]`, keys);
    else result.push(strategicMerge({}, withoutDirective(p), `${path}[]`, keys));
  }
  return result;
}

function reorder(list: unknown, order: unknown, key: string | undefined): unknown {
  if (!Array.isArray(list) || !Array.isArray(order)) return list;
  const id = (v: unknown) => (key !== undefined && key !== '' && isPlainObject(v) ? v[key] : v);
  const orderIds = order.map(id);
  const rank = (v: unknown) => {
    const i = orderIds.indexOf(id(v));
    return i < 0 ? orderIds.length : i;
  };
  return [...list].sort((a, b) => rank(a) - rank(b));
}

/** Applies `patch` to `original` at field path `path`; undefined means "$patch: delete" removed it. */
export function strategicMerge(original: unknown, patch: unknown, path: string, keys: MergeKeys): unknown {
  if (!isPlainObject(patch)) return structuredClone(patch);
  if (patch.$patch === 'delete') return undefined;
  if (patch.$patch === 'replace') return structuredClone(withoutDirective(patch));
  const result: Record<string, unknown> = isPlainObject(original) ? structuredClone(original) : {};
  const at = (k: string) => (path === '' ? k : `${path}.${k}`);
  if (Array.isArray(patch.$retainKeys)) {
    for (const k of Object.keys(result)) if (!patch.$retainKeys.includes(k)) delete result[k];
  }
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith(ORDER)) continue;
    if (k.startsWith(DELETE_FROM)) {
      const field = k.slice(DELETE_FROM.length);
      const current = result[field];
      if (Array.isArray(current) && Array.isArray(v)) result[field] = current.filter((x) => !v.includes(x));
    } else if (v === null) delete result[k];
    else if (Array.isArray(v)) result[k] = mergeList(result[k], v, at(k), keys);
    else if (isPlainObject(v)) {
      const merged = strategicMerge(result[k], v, at(k), keys);
      if (merged === undefined) delete result[k];
      else result[k] = merged;
    } else result[k] = v;
  }
  for (const [k, order] of Object.entries(patch)) {
    if (!k.startsWith(ORDER)) continue;
    const field = k.slice(ORDER.length);
    result[field] = reorder(result[field], order, keys[at(field)]);
  }
  return result;
}
