// BGPConfiguration (`crd.projectcalico.org/v1`, and `projectcalico.org/v3` in etcd) →
// BgpConfiguration. wren reads asNumber, nodeToNodeMeshEnabled, listenPort and
// logSeverityScreen; the one named `default` is the cluster's (routing/bgp/node-peers.ts).
//
// A bad AS number, port or severity refuses the object whole, as a bad IPPool is refused: BIRD is
// then configured as if there were none (AS 64512), never with half of it. Fields that would change
// what a node advertises and that wren does not implement (service addresses, communities,
// prefix advertisements, the mesh's password) keep the object but are each reported: the operator
// learns that wren does not do them.
import type { JSONSchemaType } from 'ajv';
import { AS_NUMBER_RULE, parseAsNumber } from '../../kernel/values.js';
import { LOG_SEVERITIES, type BgpConfiguration, type LogSeverity } from '../../routing/bgp/bgp-objects.js';
import type { KubeObject, ParseResult } from './api.js';
import { readMetadata } from './metadata.js';
import { describeValue, invalid, ok, problemOf } from './results.js';
import { check, compileSchema } from './schema.js';

/** Calico's numorstring.ASNumber: a JSON number, or an asplain/asdot string (ajv's types cannot say `number | string`). */
export const AS_NUMBER_SCHEMA = { type: ['integer', 'string'], nullable: true } as never;

export interface BgpConfigurationRaw {
  spec?: {
    asNumber?: number | string | null;
    nodeToNodeMeshEnabled?: boolean | null;
    listenPort?: number | null;
    logSeverityScreen?: LogSeverity | null;
  } | null;
}

export const BGP_CONFIGURATION_SCHEMA: JSONSchemaType<BgpConfigurationRaw> = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      nullable: true,
      properties: {
        asNumber: AS_NUMBER_SCHEMA,
        nodeToNodeMeshEnabled: { type: 'boolean', nullable: true },
        listenPort: { type: 'integer', nullable: true },
        logSeverityScreen: { type: 'string', enum: [...LOG_SEVERITIES, null], nullable: true },
      },
      required: [],
    },
  },
  required: [],
};
const validate = compileSchema(BGP_CONFIGURATION_SCHEMA);

/** Spec fields of Calico's that change what is advertised, which wren does not implement. */
export const UNSUPPORTED_CONFIGURATION_FIELDS = ['serviceClusterIPs', 'serviceExternalIPs', 'serviceLoadBalancerIPs', 'communities', 'prefixAdvertisements', 'nodeMeshPassword'] as const;

export function parseBgpConfiguration(raw: KubeObject): ParseResult {
  const meta = readMetadata(raw, { kind: 'BGPConfiguration', sourceKind: 'BGPConfiguration', namespaced: false });
  if (!meta.ok) return meta.result;
  const { ref } = meta;
  const checked = check(validate, raw, '');
  if (!checked.ok) return invalid(ref, checked.field, checked.message);
  const spec = checked.value.spec ?? {};
  let value: BgpConfiguration = { name: meta.name };

  if (spec.asNumber !== undefined && spec.asNumber !== null) {
    const asNumber = parseAsNumber(spec.asNumber);
    if (asNumber === undefined) return invalid(ref, 'spec.asNumber', `${AS_NUMBER_RULE}, got ${describeValue(spec.asNumber)}`);
    value = { ...value, asNumber };
  }
  if (spec.listenPort !== undefined && spec.listenPort !== null) {
    if (spec.listenPort < 1 || spec.listenPort > 65535) return invalid(ref, 'spec.listenPort', `must be a port, 1-65535, got ${spec.listenPort}`);
    value = { ...value, listenPort: spec.listenPort };
  }
  if (typeof spec.nodeToNodeMeshEnabled === 'boolean') value = { ...value, nodeToNodeMeshEnabled: spec.nodeToNodeMeshEnabled };
  if (spec.logSeverityScreen !== undefined && spec.logSeverityScreen !== null) value = { ...value, logSeverityScreen: spec.logSeverityScreen };

  const rawSpec = (raw.spec ?? {}) as Readonly<Record<string, unknown>>;
  const problems = UNSUPPORTED_CONFIGURATION_FIELDS.filter((field) => isSet(rawSpec[field])).map((field) =>
    problemOf(ref, `spec.${field}`, 'is not supported by wren and is ignored: only the node\'s pod blocks are advertised'));
  return ok({ kind: 'BGPConfiguration', key: ref.key, value }, problems);
}

/** Set to something: not absent, null, an empty string or an empty list. */
export function isSet(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '' && !(Array.isArray(value) && value.length === 0);
}
