// core/v1 Node → ClusterNode, for the Kubernetes datastore (KDD), where Calico keeps a node's
// routing facts in `projectcalico.org/*` annotations (`libcalico-go/lib/backend/k8s/resources/node.go`).
//
// Only Calico's annotations count. `status.addresses` (InternalIP) is deliberately not a
// fallback: Calico routes to the address calico-node detected and wrote into IPv4Address, which
// can differ from the kubelet's InternalIP on multi-homed hosts, and a node without the
// annotation has no calico-node yet, so nothing can be routed to it.
import type { JSONSchemaType } from 'ajv';
import type { KubeObject, ParseResult } from './api.js';
import { readMetadata } from './metadata.js';
import { buildNode, type NodeFieldInput } from './node-fields.js';
import { invalid } from './results.js';
import { check, compileSchema, joinPath } from './schema.js';

export const NODE_ANNOTATIONS = {
  ipv4: 'projectcalico.org/IPv4Address',
  ipv6: 'projectcalico.org/IPv6Address',
  ipipTunnelAddr: 'projectcalico.org/IPv4IPIPTunnelAddr',
  vxlanTunnelAddr: 'projectcalico.org/IPv4VXLANTunnelAddr',
  vxlanTunnelAddrV6: 'projectcalico.org/IPv6VXLANTunnelAddr',
  vxlanMac: 'projectcalico.org/VXLANTunnelMACAddr',
  vxlanMacV6: 'projectcalico.org/VXLANTunnelMACAddrV6',
  asNumber: 'projectcalico.org/ASNumber',
} as const satisfies Record<NodeFieldInput['fact'], string>;

export interface K8sNodeRaw {
  metadata: {
    /** Values are checked one by one: a bad one costs only its own field. */
    annotations?: { [key: string]: unknown } | null;
  };
}

export const K8S_NODE_SCHEMA: JSONSchemaType<K8sNodeRaw> = {
  type: 'object',
  properties: {
    metadata: {
      type: 'object',
      properties: { annotations: { type: 'object', nullable: true, required: [] } },
      required: [],
    },
  },
  required: ['metadata'],
};
const validateNode = compileSchema(K8S_NODE_SCHEMA);

export function parseK8sNode(raw: KubeObject): ParseResult {
  const meta = readMetadata(raw, { kind: 'Node', sourceKind: 'Node', namespaced: false });
  if (!meta.ok) return meta.result;
  const checked = check(validateNode, raw, '');
  if (!checked.ok) return invalid(meta.ref, checked.field, checked.message);
  const annotations = checked.value.metadata.annotations ?? {};
  const inputs = Object.entries(NODE_ANNOTATIONS).map(([fact, annotation]) => ({
    fact: fact as NodeFieldInput['fact'],
    path: joinPath('metadata.annotations', annotation),
    value: Object.hasOwn(annotations, annotation) ? annotations[annotation] : undefined,
  }));
  return buildNode(meta.ref, meta.name, inputs, raw.metadata);
}
