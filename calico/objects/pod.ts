// core/v1 Pod → Workload, for the Kubernetes datastore. Calico's CNI plugin records the pod's
// addresses in `cni.projectcalico.org/podIPs` (and the older `podIP`) before the kubelet reports
// them in status, so the annotations come first and status is the fallback.
//
// Not routable, hence ignored rather than reported (Calico's IsValidCalicoWorkloadEndpoint and
// IsFinished): host-network pods, pods not yet scheduled or without an address, and pods that
// have finished (phase Succeeded or Failed), whose address may already belong to another pod.
import type { JSONSchemaType } from 'ajv';
import type { Workload } from '../../routing/cluster.js';
import type { KubeObject, ParseResult } from './api.js';
import { calicoInterfaceName } from './interface-name.js';
import { readMetadata } from './metadata.js';
import { isObjectName, NAME_RULE } from './names.js';
import { describeValue, ignored, invalid, ok } from './results.js';
import { check, compileSchema, joinPath } from './schema.js';
import { containerIdOf, parseWorkloadIps, type IpEntry } from './workload-ips.js';

export const POD_IPS_ANNOTATION = 'cni.projectcalico.org/podIPs';
export const POD_IP_ANNOTATION = 'cni.projectcalico.org/podIP';
export const CONTAINER_ID_ANNOTATION = 'cni.projectcalico.org/containerID';

export interface PodRaw {
  metadata: { annotations?: { [key: string]: unknown } | null };
  spec?: { nodeName?: string | null; hostNetwork?: boolean | null } | null;
  status?: { phase?: string | null; podIP?: string | null; podIPs?: { ip: string }[] | null } | null;
}

export const POD_SCHEMA: JSONSchemaType<PodRaw> = {
  type: 'object',
  properties: {
    metadata: { type: 'object', properties: { annotations: { type: 'object', nullable: true, required: [] } }, required: [] },
    spec: {
      type: 'object',
      nullable: true,
      properties: { nodeName: { type: 'string', nullable: true }, hostNetwork: { type: 'boolean', nullable: true } },
      required: [],
    },
    status: {
      type: 'object',
      nullable: true,
      properties: {
        phase: { type: 'string', nullable: true },
        podIP: { type: 'string', nullable: true },
        podIPs: { type: 'array', nullable: true, items: { type: 'object', properties: { ip: { type: 'string' } }, required: ['ip'] } },
      },
      required: [],
    },
  },
  required: ['metadata'],
};
const validatePod = compileSchema(POD_SCHEMA);

const FINISHED = new Set(['Succeeded', 'Failed']);

export function parsePod(raw: KubeObject): ParseResult {
  const meta = readMetadata(raw, { kind: 'Workload', sourceKind: 'Pod', namespaced: true });
  if (!meta.ok) return meta.result;
  const { ref } = meta;
  const checked = check(validatePod, raw, '');
  if (!checked.ok) return invalid(ref, checked.field, checked.message);
  const { metadata, spec, status } = checked.value;
  if (spec?.hostNetwork === true) return ignored(ref, 'host-network pod: it has the node address');
  if (status?.phase != null && FINISHED.has(status.phase)) return ignored(ref, `pod has finished (phase ${status.phase})`);
  const node = spec?.nodeName ?? '';
  if (node === '') return ignored(ref, 'pod is not scheduled to a node yet');
  if (!isObjectName(node)) return invalid(ref, 'spec.nodeName', `${NAME_RULE}, got ${describeValue(node)}`);

  const entries = ipEntries(metadata.annotations ?? {}, status ?? {});
  if ('field' in entries) return invalid(ref, entries.field, entries.message);
  const parsed = parseWorkloadIps(entries);
  if ('field' in parsed) return invalid(ref, parsed.field, parsed.message);
  if (parsed.ips.length === 0) return ignored(ref, 'pod has no IP address yet');

  const containerId = containerIdOf(metadata.annotations?.[CONTAINER_ID_ANNOTATION]);
  const iface = calicoInterfaceName(meta.namespace, meta.name);
  const value: Workload = { namespace: meta.namespace, name: meta.name, node, ips: parsed.ips, iface, ...(containerId === undefined ? {} : { containerId }), source: 'Pod' };
  return ok({ kind: 'Workload', key: ref.key, value });
}

/** The first source that has anything: podIPs annotation, podIP annotation, status.podIPs, status.podIP. */
function ipEntries(annotations: { readonly [key: string]: unknown }, status: NonNullable<PodRaw['status']>): IpEntry[] | { field: string; message: string } {
  for (const name of [POD_IPS_ANNOTATION, POD_IP_ANNOTATION]) {
    const path = joinPath('metadata.annotations', name);
    const value = Object.hasOwn(annotations, name) ? annotations[name] : undefined;
    if (value === undefined || value === null || value === '') continue;
    if (typeof value !== 'string') return { field: path, message: `must be a string, got ${describeValue(value)}` };
    return value.split(',').map((text) => ({ path, text: text.trim() }));
  }
  if (status.podIPs != null && status.podIPs.length > 0) return status.podIPs.map((entry, i) => ({ path: `status.podIPs[${i}].ip`, text: entry.ip }));
  if (status.podIP != null && status.podIP !== '') return [{ path: 'status.podIP', text: status.podIP }];
  return [];
}
