// projectcalico.org/v3 Node → ClusterNode, for the etcd datastore, where the routing facts are
// spec fields (`spec.bgp.ipv4Address`, `spec.ipv4VXLANTunnelAddr`, …) rather than annotations.
// Field values get the same lenient treatment as KDD's annotations (node-fields.ts); a field of
// the wrong JSON type means the object is not a Calico Node at all, and is rejected.
import type { JSONSchemaType } from 'ajv';
import type { KubeObject, ParseResult } from './api.js';
import { AS_NUMBER_SCHEMA } from './bgp-configuration.js';
import { readMetadata } from './metadata.js';
import { buildNode } from './node-fields.js';
import { invalid } from './results.js';
import { check, compileSchema } from './schema.js';

type Text = string | null;

export interface CalicoNodeRaw {
  spec?: {
    bgp?: { ipv4Address?: Text; ipv6Address?: Text; ipv4IPIPTunnelAddr?: Text; asNumber?: number | string | null } | null;
    ipv4VXLANTunnelAddr?: Text;
    ipv6VXLANTunnelAddr?: Text;
    vxlanTunnelMACAddr?: Text;
    vxlanTunnelMACAddrV6?: Text;
  } | null;
}

const TEXT = { type: 'string', nullable: true } as const;

export const CALICO_NODE_SCHEMA: JSONSchemaType<CalicoNodeRaw> = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      nullable: true,
      properties: {
        bgp: {
          type: 'object',
          nullable: true,
          properties: { ipv4Address: TEXT, ipv6Address: TEXT, ipv4IPIPTunnelAddr: TEXT, asNumber: AS_NUMBER_SCHEMA },
          required: [],
        },
        ipv4VXLANTunnelAddr: TEXT,
        ipv6VXLANTunnelAddr: TEXT,
        vxlanTunnelMACAddr: TEXT,
        vxlanTunnelMACAddrV6: TEXT,
      },
      required: [],
    },
  },
  required: [],
};
const validateNode = compileSchema(CALICO_NODE_SCHEMA);

export function parseCalicoNode(raw: KubeObject): ParseResult {
  const meta = readMetadata(raw, { kind: 'Node', sourceKind: 'Node', namespaced: false });
  if (!meta.ok) return meta.result;
  const checked = check(validateNode, raw, '');
  if (!checked.ok) return invalid(meta.ref, checked.field, checked.message);
  const spec = checked.value.spec ?? {};
  const bgp = spec.bgp ?? {};
  return buildNode(meta.ref, meta.name, [
    { fact: 'ipv4', path: 'spec.bgp.ipv4Address', value: bgp.ipv4Address },
    { fact: 'ipv6', path: 'spec.bgp.ipv6Address', value: bgp.ipv6Address },
    { fact: 'ipipTunnelAddr', path: 'spec.bgp.ipv4IPIPTunnelAddr', value: bgp.ipv4IPIPTunnelAddr },
    { fact: 'asNumber', path: 'spec.bgp.asNumber', value: typeof bgp.asNumber === 'number' ? String(bgp.asNumber) : bgp.asNumber },
    { fact: 'vxlanTunnelAddr', path: 'spec.ipv4VXLANTunnelAddr', value: spec.ipv4VXLANTunnelAddr },
    { fact: 'vxlanTunnelAddrV6', path: 'spec.ipv6VXLANTunnelAddr', value: spec.ipv6VXLANTunnelAddr },
    { fact: 'vxlanMac', path: 'spec.vxlanTunnelMACAddr', value: spec.vxlanTunnelMACAddr },
    { fact: 'vxlanMacV6', path: 'spec.vxlanTunnelMACAddrV6', value: spec.vxlanTunnelMACAddrV6 },
  ], raw.metadata);
}
