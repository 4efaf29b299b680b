// Calico's etcd v3 key layout (calico.md §6; `libcalico-go/lib/backend/model/*.go`), both ways:
// builders for the etcd datastore and IPAM to write with, and a reader that says which snapshot
// entry a key is, so an etcd delete event (which carries no value) can remove the right one.
//
// In a key a CIDR keeps its dots and colons and only its first `/` becomes `-`:
// /calico/ipam/v2/assignment/ipv4/block/10.244.205.192-26.
import type { Cidr } from '../../kernel/values.js';
import { familyOf } from '../../kernel/values.js';
import type { ObjectKind } from './api.js';
import { parseBlockCidr } from './block-cidr.js';
import { cidrName, flatJoin, HANDLE_RULE, isHandle, isNamespace, isObjectName, NAME_RULE, NAMESPACE_RULE } from './names.js';
import { quote } from './results.js';

export const IPAM_PREFIX = '/calico/ipam/v2/';
export const RESOURCE_PREFIX = '/calico/resources/v3/projectcalico.org/';

export const RESOURCE_KINDS = { nodes: 'Node', ippools: 'IPPool', workloadendpoints: 'Workload', bgpconfigurations: 'BGPConfiguration', bgppeers: 'BGPPeer' } as const satisfies Record<string, ObjectKind>;
export type ResourcePlural = keyof typeof RESOURCE_KINDS;

const NAMESPACED: ReadonlySet<ResourcePlural> = new Set(['workloadendpoints']);

export function blockKey(cidr: Cidr): string {
  return `${IPAM_PREFIX}assignment/ipv${familyOf(cidr)}/block/${keyCidr(cidr)}`;
}

export function affinityKey(node: string, cidr: Cidr): string {
  return `${IPAM_PREFIX}host/${checked(node, isObjectName(node), NAME_RULE)}/ipv${familyOf(cidr)}/block/${keyCidr(cidr)}`;
}

export function handleKey(handleId: string): string {
  return `${IPAM_PREFIX}handle/${checked(handleId, isHandle(handleId), HANDLE_RULE)}`;
}

export function resourceKey(plural: ResourcePlural, name: string, namespace?: string): string {
  checked(name, isObjectName(name), NAME_RULE);
  if (NAMESPACED.has(plural) !== (namespace !== undefined)) throw new RangeError(`${plural} ${NAMESPACED.has(plural) ? 'need' : 'take no'} namespace`);
  const ns = namespace === undefined ? '' : `${checked(namespace, isNamespace(namespace), NAMESPACE_RULE)}/`;
  return `${RESOURCE_PREFIX}${plural}/${ns}${name}`;
}

/** The store key an etcd affinity gets: `/` cannot occur in a node name, so node and block cannot blur. */
export function etcdAffinityKey(node: string, cidr: Cidr): string {
  return flatJoin(node, '/', cidrName(cidr));
}

export type EtcdKey =
  | { readonly type: 'block'; readonly kind: 'IPAMBlock'; readonly key: string; readonly cidr: Cidr }
  | { readonly type: 'affinity'; readonly kind: 'BlockAffinity'; readonly key: string; readonly node: string; readonly cidr: Cidr }
  | { readonly type: 'resource'; readonly kind: ObjectKind; readonly key: string; readonly plural: ResourcePlural; readonly name: string; readonly namespace?: string }
  /** A key of a kind wren reads, with a part that is not valid (problem `message` about the key). */
  | { readonly type: 'invalid'; readonly kind: ObjectKind; readonly key: string; readonly message: string }
  /** Handles, IPAM config, virtual affinities, other resources: not part of the routing picture. */
  | { readonly type: 'other' };

export function parseEtcdKey(key: string): EtcdKey {
  const parts = key.split('/');
  if (key.startsWith(`${IPAM_PREFIX}assignment/`) && parts.length === 8 && parts[6] === 'block') {
    const cidr = keyCidrOf(parts[7] ?? '', parts[5] ?? '');
    if ('message' in cidr) return { type: 'invalid', kind: 'IPAMBlock', key: quote(parts[7] ?? ''), message: cidr.message };
    return { type: 'block', kind: 'IPAMBlock', key: cidrName(cidr.cidr), cidr: cidr.cidr };
  }
  if (key.startsWith(`${IPAM_PREFIX}host/`) && parts.length === 9 && parts[7] === 'block') {
    const node = parts[5] ?? '';
    const cidr = keyCidrOf(parts[8] ?? '', parts[6] ?? '');
    const shown = () => `${isObjectName(node) ? node : quote(node)}/${quote(parts[8] ?? '')}`;
    if (!isObjectName(node)) return { type: 'invalid', kind: 'BlockAffinity', key: shown(), message: `node ${NAME_RULE}, got ${quote(node)}` };
    if ('message' in cidr) return { type: 'invalid', kind: 'BlockAffinity', key: shown(), message: cidr.message };
    return { type: 'affinity', kind: 'BlockAffinity', key: etcdAffinityKey(node, cidr.cidr), node, cidr: cidr.cidr };
  }
  if (key.startsWith(RESOURCE_PREFIX)) return resourceOf(parts.slice(5));
  return { type: 'other' };
}

function resourceOf([plural, ...rest]: string[]): EtcdKey {
  if (plural === undefined || !Object.hasOwn(RESOURCE_KINDS, plural)) return { type: 'other' };
  const known = plural as ResourcePlural;
  const kind = RESOURCE_KINDS[known];
  const namespaced = NAMESPACED.has(known);
  if (rest.length !== (namespaced ? 2 : 1)) return { type: 'invalid', kind, key: quote(rest.join('/')), message: `a ${plural} key ends in ${namespaced ? '<namespace>/<name>' : '<name>'}` };
  const [first = '', second = ''] = rest;
  const [namespace, name] = namespaced ? [first, second] : [undefined, first];
  const key = namespace === undefined ? name : `${namespace}/${name}`;
  if (namespace !== undefined && !isNamespace(namespace)) return { type: 'invalid', kind, key: quote(key), message: `namespace ${quote(namespace)} is not a DNS-1123 label` };
  if (!isObjectName(name)) return { type: 'invalid', kind, key: quote(key), message: `name ${NAME_RULE}, got ${quote(name)}` };
  return namespace === undefined ? { type: 'resource', kind, key, plural: known, name } : { type: 'resource', kind, key, plural: known, name, namespace };
}

/** `10.244.205.192-26` under `ipv4` → 10.244.205.192/26. Neither family writes `-` in an address. */
function keyCidrOf(text: string, version: string): { readonly cidr: Cidr } | { readonly message: string } {
  const dash = text.lastIndexOf('-');
  const parsed = parseBlockCidr(dash < 0 ? text : flatJoin(text.slice(0, dash), '/', text.slice(dash + 1)));
  if ('message' in parsed) return { message: `block in key ${parsed.message}` };
  if (version !== `ipv${familyOf(parsed.cidr)}`) return { message: `block ${parsed.cidr} is filed under ${quote(version)}` };
  return parsed;
}

function keyCidr(cidr: Cidr): string {
  return cidr.replace('/', '-');
}

function checked(text: string, valid: boolean, rule: string): string {
  if (!valid) throw new RangeError(`cannot build an etcd key from ${quote(text)}: it ${rule}`);
  return text;
}
