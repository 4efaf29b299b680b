// Small object builders for tests, in the shapes of calico.md §5 (Calico KDD) and core v1.
import type { KubeObject } from './types.js';

export function nodeObject(name: string, annotations: Record<string, string> = {}, labels: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name, annotations, labels: { 'kubernetes.io/hostname': name, ...labels } },
    spec: {},
    status: { addresses: [{ type: 'InternalIP', address: annotations['projectcalico.org/IPv4Address']?.split('/')[0] ?? '192.0.2.1' }] },
  };
}

export function podObject(namespace: string, name: string, nodeName: string | undefined, labels: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { namespace, name, labels },
    spec: { ...(nodeName === undefined ? {} : { nodeName }), containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.10' }] },
    status: { phase: nodeName === undefined ? 'Pending' : 'Running' },
  };
}

export const cidrName = (cidr: string) => cidr.replace(/[.:/]/g, '-');

export function ipamBlockObject(cidr: string, node: string | undefined): KubeObject {
  return {
    apiVersion: 'crd.projectcalico.org/v1', kind: 'IPAMBlock',
    metadata: { name: cidrName(cidr) },
    spec: {
      cidr, ...(node === undefined ? {} : { affinity: `host:${node}` }),
      allocations: Array.from({ length: 64 }, () => null), unallocated: Array.from({ length: 64 }, (_, i) => i),
      attributes: [], sequenceNumber: 0, sequenceNumberForAllocation: {}, deleted: false, strictAffinity: false,
    },
  };
}

export function ipPoolObject(name: string, cidr: string): KubeObject {
  return {
    apiVersion: 'crd.projectcalico.org/v1', kind: 'IPPool',
    metadata: { name },
    spec: { cidr, blockSize: 26, ipipMode: 'Always', vxlanMode: 'Never', natOutgoing: true, nodeSelector: 'all()', allowedUses: ['Workload', 'Tunnel'] },
  };
}

export function blockAffinityObject(node: string, cidr: string): KubeObject {
  return {
    apiVersion: 'crd.projectcalico.org/v1', kind: 'BlockAffinity',
    metadata: { name: `${node}-${cidrName(cidr)}`, labels: { 'projectcalico.org/affinity-type': 'host', 'projectcalico.org/ip-version': '4' } },
    spec: { state: 'confirmed', node, type: 'host', cidr, deleted: 'false' },
  };
}
