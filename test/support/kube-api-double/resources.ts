// The resource registry: what kube-apiserver knows from its built-in types and from the CRDs it
// has been given. Each entry carries the per-type behaviour the real server takes from the type's
// registry strategy (field labels, strategic-merge keys, graceful deletion, create defaults).
import type { KubeObject } from './types.js';

export type FieldLabel = (obj: KubeObject) => string;

export interface ResourceDef {
  /** '' for the core group (served under /api). */
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly singular: string;
  readonly kind: string;
  readonly namespaced: boolean;
  /** Served from a CRD: lists keep each item's kind/apiVersion, no strategic merge patch,
   *  updates must carry a resourceVersion, and metadata.generation is maintained. */
  readonly custom: boolean;
  /** Has a /status subresource: writes to the main resource ignore .status and vice versa. */
  readonly statusSubresource: boolean;
  /** fieldSelector labels the type supports, beyond metadata.name/metadata.namespace. */
  readonly fieldLabels: Readonly<Record<string, FieldLabel>>;
  /** Strategic-merge list keys by field path ('[]' marks a step into list items); '' = merge as a set. */
  readonly mergeKeys: Readonly<Record<string, string>>;
  /** Seconds a DELETE waits before the object goes; 0 removes it at once. */
  readonly gracePeriodSeconds?: (obj: KubeObject, requested: number | undefined) => number;
  /** DELETE answers with the deleted object instead of a Success Status (pods do this). */
  readonly returnDeletedObject?: boolean;
  /** Defaults and resets the type's strategy applies on create (PrepareForCreate). */
  readonly prepareForCreate?: (obj: KubeObject) => void;
}

export const apiVersionOf = (def: ResourceDef) => (def.group === '' ? def.version : `${def.group}/${def.version}`);

/** "nodes" or "ippools.crd.projectcalico.org": the name error messages and stats use. */
export const qualifiedResource = (def: ResourceDef) => (def.group === '' ? def.plural : `${def.plural}.${def.group}`);

/** Reads a dotted path, the way field-label functions flatten an object. */
export function fieldAt(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const step of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[step];
  }
  return cur;
}

const text = (path: string): FieldLabel => (obj) => {
  const v = fieldAt(obj, path);
  return v === undefined || v === null ? '' : String(v);
};
const flag = (path: string): FieldLabel => (obj) => String(fieldAt(obj, path) === true);

const objectMetaMergeKeys = { 'metadata.finalizers': '', 'metadata.ownerReferences': 'uid' } as const;

function containerKeys(list: string): Record<string, string> {
  return {
    [list]: 'name',
    [`${list}[].ports`]: 'containerPort',
    [`${list}[].env`]: 'name',
    [`${list}[].volumeMounts`]: 'mountPath',
    [`${list}[].volumeDevices`]: 'devicePath',
  };
}

export const NODES: ResourceDef = {
  group: '', version: 'v1', plural: 'nodes', singular: 'node', kind: 'Node',
  namespaced: false, custom: false, statusSubresource: true,
  fieldLabels: { 'spec.unschedulable': flag('spec.unschedulable') },
  mergeKeys: { ...objectMetaMergeKeys, 'spec.podCIDRs': '', 'status.conditions': 'type', 'status.addresses': 'type' },
};

const POD_DONE = new Set(['Succeeded', 'Failed']);

export const PODS: ResourceDef = {
  group: '', version: 'v1', plural: 'pods', singular: 'pod', kind: 'Pod',
  namespaced: true, custom: false, statusSubresource: true, returnDeletedObject: true,
  fieldLabels: {
    'spec.nodeName': text('spec.nodeName'),
    'spec.restartPolicy': text('spec.restartPolicy'),
    'spec.schedulerName': text('spec.schedulerName'),
    'spec.serviceAccountName': text('spec.serviceAccountName'),
    'spec.hostNetwork': flag('spec.hostNetwork'),
    'status.phase': text('status.phase'),
    'status.podIP': text('status.podIP'),
    'status.nominatedNodeName': text('status.nominatedNodeName'),
  },
  mergeKeys: {
    ...objectMetaMergeKeys,
    ...containerKeys('spec.containers'),
    ...containerKeys('spec.initContainers'),
    ...containerKeys('spec.ephemeralContainers'),
    'spec.volumes': 'name',
    'spec.imagePullSecrets': 'name',
    'spec.hostAliases': 'ip',
    'status.conditions': 'type',
    'status.podIPs': 'ip',
    'status.hostIPs': 'ip',
  },
  // pod strategy CheckGracefulDelete: unscheduled or finished pods go at once; otherwise the
  // request's period, else spec.terminationGracePeriodSeconds, else 30 s. The kubelet would then
  // delete with period 0; the double has no kubelet, so a graceful pod stays until that happens.
  gracePeriodSeconds: (pod, requested) => {
    const phase = fieldAt(pod, 'status.phase');
    if (!fieldAt(pod, 'spec.nodeName') || (typeof phase === 'string' && POD_DONE.has(phase))) return 0;
    const fromSpec = fieldAt(pod, 'spec.terminationGracePeriodSeconds');
    const period = requested ?? (typeof fromSpec === 'number' ? fromSpec : 30);
    return period < 0 ? 1 : period;
  },
  // pod strategy PrepareForCreate: clients cannot create a pod with a status.
  prepareForCreate: (pod) => {
    pod.status = { phase: 'Pending' };
  },
};

function calicoCrd(plural: string, singular: string, kind: string): ResourceDef {
  return {
    group: 'crd.projectcalico.org', version: 'v1', plural, singular, kind,
    namespaced: false, custom: true, statusSubresource: false, fieldLabels: {}, mergeKeys: {},
  };
}

export const CALICO_RESOURCES: readonly ResourceDef[] = [
  calicoCrd('ippools', 'ippool', 'IPPool'),
  calicoCrd('ipamblocks', 'ipamblock', 'IPAMBlock'),
  calicoCrd('blockaffinities', 'blockaffinity', 'BlockAffinity'),
  calicoCrd('ipamhandles', 'ipamhandle', 'IPAMHandle'),
  calicoCrd('ipamconfigs', 'ipamconfig', 'IPAMConfig'),
  calicoCrd('bgpconfigurations', 'bgpconfiguration', 'BGPConfiguration'),
  calicoCrd('bgppeers', 'bgppeer', 'BGPPeer'),
];

export const DEFAULT_RESOURCES: readonly ResourceDef[] = [NODES, PODS, ...CALICO_RESOURCES];

/** The field labels every type accepts (metadata.namespace only when namespaced). */
export function allFieldLabels(def: ResourceDef): Record<string, FieldLabel> {
  const base: Record<string, FieldLabel> = { 'metadata.name': text('metadata.name') };
  if (def.namespaced) base['metadata.namespace'] = text('metadata.namespace');
  return { ...base, ...def.fieldLabels };
}
