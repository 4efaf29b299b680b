// BlockAffinity objects as Calico's KDD backend writes them (ipam_affinity_v1.go, calico.md §5):
// named `<node>-<cidr-name>`, `spec.deleted` the STRING "true"/"false", `type: host`, and the
// labels Calico 3.31+ lists a host's affinities by. Without those labels a newer calico-node or
// CNI plugin on the same cluster would not see wren's affinities and could claim the block again.
import { createHash } from 'node:crypto';
import { AFFINITY_STATES, type AffinityState } from '../../routing/cluster.js';
import type { AffinityData } from '../ipam/store.js';
import { record, type KubeObject } from './kubernetes-client.js';
import { blockName, metadata, storedMeta, type Stored } from './kubernetes-ipam-objects.js';
import { apiVersionOf, BLOCKAFFINITIES } from './kubernetes-resources.js';

export const AFFINITY_LABELS = {
  hostnameHash: 'projectcalico.org/hostname-hash',
  affinityType: 'projectcalico.org/affinity-type',
  ipVersion: 'projectcalico.org/ip-version',
} as const;

/** Calico's name, shortened with a hash suffix when it would reach Kubernetes' 253 characters. */
export function affinityName(node: string, cidr: string): string {
  const suffix = blockName(cidr);
  const name = `${node}-${suffix}`;
  if (name.length < 253) return name;
  const hash = createHash('sha256').update(`${node}+${suffix}`).digest('hex').slice(0, 11);
  return `${node.slice(0, 252 - suffix.length - 13)}-${suffix}-${hash}`;
}

/** Label values are at most 63 characters and node names up to 253, hence a hash (SHA3-256, base32). */
export function hostnameHash(node: string): string {
  return base32(createHash('sha3-256').update(node).digest());
}

export function affinityObject(affinity: AffinityData, deleted: boolean, revision?: string): KubeObject {
  const labels = {
    [AFFINITY_LABELS.hostnameHash]: hostnameHash(affinity.node),
    [AFFINITY_LABELS.affinityType]: 'host',
    [AFFINITY_LABELS.ipVersion]: affinity.cidr.includes(':') ? '6' : '4',
  };
  const spec = { state: affinity.state, node: affinity.node, type: 'host', cidr: affinity.cidr, deleted: String(deleted) };
  return { apiVersion: apiVersionOf(BLOCKAFFINITIES), kind: BLOCKAFFINITIES.kind, metadata: metadata(affinityName(affinity.node, affinity.cidr), revision, labels), spec };
}

export interface StoredAffinity extends Stored<AffinityData> {
  /** `host`, or `virtual` (load-balancer blocks), which are no node's. */
  readonly type: string;
}

export function readAffinity(object: KubeObject): StoredAffinity {
  const { name, ...stored } = storedMeta(object);
  const spec = record(object.spec);
  const { state, node, cidr } = spec;
  if (typeof node !== 'string' || typeof cidr !== 'string' || !AFFINITY_STATES.includes(state as AffinityState)) {
    throw new Error(`BlockAffinity ${name}: spec needs node, cidr and a state of ${AFFINITY_STATES.join('/')}`);
  }
  // The v1 CRD stores deleted as a string and the v3 one as a boolean; Calico reads both.
  const deleted = spec.deleted === true || spec.deleted === 'true';
  const type = typeof spec.type === 'string' && spec.type !== '' ? spec.type : 'host';
  return { ...stored, value: { node, cidr, state: state as AffinityState }, deleted, type };
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 without padding, as Go's base32.StdEncoding.WithPadding(NoPadding). */
export function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = ((value << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}
