// The routing facts of a node (addresses, tunnel addresses, VTEP MACs), wherever they are kept:
// annotations on a Kubernetes Node (KDD) or the spec of a projectcalico.org/v3 Node (etcd).
//
// Calico ignores a node field it cannot parse and keeps the node (calico.md §5: "invalid values
// are ignored"), so wren does the same: the field is left out of the node and reported as a
// problem. An empty string is Calico's "unset" (Go's zero value), not an error.
import type { Family } from '../../kernel/values.js';
import { addressOf, AS_NUMBER_RULE, familyOf, hostCidr, parseAsNumber, parseCidr, parseIp, parseMac } from '../../kernel/values.js';
import type { ClusterNode, NodeAddress, ObjectProblem } from '../../routing/cluster.js';
import type { ParseResult } from './api.js';
import { creationTimestamp } from './metadata.js';
import type { Labels } from '../../routing/bgp/selector.js';
import { describeValue, isRecord, ok, problemOf, type ObjectRef } from './results.js';
import { joinPath } from './schema.js';

type NodeFact = Exclude<keyof ClusterNode, 'name' | 'created' | 'labels'>;
type Facts = Partial<Pick<ClusterNode, NodeFact>>;

export interface NodeFieldInput {
  readonly fact: NodeFact;
  /** Where the value was found, for the problem: `metadata.annotations["projectcalico.org/IPv4Address"]`. */
  readonly path: string;
  readonly value: unknown;
}

const IGNORED = 'the node is kept without it, as Calico ignores invalid node fields';

export function buildNode(ref: ObjectRef, name: string, inputs: readonly NodeFieldInput[], metadata?: unknown): ParseResult {
  let facts: Facts & { created?: string } = {};
  const created = creationTimestamp(metadata);
  if (created !== undefined) facts.created = created;
  const problems: ObjectProblem[] = [];
  const labels = labelsOf(ref, metadata, problems);
  for (const { fact, path, value } of inputs) {
    if (value === undefined || value === null || value === '') continue;
    const parsed = typeof value === 'string' ? parseFact(fact, value) : { expected: 'a string' };
    if ('expected' in parsed) {
      problems.push(problemOf(ref, path, `must be ${parsed.expected}, got ${describeValue(value)}; ${IGNORED}`));
    } else {
      facts = { ...facts, ...parsed };
    }
  }
  return ok({ kind: 'Node', key: ref.key, value: labels === undefined ? { name, ...facts } : { name, ...facts, labels } }, problems);
}

/** `metadata.labels` (BGPPeer node selectors match them): string values only, a bad one dropped and said. */
function labelsOf(ref: ObjectRef, metadata: unknown, problems: ObjectProblem[]): Labels | undefined {
  const raw = isRecord(metadata) ? metadata.labels : undefined;
  if (raw === undefined || raw === null) return undefined;
  if (!isRecord(raw)) {
    problems.push(problemOf(ref, 'metadata.labels', `must be an object, got ${describeValue(raw)}; ${IGNORED}`));
    return undefined;
  }
  const kept: [string, string][] = [];
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value === 'string') kept.push([key, value]);
    else problems.push(problemOf(ref, joinPath('metadata.labels', key), `must be a string, got ${describeValue(value)}; ${IGNORED}`));
  }
  // fromEntries defines own properties: a label named "__proto__" is just a label.
  return kept.length === 0 ? undefined : Object.fromEntries(kept);
}

type Parsed = Facts | { readonly expected: string };

function parseFact(fact: NodeFact, text: string): Parsed {
  switch (fact) {
    case 'ipv4':
    case 'ipv6': {
      const value = address(text, fact === 'ipv4' ? 4 : 6);
      return 'expected' in value ? value : { [fact]: value };
    }
    case 'ipipTunnelAddr':
    case 'vxlanTunnelAddr':
    case 'vxlanTunnelAddrV6': {
      const family = fact === 'vxlanTunnelAddrV6' ? 6 : 4;
      const value = parseIp(text);
      return value === undefined || familyOf(value) !== family ? { expected: `an IPv${family} address` } : { [fact]: value };
    }
    case 'vxlanMac':
    case 'vxlanMacV6': {
      const value = parseMac(text);
      return value === undefined ? { expected: 'a MAC address like 66:07:02:c1:cc:60' } : { [fact]: value };
    }
    case 'asNumber': {
      const value = parseAsNumber(text);
      return value === undefined ? { expected: AS_NUMBER_RULE.replace(/^must be /, '') } : { asNumber: value };
    }
  }
}

/** `172.16.30.7/24`, host bits kept; a bare address reads as a host prefix, as Felix's ParseCIDROrIP does. */
function address(text: string, family: Family): NodeAddress | { readonly expected: string } {
  const bare = parseIp(text);
  const cidr = bare === undefined ? parseCidr(text, false) : hostCidr(bare);
  if (cidr === undefined || familyOf(cidr) !== family) {
    return { expected: family === 4 ? 'an IPv4 address with its prefix length, like 172.16.30.7/24' : 'an IPv6 address with its prefix length, like fd00::7/64' };
  }
  return { ip: addressOf(cidr), cidr };
}
