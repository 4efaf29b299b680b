// Building ParseResults, and describing untrusted values in problem messages.
//
// Messages end up in logs and on terminals, so a hostile value is never echoed raw: strings are
// quoted as printable-ASCII JSON literals and cut short, and anything else is
// described by its type. Nothing here calls a method on the value, so objects without a
// prototype or with odd keys cannot make the description throw.
import type { ObjectProblem } from '../../routing/cluster.js';
import type { ObjectKind, ParsedObject, ParseResult } from './api.js';

/** Which object a problem is about: the snapshot kind and key, and what an operator would call it. */
export interface ObjectRef {
  readonly kind: ObjectKind;
  readonly key: string;
  /** The kind as the datastore spells it: `Pod` or `WorkloadEndpoint` for a Workload. */
  readonly sourceKind: string;
  /** `name`, or `namespace/name` for namespaced kinds. */
  readonly name: string;
}

const MAX_QUOTED = 64;

/**
 * A JSON string literal of printable ASCII only: JSON.stringify leaves U+2028, bidi overrides and
 * other characters that can garble a terminal or a log line as they are, so those are escaped too.
 */
export function quote(text: string): string {
  const literal = JSON.stringify(text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED)}...` : text);
  return literal.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

export function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function problemOf(ref: ObjectRef, field: string, message: string): ObjectProblem {
  return { kind: ref.sourceKind, name: ref.name, field, message, reason: 'invalid' };
}

export function invalid(ref: ObjectRef, field: string, message: string): ParseResult {
  return { status: 'invalid', kind: ref.kind, key: ref.key, problem: problemOf(ref, field, message) };
}

/** Ignored with a ref: the object exists but is not routable, so any earlier value under its key goes. */
export function ignored(ref: ObjectRef | undefined, reason: string): ParseResult {
  return ref === undefined ? { status: 'ignored', reason } : { status: 'ignored', kind: ref.kind, key: ref.key, reason };
}

export function ok(object: ParsedObject, problems: readonly ObjectProblem[] = []): ParseResult {
  return problems.length === 0 ? { status: 'ok', object } : { status: 'ok', object, problems };
}
