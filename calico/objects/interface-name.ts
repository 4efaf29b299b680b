// The host-side veth name Calico gives a pod (calico.md §7, confirmed against a live node in
// ../shared/seeds/002: `default.nginx` → `calic440f455693`):
// prefix + the first 11 hex digits of SHA-1("<namespace>.<pod>").
// (`libcalico-go/lib/backend/k8s/conversion/workload_endpoint_default.go`)
import { createHash } from 'node:crypto';
import type { IfaceName } from '../../kernel/values.js';
import { parseIfaceName } from '../../kernel/values.js';

/** Felix's default, the first entry of FELIX_INTERFACEPREFIX when that is unset. */
export const DEFAULT_INTERFACE_PREFIX = 'cali';

/** Throws on a prefix that cannot make a valid name (configuration error, not datastore input). */
export function calicoInterfaceName(namespace: string, pod: string, prefix = DEFAULT_INTERFACE_PREFIX): IfaceName {
  const digest = createHash('sha1').update(`${namespace}.${pod}`).digest('hex');
  const name = parseIfaceName(`${prefix}${digest.slice(0, 11)}`);
  if (name === undefined) throw new RangeError(`interface prefix ${JSON.stringify(prefix)} cannot make a valid interface name`);
  return name;
}
