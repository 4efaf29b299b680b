// Names that reach the snapshot: object names, namespaces, node names, IPAM handles.
//
// They end up in log lines, store keys and etcd keys (`/calico/ipam/v2/host/<node>/…`), so they
// are held to Kubernetes' own rules: a name with a space, a newline or a `/` is a problem, not a
// name. Length is checked before the pattern, so no regular expression sees a long input.
import { calicoBlockName } from '../../routing/block-index.js';
import type { Cidr } from '../../kernel/values.js';

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
// Calico's handles: `k8s-pod-network.<container id>`, `ipip-tunnel-addr-<node>`; IPAMHandle
// objects are named by the handle in lower case, so a handle is a name up to its case.
const HANDLE = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

export const NAME_RULE = 'must be a DNS-1123 subdomain: lower-case letters, digits, "-" and ".", at most 253 characters';
export const NAMESPACE_RULE = 'must be a DNS-1123 label: lower-case letters, digits and "-", at most 63 characters';
export const HANDLE_RULE = 'must be letters, digits, "-", "_" and ".", at most 253 characters';

/** Object and node names: a DNS-1123 subdomain, as Kubernetes requires of most object names. */
export function isObjectName(text: unknown): text is string {
  return typeof text === 'string' && text.length <= 253 && SUBDOMAIN.test(text);
}

export function isNamespace(text: unknown): text is string {
  return typeof text === 'string' && text.length <= 63 && LABEL.test(text);
}

export function isHandle(text: unknown): text is string {
  return typeof text === 'string' && text.length <= 253 && HANDLE.test(text);
}

/** Calico's object name for a CIDR (`libcalico-go/lib/names/cidr.go`): 10.244.205.192/26 → 10-244-205-192-26. */
export function cidrName(cidr: Cidr): string {
  return calicoBlockName(cidr);
}

/**
 * `parts` joined into one flat string. V8 builds `a + b` and template literals of 13 or more
 * characters as a chain of 32-byte cons strings that hold on to their parts (and a part cut with
 * `slice` or `split` keeps its whole parent alive); join copies. For strings a snapshot keeps.
 */
export function flatJoin(...parts: string[]): string {
  return parts.join('');
}

const SHARED_LIMIT = 50_000;
const shared = new Map<string, string>();

/**
 * One copy of each node name for the whole snapshot. Every block and affinity of a node names it
 * (20 of each per node in a big cluster), and each copy a parser cuts out of an etcd key or
 * `host:<node>` is a V8 slice that keeps its whole parent string alive. The shared copy is a
 * fresh flat string. Cleared when full, so node churn over months cannot grow it without end.
 * `name` must already be valid (ASCII).
 */
export function sharedName(name: string): string {
  let copy = shared.get(name);
  if (copy === undefined) {
    if (shared.size >= SHARED_LIMIT) shared.clear();
    copy = Buffer.from(name, 'latin1').toString('latin1');
    shared.set(copy, copy);
  }
  return copy;
}
