// The two settings of the meaning checks, read the same way by the agent (config.ts) and the
// one-shot commands (cli/dataplane-flags.ts):
//   --forbidden-cidrs   WREN_FORBIDDEN_CIDRS   prefixes no IP pool may overlap, besides the node's
//                                              own space and reserved ranges (the service CIDR);
//   --interface-prefix  FELIX_INTERFACEPREFIX  the workload interface prefixes, Felix's setting
//                                              (comma-separated; `cali` by default).
import type { Cidr } from '../kernel/values.js';
import { parseCidr } from '../kernel/values.js';
import { DEFAULT_INTERFACE_PREFIXES, isInterfacePrefix } from '../routing/workload-iface.js';

export type Parsed<T> = { readonly value: T; readonly refused?: undefined } | { readonly refused: string };

function items(text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

export function parseForbiddenCidrs(text: string): Parsed<Cidr[]> {
  const cidrs: Cidr[] = [];
  for (const item of items(text)) {
    const cidr = parseCidr(item);
    if (cidr === undefined) return { refused: `${JSON.stringify(item)} is not a network prefix (like 10.96.0.0/12 or fd00:96::/108, with no host bits set)` };
    cidrs.push(cidr);
  }
  return { value: cidrs };
}

export function parseInterfacePrefixes(text: string): Parsed<string[]> {
  const prefixes = items(text);
  if (prefixes.length === 0) return { value: [...DEFAULT_INTERFACE_PREFIXES] };
  const bad = prefixes.find((p) => !isInterfacePrefix(p));
  if (bad !== undefined) return { refused: `${JSON.stringify(bad)} is not an interface name prefix (1-14 of letters, digits, "_", "." and "-")` };
  return { value: prefixes };
}
