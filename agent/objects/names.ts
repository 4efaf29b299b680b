// Names that reach the snapshot: object names, namespaces, node names, IPAM handles.
//
// They end up in log lines, store keys and etcd keys (`/calico/ipam/v2/host/<node>/…`), so they
// are held to Kubernetes' own rules: a name with a space, a newline or a `/` is a problem, not a
// name. Length is checked before the pattern, so no regular expression sees a long input.
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
  return cidr.replace(/[.:/]/g, '-');
}
