import { describe, expect, it } from 'vitest';
import { parseObject } from '../calico/objects/parse-object.js';
import { rawCalicoNode, rawNode } from './fixtures/raw-objects.js';

const at = (annotation: string) => `metadata.annotations["projectcalico.org/${annotation}"]`;
const SEED_M02 = { name: 'minikube-m02', ipv4: { ip: '172.16.30.7', cidr: '172.16.30.7/24' }, ipipTunnelAddr: '10.244.205.192' };

describe('Node (core/v1, Calico annotations)', () => {
  it.each([
    { name: 'the seed node minikube-m02', raw: rawNode(), value: SEED_M02 },
    { name: 'no annotations at all: a node without addresses', raw: rawNode(null), value: { name: 'minikube-m02' } },
    { name: 'annotations without Calico ones: InternalIP is not a fallback', raw: rawNode({}), value: { name: 'minikube-m02' } },
    {
      name: 'every routing annotation, MACs lower-cased, IPv6 canonical',
      raw: rawNode({
        'projectcalico.org/IPv4Address': '172.16.30.7/24',
        'projectcalico.org/IPv6Address': 'FD00:0:0:0::7/64',
        'projectcalico.org/IPv4VXLANTunnelAddr': '10.244.205.192',
        'projectcalico.org/IPv6VXLANTunnelAddr': 'fd00:10::40',
        'projectcalico.org/VXLANTunnelMACAddr': '66:07:02:C1:CC:60',
        'projectcalico.org/VXLANTunnelMACAddrV6': '66:aa:bb:cc:dd:ee',
      }),
      value: {
        name: 'minikube-m02',
        ipv4: { ip: '172.16.30.7', cidr: '172.16.30.7/24' },
        ipv6: { ip: 'fd00::7', cidr: 'fd00::7/64' },
        vxlanTunnelAddr: '10.244.205.192',
        vxlanTunnelAddrV6: 'fd00:10::40',
        vxlanMac: '66:07:02:c1:cc:60',
        vxlanMacV6: '66:aa:bb:cc:dd:ee',
      },
    },
    { name: 'a bare address reads as a host prefix', raw: rawNode({ 'projectcalico.org/IPv4Address': '172.16.30.7' }), value: { name: 'minikube-m02', ipv4: { ip: '172.16.30.7', cidr: '172.16.30.7/32' } } },
    { name: 'an empty annotation is unset, not a problem', raw: rawNode({ 'projectcalico.org/IPv4Address': '172.16.30.7/24', 'projectcalico.org/IPv4IPIPTunnelAddr': '' }), value: { name: 'minikube-m02', ipv4: SEED_M02.ipv4 } },
  ])('$name', ({ raw, value }) => {
    expect(parseObject(raw)).toEqual({ status: 'ok', object: { kind: 'Node', key: 'minikube-m02', value } });
  });

  it.each([
    { name: 'IPv4Address not an address', annotation: 'IPv4Address', text: 'eth0', message: /IPv4 address with its prefix length.*got "eth0"/ },
    { name: 'IPv4Address holding IPv6', annotation: 'IPv4Address', text: 'fd00::7/64', message: /IPv4 address/ },
    { name: 'IPv6Address holding IPv4', annotation: 'IPv6Address', text: '172.16.30.7/24', message: /IPv6 address/ },
    { name: 'prefix length out of range', annotation: 'IPv4Address', text: '172.16.30.7/33', message: /IPv4 address/ },
    { name: 'IPIP tunnel address with a prefix', annotation: 'IPv4IPIPTunnelAddr', text: '10.244.205.192/32', message: /must be an IPv4 address, got/ },
    { name: 'VXLAN tunnel address of the wrong family', annotation: 'IPv6VXLANTunnelAddr', text: '10.244.205.192', message: /IPv6 address/ },
    { name: 'bad MAC', annotation: 'VXLANTunnelMACAddr', text: '66:07:02:c1:cc', message: /MAC address.*got "66:07:02:c1:cc"/ },
    { name: 'hostile value', annotation: 'IPv4Address', text: '172.16.30.7/24 dev eth0\nip link del eth0', message: /\\n/ },
    { name: 'a number, not a string', annotation: 'IPv4Address', text: 1721630, message: /must be a string, got 1721630/ },
  ])('keeps the node without a bad field: $name', ({ annotation, text, message }) => {
    const raw = rawNode({ [`projectcalico.org/${annotation}`]: text, 'projectcalico.org/IPv4IPIPTunnelAddr': annotation === 'IPv4IPIPTunnelAddr' ? text : '10.244.205.192' });
    const result = parseObject(raw);
    const kept = annotation === 'IPv4IPIPTunnelAddr' ? { name: 'minikube-m02' } : { name: 'minikube-m02', ipipTunnelAddr: '10.244.205.192' };
    expect(result).toEqual({
      status: 'ok',
      object: { kind: 'Node', key: 'minikube-m02', value: kept },
      problems: [{ kind: 'Node', name: 'minikube-m02', field: at(annotation), message: expect.stringMatching(message), reason: 'invalid' }],
    });
    expect(result.status === 'ok' && result.problems?.[0]?.message).toMatch(/kept without it/);
  });

  it('reports every bad field, each once', () => {
    const result = parseObject(rawNode({ 'projectcalico.org/IPv4Address': 'x', 'projectcalico.org/VXLANTunnelMACAddr': 'y', 'projectcalico.org/IPv4IPIPTunnelAddr': '10.244.205.192' }));
    expect(result.status === 'ok' && result.problems?.map((p) => p.field)).toEqual([at('IPv4Address'), at('VXLANTunnelMACAddr')]);
  });

  it.each([
    { name: 'an upper-case name', raw: rawNode(null, 'Minikube'), key: '"Minikube"', field: 'metadata.name' },
    { name: 'annotations that are not a map', raw: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n', annotations: ['a'] } }, key: 'n', field: 'metadata.annotations' },
    { name: 'metadata that is not a map', raw: { apiVersion: 'v1', kind: 'Node', metadata: 'n' }, key: '(unnamed)', field: 'metadata' },
  ])('rejects $name', ({ raw, key, field }) => {
    expect(parseObject(raw)).toEqual({ status: 'invalid', kind: 'Node', key, problem: { kind: 'Node', name: key, field, message: expect.any(String), reason: 'invalid' } });
  });
});

describe('Node (projectcalico.org/v3, etcd)', () => {
  it.each([
    { name: 'the seed node', raw: rawCalicoNode(), value: SEED_M02 },
    { name: 'no spec', raw: { apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'minikube-m02' } }, value: { name: 'minikube-m02' } },
    {
      name: 'VXLAN fields, empty strings unset',
      raw: rawCalicoNode({
        bgp: { ipv4Address: '172.16.30.7/24', ipv6Address: '', ipv4IPIPTunnelAddr: '' },
        ipv4VXLANTunnelAddr: '10.244.205.192',
        ipv6VXLANTunnelAddr: 'fd00:10::40',
        vxlanTunnelMACAddr: '66:07:02:c1:cc:60',
        vxlanTunnelMACAddrV6: '',
      }),
      value: { name: 'minikube-m02', ipv4: SEED_M02.ipv4, vxlanTunnelAddr: '10.244.205.192', vxlanTunnelAddrV6: 'fd00:10::40', vxlanMac: '66:07:02:c1:cc:60' },
    },
  ])('$name', ({ raw, value }) => {
    expect(parseObject(raw)).toEqual({ status: 'ok', object: { kind: 'Node', key: 'minikube-m02', value } });
  });

  it('keeps the node without a bad address, naming the spec field', () => {
    expect(parseObject(rawCalicoNode({ bgp: { ipv4Address: '172.16.30.7/24' }, vxlanTunnelMACAddr: 'zz:zz' }))).toEqual({
      status: 'ok',
      object: { kind: 'Node', key: 'minikube-m02', value: { name: 'minikube-m02', ipv4: SEED_M02.ipv4 } },
      problems: [{ kind: 'Node', name: 'minikube-m02', field: 'spec.vxlanTunnelMACAddr', message: expect.stringMatching(/MAC/), reason: 'invalid' }],
    });
  });

  it.each([
    { name: 'bgp not a map', spec: { bgp: 'AS64512' }, field: 'spec.bgp', message: /must be an object/ },
    { name: 'address not a string', spec: { bgp: { ipv4Address: 17 } }, field: 'spec.bgp.ipv4Address', message: /must be a string, got 17/ },
  ])('rejects a malformed spec: $name', ({ spec, field, message }) => {
    expect(parseObject(rawCalicoNode(spec))).toEqual({
      status: 'invalid',
      kind: 'Node',
      key: 'minikube-m02',
      problem: { kind: 'Node', name: 'minikube-m02', field, message: expect.stringMatching(message), reason: 'invalid' },
    });
  });
});
