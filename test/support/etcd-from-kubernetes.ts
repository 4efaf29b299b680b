// Writes a Kubernetes-shaped cluster dump into etcd in Calico's etcd layout, the way Calico
// stores the same cluster in etcd mode: pools and nodes as projectcalico.org/v3 resources, blocks
// and affinities under /calico/ipam/v2, pods as WorkloadEndpoints. Lets one fixture drive both
// datastores so their answers can be compared.
import { calicoInterfaceName } from '../../calico/objects/interface-name.js';
import type { EtcdClient } from '../../calico/etcd/etcd-client.js';

type Obj = { kind: string; metadata: { name: string; namespace?: string; annotations?: Record<string, string> }; spec?: Record<string, unknown>; status?: Record<string, unknown> };

const keyCidr = (cidr: string) => cidr.replace('/', '-');

export async function writeCalicoEtcd(client: EtcdClient, items: readonly Obj[]): Promise<void> {
  for (const o of items) {
    const [key, value] = toKv(o) ?? [];
    if (key !== undefined) await client.create(key, JSON.stringify(value));
  }
}

function toKv(o: Obj): [string, unknown] | undefined {
  const spec = o.spec ?? {};
  switch (o.kind) {
    case 'IPPool':
      return [`/calico/resources/v3/projectcalico.org/ippools/${o.metadata.name}`, { kind: 'IPPool', apiVersion: 'projectcalico.org/v3', metadata: { name: o.metadata.name }, spec }];
    case 'IPAMBlock':
      return [`/calico/ipam/v2/assignment/ipv4/block/${keyCidr(String(spec.cidr))}`, spec];
    case 'BlockAffinity':
      return [`/calico/ipam/v2/host/${String(spec.node)}/ipv4/block/${keyCidr(String(spec.cidr))}`, { state: spec.state, deleted: false }];
    case 'Node': {
      const a = o.metadata.annotations ?? {};
      const bgp = { ipv4Address: a['projectcalico.org/IPv4Address'], ipv4IPIPTunnelAddr: a['projectcalico.org/IPv4IPIPTunnelAddr'] };
      return [`/calico/resources/v3/projectcalico.org/nodes/${o.metadata.name}`, { kind: 'Node', apiVersion: 'projectcalico.org/v3', metadata: { name: o.metadata.name }, spec: { bgp, ipv4VXLANTunnelAddr: a['projectcalico.org/IPv4VXLANTunnelAddr'] } }];
    }
    case 'Pod': {
      const ns = o.metadata.namespace ?? 'default';
      const ip = String((o.status ?? {}).podIP ?? '');
      if (spec.hostNetwork === true || ip === '') return undefined;
      const name = `${String(spec.nodeName)}-k8s-${o.metadata.name}-eth0`;
      return [
        `/calico/resources/v3/projectcalico.org/workloadendpoints/${ns}/${name}`,
        { kind: 'WorkloadEndpoint', apiVersion: 'projectcalico.org/v3', metadata: { name, namespace: ns }, spec: { node: spec.nodeName, pod: o.metadata.name, interfaceName: calicoInterfaceName(ns, o.metadata.name), ipNetworks: [`${ip}/32`] } },
      ];
    }
    default:
      return undefined;
  }
}
