// Node registration in etcd mode: the Calico Node resource at
// /calico/resources/v3/projectcalico.org/nodes/<name>, merged field by field and written back
// with a transaction on the revision it was read at (retried when another writer got there first).
import type { ClusterNode } from '../../routing/cluster.js';
import { resourceKey } from '../objects/etcd-keys.js';
import { parseEtcdKv } from '../objects/etcd-kv.js';
import type { NodeRegistration, NodeWriter } from '../node-writer.js';
import type { EtcdKv } from './etcd-ipam-store.js';

type Json = Record<string, unknown>;
const MAX_RETRIES = 20;

export class EtcdNodeWriter implements NodeWriter {
  constructor(private readonly etcd: EtcdKv) {}

  async read(name: string): Promise<ClusterNode | undefined> {
    const key = resourceKey('nodes', name);
    const kv = await this.etcd.get(key);
    if (kv === undefined) return undefined;
    const parsed = parseEtcdKv(key, kv.value);
    return parsed.status === 'ok' && parsed.object.kind === 'Node' ? parsed.object.value : undefined;
  }

  async write(name: string, fields: NodeRegistration): Promise<void> {
    const key = resourceKey('nodes', name);
    for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
      const kv = await this.etcd.get(key);
      const node = kv === undefined ? newNode(name) : (JSON.parse(kv.value) as Json);
      const next = JSON.stringify(merge(node, fields));
      if (kv !== undefined && next === kv.value) return;
      const written = kv === undefined ? await this.etcd.create(key, next) : await this.etcd.compareAndSwap(key, next, kv.modRevision);
      if (written.ok) return;
    }
    throw new Error(`node ${name}: gave up after ${MAX_RETRIES} conflicting writes to ${key}`);
  }
}

function newNode(name: string): Json {
  return { kind: 'Node', apiVersion: 'projectcalico.org/v3', metadata: { name, creationTimestamp: new Date().toISOString() }, spec: {} };
}

/** Calico's v3 Node layout: addresses and the IPIP address under spec.bgp, VXLAN fields on spec. */
function merge(node: Json, f: NodeRegistration): Json {
  const spec = { ...((node.spec ?? {}) as Json) };
  const bgp = { ...((spec.bgp ?? {}) as Json) };
  set(bgp, 'ipv4Address', f.ipv4Address);
  set(bgp, 'ipv6Address', f.ipv6Address);
  set(bgp, 'ipv4IPIPTunnelAddr', f.ipv4IPIPTunnelAddr);
  set(spec, 'ipv4VXLANTunnelAddr', f.ipv4VXLANTunnelAddr);
  set(spec, 'ipv6VXLANTunnelAddr', f.ipv6VXLANTunnelAddr);
  set(spec, 'vxlanTunnelMACAddr', f.vxlanTunnelMACAddr);
  set(spec, 'vxlanTunnelMACAddrV6', f.vxlanTunnelMACAddrV6);
  if (Object.keys(bgp).length > 0) spec.bgp = bgp;
  else delete spec.bgp;
  return { ...node, spec };
}

function set(target: Json, field: string, value: string | null | undefined): void {
  if (value === undefined) return;
  if (value === null) delete target[field];
  else target[field] = value;
}
