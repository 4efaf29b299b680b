// One etcd key/value pair in Calico's v3 layout (calico.md §6) → one ParseResult, through the
// same converters as the Kubernetes objects: only where the fields sit differs.
//
//   …/assignment/ipv4/block/<cidr>    block fields at the root of the value
//   …/host/<node>/ipv4/block/<cidr>   {"state":"confirmed","deleted":false}; node and CIDR are in
//                                     the key, and an old empty value (`{}` or nothing) means confirmed
//   /calico/resources/v3/projectcalico.org/{nodes,ippools,workloadendpoints,bgpconfigurations,bgppeers}/…   v3 objects
import type { KubeObject, ParseResult } from './api.js';
import { parseBgpConfiguration } from './bgp-configuration.js';
import { parseBgpPeer } from './bgp-peer.js';
import { convertBlockAffinity } from './block-affinity.js';
import { parseCalicoNode } from './calico-node.js';
import { parseEtcdKey, type EtcdKey, type ResourcePlural } from './etcd-keys.js';
import { convertIpamBlock, type AllocationDetail } from './ipam-block.js';
import { parseIpPool } from './ippool.js';
import { cidrName, flatJoin } from './names.js';
import { describeValue, ignored, invalid, isRecord, quote, type ObjectRef } from './results.js';
import { parseWorkloadEndpoint } from './workload-endpoint.js';

const RESOURCE_PARSERS = {
  nodes: parseCalicoNode,
  ippools: parseIpPool,
  workloadendpoints: parseWorkloadEndpoint,
  bgpconfigurations: parseBgpConfiguration,
  bgppeers: parseBgpPeer,
} as const satisfies Record<ResourcePlural, (raw: KubeObject) => ParseResult>;

const SOURCE_KINDS = { nodes: 'Node', ippools: 'IPPool', workloadendpoints: 'WorkloadEndpoint', bgpconfigurations: 'BGPConfiguration', bgppeers: 'BGPPeer' } as const satisfies Record<ResourcePlural, string>;

export function parseEtcdKv(key: string, value: string, detail: AllocationDetail = 'all'): ParseResult {
  const parsedKey = parseEtcdKey(key);
  if (parsedKey.type === 'other') return ignored(undefined, 'key is not one wren reads');
  const ref = refOf(parsedKey);
  if (parsedKey.type === 'invalid') return invalid(ref, 'key', parsedKey.message);
  // An affinity written by an old Calico has an empty value.
  const json = parsedKey.type === 'affinity' && value.trim() === '' ? {} : parseJson(value);
  if (json instanceof Error) return invalid(ref, 'value', json.message);

  switch (parsedKey.type) {
    case 'block': {
      const result = convertIpamBlock(ref, parsedKey.key, json, '', detail);
      if (result.status === 'ok' && result.object.kind === 'IPAMBlock' && result.object.value.cidr !== parsedKey.cidr) {
        return invalid(ref, 'cidr', `is ${result.object.value.cidr}, but the key is for block ${parsedKey.cidr}`);
      }
      return result;
    }
    case 'affinity': {
      if (!isRecord(json)) return invalid(ref, 'value', `must be a JSON object, got ${describeValue(json)}`);
      const spec = { state: json.state ?? 'confirmed', deleted: json.deleted, node: parsedKey.node, cidr: parsedKey.cidr };
      return convertBlockAffinity(ref, ref.name, spec, '');
    }
    case 'resource':
      return parseResource(ref, parsedKey, json);
  }
}

function parseResource(ref: ObjectRef, key: Extract<EtcdKey, { type: 'resource' }>, json: unknown): ParseResult {
  if (!isRecord(json)) return invalid(ref, 'value', `must be a JSON object, got ${describeValue(json)}`);
  const metadata = isRecord(json.metadata) ? json.metadata : {};
  // The key is the identity; a value that claims another name is not trusted.
  for (const [field, expected] of [['name', key.name], ['namespace', key.namespace]] as const) {
    const actual = metadata[field];
    if (actual !== undefined && actual !== expected) {
      return invalid(ref, `metadata.${field}`, `is ${describeValue(actual)}, but the key says ${quote(expected ?? '(none)')}`);
    }
  }
  // Labels too: BGPPeer node selectors match a Node's.
  const labels = metadata.labels === undefined ? {} : { labels: metadata.labels };
  return RESOURCE_PARSERS[key.plural]({ metadata: { name: key.name, namespace: key.namespace, ...labels }, spec: json.spec });
}

function refOf(key: Exclude<EtcdKey, { type: 'other' }>): ObjectRef {
  const sourceKind = key.type === 'resource' ? SOURCE_KINDS[key.plural] : key.kind;
  const name = key.type === 'affinity' ? flatJoin(key.node, '-', cidrName(key.cidr)) : key.key;
  return { kind: key.kind, key: key.key, sourceKind, name };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    // V8's message can quote the value itself; only the position is passed on.
    const position = /at position (\d+)/.exec((error as Error).message)?.[1];
    return new Error(position === undefined ? 'is not valid JSON' : `is not valid JSON (at character ${position})`);
  }
}
