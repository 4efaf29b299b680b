// labelSelector and fieldSelector, parsed and matched as k8s.io/apimachinery's labels.Parse and
// fields.ParseSelector do, including the per-type field-label whitelist the apiserver enforces.
import type { KubeObject } from './types.js';
import type { ResourceDef } from './resources.js';
import { allFieldLabels } from './resources.js';
import { badRequest } from './status.js';

export type Predicate = (obj: KubeObject) => boolean;

const KEY = String.raw`(?:[A-Za-z0-9.-]+/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?`;
const VALUE = String.raw`(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?`;
const EXISTS = new RegExp(String.raw`^\s*(!?)\s*(${KEY})\s*$`);
const COMPARE = new RegExp(String.raw`^\s*(${KEY})\s*(==|=|!=|>|<)\s*(${VALUE})\s*$`);
const SET = new RegExp(String.raw`^\s*(${KEY})\s+(in|notin)\s*\(([^()]*)\)\s*$`);
const VALUE_ONLY = new RegExp(String.raw`^${VALUE}$`);

/** Splits on commas outside parentheses: "a in (x,y),b" is two requirements. */
function splitRequirements(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(selector.slice(start));
  return parts;
}

function labelRequirement(req: string): Predicate {
  const fail = () => badRequest(`unable to parse requirement: ${JSON.stringify(req.trim())}`);
  const labels = (o: KubeObject) => o.metadata.labels ?? {};
  const exists = EXISTS.exec(req);
  if (exists) {
    const [, not, key = ''] = exists;
    return not ? (o) => !(key in labels(o)) : (o) => key in labels(o);
  }
  const cmp = COMPARE.exec(req);
  if (cmp) {
    const [, key = '', op, value = ''] = cmp;
    if (op === '>' || op === '<') {
      if (!/^-?\d+$/.test(value)) throw fail();
      const bound = Number(value);
      return (o) => {
        const v = labels(o)[key];
        if (v === undefined || !/^-?\d+$/.test(v)) return false;
        return op === '>' ? Number(v) > bound : Number(v) < bound;
      };
    }
    return op === '!=' ? (o) => labels(o)[key] !== value : (o) => labels(o)[key] === value;
  }
  const set = SET.exec(req);
  if (set) {
    const [, key = '', op, list = ''] = set;
    const values = new Set(list.split(',').map((v) => v.trim()));
    if ([...values].some((v) => !VALUE_ONLY.test(v))) throw fail();
    const has = (o: KubeObject) => {
      const v = labels(o)[key];
      return v !== undefined && values.has(v);
    };
    return op === 'in' ? has : (o) => !has(o);
  }
  throw fail();
}

export function parseLabelSelector(selector: string | null): Predicate {
  if (selector === null || selector.trim() === '') return () => true;
  const reqs = splitRequirements(selector).map(labelRequirement);
  return (o) => reqs.every((r) => r(o));
}

/** Splits on unescaped commas and un-escapes \, \= \! \\ like fields.ParseSelector. */
function splitFieldTerms(selector: string): string[] {
  const terms: string[] = [];
  let cur = '';
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i] ?? '';
    if (c === '\\' && i + 1 < selector.length) {
      cur += c + (selector[++i] ?? '');
    } else if (c === ',') {
      terms.push(cur);
      cur = '';
    } else cur += c;
  }
  terms.push(cur);
  return terms;
}

const unescapeField = (s: string) => s.replace(/\\(.)/g, '$1');

function fieldTerm(def: ResourceDef, term: string): Predicate {
  // The first operator wins, scanning left to right and trying != then == then = at each position.
  for (let i = 0; i < term.length; i++) {
    if (term[i - 1] === '\\') continue;
    for (const op of ['!=', '==', '=']) {
      if (!term.startsWith(op, i)) continue;
      const field = unescapeField(term.slice(0, i));
      const value = unescapeField(term.slice(i + op.length));
      const label = allFieldLabels(def)[field];
      if (label === undefined) {
        throw badRequest(def.custom
          ? `"${field}" is not a known field selector: only "metadata.name"${def.namespaced ? ', "metadata.namespace"' : ''}`
          : `field label not supported: ${field}`);
      }
      return op === '!=' ? (o) => label(o) !== value : (o) => label(o) === value;
    }
  }
  throw badRequest(`invalid selector: '${term}'; can't understand '${term}'`);
}

export function parseFieldSelector(def: ResourceDef, selector: string | null): Predicate {
  if (selector === null || selector.trim() === '') return () => true;
  const terms = splitFieldTerms(selector).map((t) => fieldTerm(def, t));
  return (o) => terms.every((t) => t(o));
}

/** Everything that narrows a list or watch: namespace from the path, then both selectors. */
export function objectFilter(def: ResourceDef, namespace: string | undefined, params: URLSearchParams): Predicate {
  const byLabel = parseLabelSelector(params.get('labelSelector'));
  const byField = parseFieldSelector(def, params.get('fieldSelector'));
  return (o) => (namespace === undefined || o.metadata.namespace === namespace) && byLabel(o) && byField(o);
}

export const hasSelectors = (params: URLSearchParams) =>
  (params.get('labelSelector') ?? '') !== '' || (params.get('fieldSelector') ?? '') !== '';
