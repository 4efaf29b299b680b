// BGPPeer (`crd.projectcalico.org/v1`, and `projectcalico.org/v3` in etcd) → BgpPeer.
//
// Read: peerIP (an address, optionally with a port: `10.0.0.1:180`, `[fd00::1]:180`), asNumber,
// node and nodeSelector (routing/bgp/selector.ts). Refused whole, with the field:
//   - a peer address that can never be a BGP neighbour: loopback, multicast, unspecified,
//     link-local (it would need an interface), 0.0.0.0/8, 240.0.0.0/4, IPv4-mapped space;
//   - a bad or reserved AS number (0, 23456, 65535, 4294967295, more than 32 bits);
//   - node and nodeSelector both set (Calico refuses that too), a selector wren cannot read;
//   - peerSelector (peering with other nodes: wren's datastore routes already do that job) and
//     password (TCP MD5 from a Secret): not implemented, and a session without them would be wrong.
// A peer address that is the node's own is a problem of that node only (routing/bgp/node-peers.ts).
// Options wren does not implement but that leave the session right are reported and ignored.
import type { JSONSchemaType } from 'ajv';
import type { AsNumber, IpAddr } from '../../kernel/values.js';
import { AS_NUMBER_RULE, cidrContains, familyOf, parseAsNumber, parseIp } from '../../kernel/values.js';
import type { BgpPeer } from '../../routing/bgp/bgp-objects.js';
import { parseSelector } from '../../routing/bgp/selector.js';
import { RESERVED_SPACE } from '../../routing/forbidden-space.js';
import type { KubeObject, ParseResult } from './api.js';
import { AS_NUMBER_SCHEMA, isSet } from './bgp-configuration.js';
import { readMetadata } from './metadata.js';
import { isObjectName, NAME_RULE } from './names.js';
import { describeValue, invalid, ok, problemOf, quote } from './results.js';
import { check, compileSchema } from './schema.js';

export interface BgpPeerRaw {
  spec: {
    peerIP?: string | null;
    asNumber?: number | string | null;
    node?: string | null;
    nodeSelector?: string | null;
    peerSelector?: string | null;
  };
}

const TEXT = { type: 'string', nullable: true } as const;

export const BGP_PEER_SCHEMA: JSONSchemaType<BgpPeerRaw> = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      properties: {
        peerIP: TEXT,
        asNumber: AS_NUMBER_SCHEMA,
        node: TEXT,
        nodeSelector: TEXT,
        peerSelector: TEXT,
      },
      required: [],
    },
  },
  required: ['spec'],
};
const validate = compileSchema(BGP_PEER_SCHEMA);

/** Options of Calico's BGPPeer that wren ignores (the session is still the one meant). */
export const IGNORED_PEER_FIELDS = ['keepOriginalNextHop', 'filters', 'maxRestartTime', 'ttlSecurity', 'sourceAddress', 'numAllowedLocalASNumbers', 'reachableBy', 'localWorkloadSelector', 'reversePeering', 'nextHopMode'] as const;

export function parseBgpPeer(raw: KubeObject): ParseResult {
  const meta = readMetadata(raw, { kind: 'BGPPeer', sourceKind: 'BGPPeer', namespaced: false });
  if (!meta.ok) return meta.result;
  const { ref } = meta;
  const checked = check(validate, raw, '');
  if (!checked.ok) return invalid(ref, checked.field, checked.message);
  const spec = checked.value.spec;
  const rawSpec = raw.spec as Readonly<Record<string, unknown>>;

  if (isSet(spec.peerSelector)) return invalid(ref, 'spec.peerSelector', 'is not supported by wren: it peers with addresses (spec.peerIP), and its datastore routes already reach every node');
  if (isSet(rawSpec.password)) return invalid(ref, 'spec.password', 'is not supported by wren (TCP MD5): a session without it would never be accepted');
  if (!isSet(spec.peerIP)) return invalid(ref, 'spec.peerIP', 'is required');
  const address = peerAddress(spec.peerIP ?? '');
  if ('error' in address) return invalid(ref, 'spec.peerIP', address.error);
  if (spec.asNumber === undefined || spec.asNumber === null) return invalid(ref, 'spec.asNumber', 'is required');
  const asNumber: AsNumber | undefined = parseAsNumber(spec.asNumber);
  if (asNumber === undefined) return invalid(ref, 'spec.asNumber', `${AS_NUMBER_RULE}, got ${describeValue(spec.asNumber)}`);

  let value: BgpPeer = { name: meta.name, peerIP: address.ip, asNumber, ...(address.port === undefined ? {} : { port: address.port }) };
  if (isSet(spec.node) && isSet(spec.nodeSelector)) return invalid(ref, 'spec.nodeSelector', 'cannot be set together with spec.node');
  if (isSet(spec.node)) {
    const node = spec.node ?? '';
    if (!isObjectName(node)) return invalid(ref, 'spec.node', `${NAME_RULE}, got ${quote(node)}`);
    value = { ...value, node };
  }
  if (isSet(spec.nodeSelector)) {
    const text = spec.nodeSelector ?? '';
    const selector = parseSelector(text);
    if ('error' in selector) return invalid(ref, 'spec.nodeSelector', `is not a selector wren can read (${selector.error}), got ${quote(text)}`);
    value = { ...value, nodeSelector: { text, selector } };
  }
  const problems = IGNORED_PEER_FIELDS.filter((field) => isSet(rawSpec[field])).map((field) => problemOf(ref, `spec.${field}`, 'is not supported by wren and is ignored'));
  return ok({ kind: 'BGPPeer', key: ref.key, value }, problems);
}

/** `10.0.0.1`, `10.0.0.1:180`, `fd00::1`, `[fd00::1]:180` → the address and port, or why not. */
export function peerAddress(text: string): { readonly ip: IpAddr; readonly port?: number } | { readonly error: string } {
  const bracketed = /^\[([^\]]+)\]:([0-9]{1,5})$/.exec(text);
  const v4WithPort = /^([0-9.]+):([0-9]{1,5})$/.exec(text);
  const [ipText, portText] = bracketed !== null ? [bracketed[1], bracketed[2]] : v4WithPort !== null ? [v4WithPort[1], v4WithPort[2]] : [text, undefined];
  const ip = parseIp(ipText);
  if (ip === undefined) return { error: `must be an IP address, optionally with a port (10.0.0.1:179, [fd00::1]:179), got ${quote(text)}` };
  const reserved = RESERVED_SPACE.find((r) => familyOf(r.cidr) === familyOf(ip) && cidrContains(r.cidr, ip));
  if (reserved !== undefined) return { error: `is ${ip}, in ${reserved.what} (${reserved.cidr}): never a BGP neighbour` };
  if (portText === undefined) return { ip };
  const port = Number(portText);
  if (port < 1 || port > 65535 || String(port) !== portText) return { error: `has port ${quote(portText)}: must be 1-65535` };
  return { ip, port };
}
