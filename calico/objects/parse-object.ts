// One raw object (from a watch, a list, an etcd value or a dump file) → one ParseResult, by
// apiVersion and kind. Never throws: whatever the datastore hands over becomes a value, a
// problem naming the field, or "ignored" (test/objects-property.test.ts holds it to that).
import type { KubeObject, ParseResult } from './api.js';
import { parseBgpConfiguration } from './bgp-configuration.js';
import { parseBgpPeer } from './bgp-peer.js';
import { parseBlockAffinity } from './block-affinity.js';
import { parseCalicoNode } from './calico-node.js';
import { parseIpamBlock, type AllocationDetail } from './ipam-block.js';
import { parseIpPool } from './ippool.js';
import { parseK8sNode } from './k8s-node.js';
import { parsePod } from './pod.js';
import { describeValue, ignored, isRecord, quote } from './results.js';
import { parseWorkloadEndpoint } from './workload-endpoint.js';

export const CALICO_CRD_GROUP = 'crd.projectcalico.org/v1';
export const CALICO_API_GROUP = 'projectcalico.org/v3';

type Parser = (raw: KubeObject) => ParseResult;

// A Map, not an object literal: a hostile `kind: "__proto__"` must find nothing.
const PARSERS: ReadonlyMap<string, Parser> = new Map([
  [`${CALICO_CRD_GROUP} IPPool`, parseIpPool],
  [`${CALICO_API_GROUP} IPPool`, parseIpPool],
  [`${CALICO_CRD_GROUP} IPAMBlock`, (raw) => parseIpamBlock(raw)],
  [`${CALICO_API_GROUP} IPAMBlock`, (raw) => parseIpamBlock(raw)],
  [`${CALICO_CRD_GROUP} BlockAffinity`, parseBlockAffinity],
  [`${CALICO_API_GROUP} BlockAffinity`, parseBlockAffinity],
  ['v1 Node', parseK8sNode],
  [`${CALICO_API_GROUP} Node`, parseCalicoNode],
  ['v1 Pod', parsePod],
  [`${CALICO_API_GROUP} WorkloadEndpoint`, parseWorkloadEndpoint],
  [`${CALICO_CRD_GROUP} BGPConfiguration`, parseBgpConfiguration],
  [`${CALICO_API_GROUP} BGPConfiguration`, parseBgpConfiguration],
  [`${CALICO_CRD_GROUP} BGPPeer`, parseBgpPeer],
  [`${CALICO_API_GROUP} BGPPeer`, parseBgpPeer],
]);

/** `detail`: whose IPAM allocations to keep in full (ipam-block.ts); every node's unless told. */
export function parseObject(raw: unknown, detail: AllocationDetail = 'all'): ParseResult {
  if (!isRecord(raw)) return ignored(undefined, `not an object: ${describeValue(raw)}`);
  const { apiVersion, kind } = raw;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return ignored(undefined, 'object has no apiVersion and kind');
  if (kind === 'IPAMBlock' && (apiVersion === CALICO_CRD_GROUP || apiVersion === CALICO_API_GROUP)) return parseIpamBlock(raw, detail);
  const parser = PARSERS.get(`${apiVersion} ${kind}`);
  if (parser === undefined) return ignored(undefined, `${quote(kind)} of ${quote(apiVersion)} is not a kind wren reads`);
  return parser(raw);
}
