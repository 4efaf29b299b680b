// projectcalico.org/v3 WorkloadEndpoint → Workload, for the etcd datastore (and wren's own
// snapshot files). Unlike a Pod, the endpoint names its host-side interface itself, so a
// non-default FELIX_INTERFACEPREFIX is carried through as written.
//
// The workload is named by `spec.pod` (Kubernetes), else `spec.workload` (other orchestrators),
// else the endpoint's own name. The snapshot key is `namespace/<endpoint name>`, which is what an
// etcd delete event names.
import type { JSONSchemaType } from 'ajv';
import { parseIfaceName } from '../../kernel/values.js';
import type { Workload } from '../../routing/cluster.js';
import type { KubeObject, ParseResult } from './api.js';
import { readMetadata } from './metadata.js';
import { isObjectName, NAME_RULE } from './names.js';
import { describeValue, ignored, invalid, ok } from './results.js';
import { check, compileSchema } from './schema.js';
import { containerIdOf, parseWorkloadIps } from './workload-ips.js';

export interface WorkloadEndpointRaw {
  spec: {
    node: string;
    pod?: string | null;
    workload?: string | null;
    containerID?: string | null;
    interfaceName: string;
    ipNetworks?: string[] | null;
  };
}

export const WORKLOAD_ENDPOINT_SCHEMA: JSONSchemaType<WorkloadEndpointRaw> = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      properties: {
        node: { type: 'string' },
        pod: { type: 'string', nullable: true },
        workload: { type: 'string', nullable: true },
        containerID: { type: 'string', nullable: true },
        interfaceName: { type: 'string' },
        ipNetworks: { type: 'array', nullable: true, items: { type: 'string' } },
      },
      required: ['node', 'interfaceName'],
    },
  },
  required: ['spec'],
};
const validateEndpoint = compileSchema(WORKLOAD_ENDPOINT_SCHEMA);

export function parseWorkloadEndpoint(raw: KubeObject): ParseResult {
  const meta = readMetadata(raw, { kind: 'Workload', sourceKind: 'WorkloadEndpoint', namespaced: true });
  if (!meta.ok) return meta.result;
  const { ref } = meta;
  const checked = check(validateEndpoint, raw, '');
  if (!checked.ok) return invalid(ref, checked.field, checked.message);
  const { spec } = checked.value;

  const [nameField, name] = spec.pod ? ['spec.pod', spec.pod] : spec.workload ? ['spec.workload', spec.workload] : ['metadata.name', meta.name];
  if (!isObjectName(name)) return invalid(ref, nameField, `${NAME_RULE}, got ${describeValue(name)}`);
  if (!isObjectName(spec.node)) return invalid(ref, 'spec.node', `${NAME_RULE}, got ${describeValue(spec.node)}`);
  const iface = parseIfaceName(spec.interfaceName);
  if (iface === undefined) {
    return invalid(ref, 'spec.interfaceName', `must be a Linux interface name (1-15 of letters, digits, "_", "." and "-"), got ${describeValue(spec.interfaceName)}`);
  }
  const parsed = parseWorkloadIps((spec.ipNetworks ?? []).map((text, i) => ({ path: `spec.ipNetworks[${i}]`, text })));
  if ('field' in parsed) return invalid(ref, parsed.field, parsed.message);
  if (parsed.ips.length === 0) return ignored(ref, 'endpoint has no IP address');

  const containerId = containerIdOf(spec.containerID);
  const value: Workload = { namespace: meta.namespace, name, node: spec.node, ips: parsed.ips, iface, ...(containerId === undefined ? {} : { containerId }), source: 'WorkloadEndpoint' };
  return ok({ kind: 'Workload', key: ref.key, value });
}
