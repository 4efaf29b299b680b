import { describe, expect, it } from 'vitest';
import { affinityKey, blockKey, handleKey, parseEtcdKey, resourceKey } from '../calico/objects/etcd-keys.js';
import { parseEtcdKv } from '../calico/objects/etcd-kv.js';
import { parseObject } from '../calico/objects/parse-object.js';
import type { Cidr } from '../kernel/values.js';
import { allocations, blockFields, NGINX_ATTRIBUTE, rawBlock, rawCalicoNode, rawEndpoint, rawPool } from './fixtures/raw-objects.js';

const cidr = (text: string) => text as Cidr;
const BLOCK_KEY = '/calico/ipam/v2/assignment/ipv4/block/10.244.205.192-26';
const json = (value: unknown) => JSON.stringify(value);

describe('etcd key builders', () => {
  it.each([
    { name: 'IPv4 block', key: blockKey(cidr('10.244.205.192/26')), want: BLOCK_KEY },
    { name: 'IPv6 block: only the slash becomes a dash', key: blockKey(cidr('fd00:10::40/122')), want: '/calico/ipam/v2/assignment/ipv6/block/fd00:10::40-122' },
    { name: 'affinity', key: affinityKey('minikube-m02', cidr('10.244.205.192/26')), want: '/calico/ipam/v2/host/minikube-m02/ipv4/block/10.244.205.192-26' },
    { name: 'handle', key: handleKey('ipip-tunnel-addr-minikube-m02'), want: '/calico/ipam/v2/handle/ipip-tunnel-addr-minikube-m02' },
    { name: 'node', key: resourceKey('nodes', 'minikube-m02'), want: '/calico/resources/v3/projectcalico.org/nodes/minikube-m02' },
    { name: 'pool', key: resourceKey('ippools', 'default-ipv4-ippool'), want: '/calico/resources/v3/projectcalico.org/ippools/default-ipv4-ippool' },
    {
      name: 'workload endpoint',
      key: resourceKey('workloadendpoints', 'minikube--m02-k8s-nginx-eth0', 'default'),
      want: '/calico/resources/v3/projectcalico.org/workloadendpoints/default/minikube--m02-k8s-nginx-eth0',
    },
  ])('$name', ({ key, want }) => {
    expect(key).toBe(want);
  });

  it.each([
    { name: 'a node with a slash', build: () => affinityKey('a/b', cidr('10.0.0.0/26')) },
    { name: 'a handle with a space', build: () => handleKey('a b') },
    { name: 'a name with a newline', build: () => resourceKey('nodes', 'a\nb') },
    { name: 'a namespaced kind without namespace', build: () => resourceKey('workloadendpoints', 'w') },
    { name: 'a cluster kind with a namespace', build: () => resourceKey('nodes', 'n', 'default') },
  ])('refuse $name', ({ build }) => {
    expect(build).toThrow(RangeError);
  });
});

describe('parseEtcdKey', () => {
  it.each([
    { name: 'block', key: BLOCK_KEY, want: { type: 'block', kind: 'IPAMBlock', key: '10-244-205-192-26', cidr: '10.244.205.192/26' } },
    { name: 'IPv6 block', key: blockKey(cidr('fd00:10::40/122')), want: { type: 'block', kind: 'IPAMBlock', key: 'fd00-10--40-122', cidr: 'fd00:10::40/122' } },
    {
      name: 'affinity',
      key: affinityKey('minikube-m02', cidr('10.244.205.192/26')),
      want: { type: 'affinity', kind: 'BlockAffinity', key: 'minikube-m02/10-244-205-192-26', node: 'minikube-m02', cidr: '10.244.205.192/26' },
    },
    { name: 'node', key: resourceKey('nodes', 'minikube'), want: { type: 'resource', kind: 'Node', key: 'minikube', plural: 'nodes', name: 'minikube' } },
    {
      name: 'workload endpoint',
      key: resourceKey('workloadendpoints', 'w', 'kube-system'),
      want: { type: 'resource', kind: 'Workload', key: 'kube-system/w', plural: 'workloadendpoints', name: 'w', namespace: 'kube-system' },
    },
    { name: 'handle', key: handleKey('h'), want: { type: 'other' } },
    { name: 'IPAM config', key: '/calico/ipam/v2/config', want: { type: 'other' } },
    { name: 'virtual affinity', key: '/calico/ipam/v2/virtual/lb/ipv4/block/10.244.205.192-26', want: { type: 'other' } },
    { name: 'another resource', key: '/calico/resources/v3/projectcalico.org/felixconfigurations/default', want: { type: 'other' } },
    { name: 'a prototype key as plural', key: '/calico/resources/v3/projectcalico.org/__proto__/x', want: { type: 'other' } },
    { name: 'an internal model key', key: '/calico/v1/ipam/v4/pool/10.244.0.0-16', want: { type: 'other' } },
    { name: 'block filed under the wrong family', key: '/calico/ipam/v2/assignment/ipv6/block/10.244.205.192-26', want: { type: 'invalid', kind: 'IPAMBlock', key: '"10.244.205.192-26"', message: expect.stringMatching(/filed under "ipv6"/) } },
    { name: 'block key that is not a CIDR', key: '/calico/ipam/v2/assignment/ipv4/block/evil', want: { type: 'invalid', kind: 'IPAMBlock', key: '"evil"', message: expect.stringMatching(/network prefix/) } },
    {
      name: 'affinity of a bad node',
      key: '/calico/ipam/v2/host/Evil Node/ipv4/block/10.244.205.192-26',
      want: { type: 'invalid', kind: 'BlockAffinity', key: '"Evil Node"/"10.244.205.192-26"', message: expect.stringMatching(/DNS-1123/) },
    },
    { name: 'endpoint without namespace', key: '/calico/resources/v3/projectcalico.org/workloadendpoints/w', want: { type: 'invalid', kind: 'Workload', key: '"w"', message: expect.stringMatching(/<namespace>\/<name>/) } },
  ])('$name', ({ key, want }) => {
    expect(parseEtcdKey(key)).toEqual(want);
  });
});

describe('parseEtcdKv', () => {
  it('reads a block with the same converter as the Kubernetes object', () => {
    const etcd = parseEtcdKv(BLOCK_KEY, json(blockFields()));
    expect(etcd).toEqual(parseObject(rawBlock()));
    expect(etcd.status).toBe('ok');
  });

  it.each([
    { name: 'IPv6 block', key: blockKey(cidr('fd00:10::40/122')), value: blockFields({ cidr: 'fd00:10::40/122', allocations: allocations({ 1: 0 }), attributes: [{ ...NGINX_ATTRIBUTE, secondary: { node: 'minikube-m03' } }] }), ip: 'fd00:10::41' },
    { name: 'block without affinity', key: BLOCK_KEY, value: blockFields({ affinity: null, affinity_claim_time: '2025-01-10T09:00:00Z' }), ip: '10.244.205.192' },
  ])('reads a $name', ({ key, value, ip }) => {
    const result = parseEtcdKv(key, json(value));
    expect(result.status === 'ok' && result.object.kind === 'IPAMBlock' && result.object.value.allocations[0]?.ip).toBe(ip);
  });

  it.each([
    { name: 'state and deleted', value: json({ state: 'confirmed', deleted: false }), state: 'confirmed' },
    { name: 'pending', value: json({ state: 'pending', deleted: false }), state: 'pending' },
    { name: 'an old empty object', value: '{}', state: 'confirmed' },
    { name: 'an old empty value', value: '', state: 'confirmed' },
  ])('reads an affinity: $name', ({ value, state }) => {
    expect(parseEtcdKv(affinityKey('minikube-m02', cidr('10.244.205.192/26')), value)).toEqual({
      status: 'ok',
      object: {
        kind: 'BlockAffinity',
        key: 'minikube-m02/10-244-205-192-26',
        value: { name: 'minikube-m02-10-244-205-192-26', node: 'minikube-m02', cidr: '10.244.205.192/26', state },
      },
    });
  });

  it.each([
    { name: 'a node', key: resourceKey('nodes', 'minikube-m02'), raw: rawCalicoNode() },
    { name: 'a pool', key: resourceKey('ippools', 'default-ipv4-ippool'), raw: { ...rawPool(), apiVersion: 'projectcalico.org/v3' } },
    { name: 'a workload endpoint', key: resourceKey('workloadendpoints', 'minikube--m02-k8s-nginx-eth0', 'default'), raw: rawEndpoint() },
  ])('reads $name as the v3 object parser does', ({ key, raw }) => {
    const result = parseEtcdKv(key, json(raw));
    expect(result.status).toBe('ok');
    expect(result).toEqual(parseObject(raw));
  });

  it('takes the name from the key when the value has no metadata', () => {
    const result = parseEtcdKv(resourceKey('nodes', 'minikube-m02'), json({ spec: { bgp: { ipv4Address: '172.16.30.7/24' } } }));
    expect(result.status === 'ok' && result.object.value).toEqual({ name: 'minikube-m02', ipv4: { ip: '172.16.30.7', cidr: '172.16.30.7/24' } });
  });

  it.each([
    { name: 'a deleted block', key: BLOCK_KEY, value: json(blockFields({ deleted: true })), kind: 'IPAMBlock', ref: '10-244-205-192-26' },
    { name: 'a deleted affinity', key: affinityKey('minikube', cidr('10.244.120.64/26')), value: json({ state: 'confirmed', deleted: true }), kind: 'BlockAffinity', ref: 'minikube/10-244-120-64-26' },
  ])('ignores $name under its key', ({ key, value, kind, ref }) => {
    expect(parseEtcdKv(key, value)).toEqual({ status: 'ignored', kind, key: ref, reason: expect.stringMatching(/deleted/) });
  });

  it.each([
    { name: 'a handle', key: handleKey('ipip-tunnel-addr-minikube'), value: json({ block: { '10.244.120.64/26': 1 }, deleted: false }) },
    { name: 'the IPAM config', key: '/calico/ipam/v2/config', value: json({ strict_affinity: false }) },
  ])('ignores $name', ({ key, value }) => {
    expect(parseEtcdKv(key, value)).toEqual({ status: 'ignored', reason: expect.any(String) });
  });

  it.each([
    { name: 'a block whose value is for another CIDR', key: BLOCK_KEY, value: json(blockFields({ cidr: '10.244.120.64/26' })), field: 'cidr', message: /key is for block 10.244.205.192\/26/ },
    { name: 'a block value that is not JSON', key: BLOCK_KEY, value: '{"cidr": "10.244.205.192/26",\n"x"}', field: 'value', message: /^is not valid JSON/ },
    { name: 'a block with too few allocations', key: BLOCK_KEY, value: json(blockFields({ allocations: [0] })), field: 'allocations', message: /has 1 entries/ },
    { name: 'a block with a bad attribute index', key: BLOCK_KEY, value: json(blockFields({ allocations: allocations({ 9: 2 }) })), field: 'allocations[9]', message: /attributes has 2 entries/ },
    { name: 'a block key with a bad CIDR', key: '/calico/ipam/v2/assignment/ipv4/block/10.244.205.193-26', value: json(blockFields()), field: 'key', message: /no host bits/ },
    { name: 'an affinity value that is a list', key: affinityKey('minikube', cidr('10.244.120.64/26')), value: '[]', field: 'value', message: /JSON object/ },
    { name: 'an affinity with an unknown state', key: affinityKey('minikube', cidr('10.244.120.64/26')), value: json({ state: 'mine' }), field: 'state', message: /got "mine"/ },
    { name: 'a node value naming another node', key: resourceKey('nodes', 'minikube'), value: json(rawCalicoNode()), field: 'metadata.name', message: /"minikube-m02", but the key says "minikube"/ },
    {
      name: 'an endpoint value in another namespace',
      key: resourceKey('workloadendpoints', 'minikube--m02-k8s-nginx-eth0', 'kube-system'),
      value: json(rawEndpoint()),
      field: 'metadata.namespace',
      message: /the key says "kube-system"/,
    },
  ])('rejects $name', ({ key, value, field, message }) => {
    const result = parseEtcdKv(key, value);
    expect(result.status === 'invalid' && result.problem).toEqual({ kind: expect.any(String), name: expect.any(String), field, message: expect.stringMatching(message), reason: 'invalid' });
  });
});
