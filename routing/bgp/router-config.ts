// A plain BGP router's BIRD 2 configuration: the fabric's side of a node's sessions, as the lab's
// router and the tests run it. It accepts sessions from the nodes (one neighbour each, or every
// address of a range with BIRD's dynamic BGP), learns what they announce into its kernel, sends
// them nothing, and helps them through graceful restarts (their routes kept while they restart).
//
// Pure, and from validated values only, as the node's configuration is (bird-config.ts).
import type { AsNumber, Cidr, IpAddr } from '../../kernel/values.js';
import { familyOf, parseCidr, parseIp } from '../../kernel/values.js';

export type RouterNeighbor =
  | { readonly ip: IpAddr; readonly asNumber: AsNumber }
  /** Any node in the range, of any AS but the router's own (BIRD's `neighbor range … external`). */
  | { readonly range: Cidr };

export interface RouterConfigInput {
  readonly routerId: IpAddr;
  readonly asNumber: AsNumber;
  readonly neighbors: readonly RouterNeighbor[];
}

export function renderRouterConfig(input: RouterConfigInput): string {
  const lines = [
    '# A BGP router for wren\'s nodes: learns their blocks into the kernel, sends them nothing.',
    'log stderr { info, remote, warning, error, auth, fatal, bug };',
    'timeformat protocol iso long;',
    `router id ${checked(input.routerId, (t) => parseIp(t) === t && familyOf(t) === 4)};`,
    'protocol device {}',
    // Several nodes may announce one prefix (a block moving): the kernel gets them as one multipath route.
    'protocol kernel kernel4 { ipv4 { import none; export all; }; merge paths on; }',
    'protocol kernel kernel6 { ipv6 { import none; export all; }; merge paths on; }',
  ];
  for (const [index, neighbor] of input.neighbors.entries()) {
    const family = 'range' in neighbor ? familyOf(neighbor.range) : familyOf(neighbor.ip);
    const where = 'range' in neighbor
      ? [`  neighbor range ${checked(neighbor.range, (t) => parseCidr(t) === t)} external;`, `  dynamic name "node${index}_";`]
      : [`  neighbor ${checked(neighbor.ip, (t) => parseIp(t) === t)} as ${asn(neighbor.asNumber)};`];
    const protocol = [
      `protocol bgp nodes${index} {`,
      `  local as ${asn(input.asNumber)};`,
      ...where,
      // Nodes sit on the router's own subnets, as on a top-of-rack switch: their next hops resolve on the link.
      '  direct;',
      '  graceful restart on;',
      '  connect delay time 1;',
      '  connect retry time 5;',
      '  error wait time 5, 60;',
      `  ipv${family} { import all; export none; };`,
      '}',
    ];
    for (const line of protocol) lines.push(line);
  }
  return `${lines.join('\n')}\n`;
}

function asn(value: AsNumber): string {
  if (!Number.isInteger(value) || value < 1 || value > 4294967294) throw new RangeError(`AS number ${String(value)} is outside 1–4294967294`);
  return String(value);
}

function checked<T extends string>(value: T, valid: (text: T) => boolean): T {
  if (!valid(value)) throw new RangeError(`${JSON.stringify(value)} is not a validated value`);
  return value;
}
