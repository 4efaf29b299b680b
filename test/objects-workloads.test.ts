import { describe, expect, it } from 'vitest';
import { calicoInterfaceName } from '../calico/objects/interface-name.js';
import { parseObject } from '../calico/objects/parse-object.js';
import { rawEndpoint, rawPod } from './fixtures/raw-objects.js';

const NGINX = { namespace: 'default', name: 'nginx', node: 'minikube-m02', ips: ['10.244.205.193'], iface: 'calic440f455693' };
const podIps = '["cni.projectcalico.org/podIPs"]';

describe('calicoInterfaceName', () => {
  it.each([
    { name: 'default.nginx (seed, minikube-m02)', namespace: 'default', pod: 'nginx', prefix: undefined, iface: 'calic440f455693' },
    { name: 'default.nginx-manual (seed, minikube-m03)', namespace: 'default', pod: 'nginx-manual', prefix: undefined, iface: 'califba6dd09590' },
    { name: 'another prefix, same hash', namespace: 'default', pod: 'nginx', prefix: 'tap', iface: 'tapc440f455693' },
  ])('$name', ({ namespace, pod, prefix, iface }) => {
    expect(calicoInterfaceName(namespace, pod, prefix)).toBe(iface);
  });

  it.each([{ prefix: 'toolong' }, { prefix: 'a b' }, { prefix: '-x' }])('refuses the prefix $prefix', ({ prefix }) => {
    expect(() => calicoInterfaceName('default', 'nginx', prefix)).toThrow(RangeError);
  });
});

describe('Pod → Workload', () => {
  it.each([
    { name: 'the seed pod: podIPs annotation', raw: rawPod(), value: NGINX },
    {
      name: 'dual stack podIPs, spaces after commas',
      raw: rawPod({ annotations: { 'cni.projectcalico.org/podIPs': '10.244.205.193/32, fd00:10::C1/128' } }),
      value: { ...NGINX, ips: ['10.244.205.193', 'fd00:10::c1'] },
    },
    {
      name: 'annotations win over status',
      raw: rawPod({ status: { podIP: '10.88.0.2', podIPs: [{ ip: '10.88.0.2' }] } }),
      value: NGINX,
    },
    {
      name: 'only the older podIP annotation',
      raw: rawPod({ annotations: { 'cni.projectcalico.org/podIPs': undefined }, status: { podIP: undefined, podIPs: undefined } }),
      value: NGINX,
    },
    {
      name: 'no annotations: status.podIPs',
      raw: rawPod({ annotations: { 'cni.projectcalico.org/podIPs': '', 'cni.projectcalico.org/podIP': '' }, status: { podIPs: [{ ip: '10.244.205.193' }, { ip: 'fd00:10::c1' }] } }),
      value: { ...NGINX, ips: ['10.244.205.193', 'fd00:10::c1'] },
    },
    {
      name: 'no annotations, no podIPs: status.podIP',
      raw: rawPod({ annotations: { 'cni.projectcalico.org/podIPs': null, 'cni.projectcalico.org/podIP': null }, status: { podIPs: [] } }),
      value: NGINX,
    },
    {
      name: 'no namespace means default; repeated addresses once',
      raw: rawPod({ metadata: { namespace: undefined }, annotations: { 'cni.projectcalico.org/podIPs': '10.244.205.193/32,10.244.205.193' } }),
      value: NGINX,
    },
    {
      name: 'the other seed pod',
      raw: rawPod({ metadata: { name: 'nginx-manual' }, spec: { nodeName: 'minikube-m03' }, annotations: { 'cni.projectcalico.org/podIPs': '10.244.151.1/32' } }),
      value: { namespace: 'default', name: 'nginx-manual', node: 'minikube-m03', ips: ['10.244.151.1'], iface: 'califba6dd09590' },
    },
  ])('$name', ({ raw, value }) => {
    expect(parseObject(raw)).toEqual({ status: 'ok', object: { kind: 'Workload', key: `${value.namespace}/${value.name}`, value: { ...value, source: 'Pod' } } });
  });

  it.each([
    { name: 'a host-network pod', parts: { spec: { hostNetwork: true } }, reason: /host-network/ },
    { name: 'a pod that succeeded', parts: { status: { phase: 'Succeeded' } }, reason: /finished/ },
    { name: 'a pod that failed', parts: { status: { phase: 'Failed' } }, reason: /finished/ },
    { name: 'a pod not yet scheduled', parts: { spec: { nodeName: undefined } }, reason: /not scheduled/ },
    {
      name: 'a pod without an address yet',
      parts: { annotations: { 'cni.projectcalico.org/podIPs': undefined, 'cni.projectcalico.org/podIP': undefined }, status: { podIP: undefined, podIPs: undefined } },
      reason: /no IP/,
    },
  ])('ignores $name (not a problem)', ({ parts, reason }) => {
    expect(parseObject(rawPod(parts))).toEqual({ status: 'ignored', kind: 'Workload', key: 'default/nginx', reason: expect.stringMatching(reason) });
  });

  it.each([
    { name: 'a bad address in podIPs', parts: { annotations: { 'cni.projectcalico.org/podIPs': '10.244.205.193/32,10.244.205.300' } }, field: `metadata.annotations${podIps}`, message: /"10.244.205.300"/ },
    { name: 'a range in podIPs', parts: { annotations: { 'cni.projectcalico.org/podIPs': '10.244.205.192/26' } }, field: `metadata.annotations${podIps}`, message: /\/32 or \/128/ },
    { name: 'an empty entry in podIPs', parts: { annotations: { 'cni.projectcalico.org/podIPs': '10.244.205.193/32,' } }, field: `metadata.annotations${podIps}`, message: /got ""/ },
    { name: 'podIPs not a string', parts: { annotations: { 'cni.projectcalico.org/podIPs': ['10.244.205.193'] } }, field: `metadata.annotations${podIps}`, message: /must be a string/ },
    {
      name: 'a hostile status.podIP',
      parts: { annotations: { 'cni.projectcalico.org/podIPs': undefined, 'cni.projectcalico.org/podIP': undefined }, status: { podIPs: undefined, podIP: '10.244.205.193 dev lo' } },
      field: 'status.podIP',
      message: /"10.244.205.193 dev lo"/,
    },
    { name: 'a bad status.podIPs entry', parts: { annotations: { 'cni.projectcalico.org/podIPs': '', 'cni.projectcalico.org/podIP': '' }, status: { podIPs: [{ ip: 'x' }] } }, field: 'status.podIPs[0].ip', message: /"x"/ },
    { name: 'a bad node name', parts: { spec: { nodeName: 'minikube_m02' } }, field: 'spec.nodeName', message: /DNS-1123/ },
    { name: 'hostNetwork not a boolean', parts: { spec: { hostNetwork: 'yes' } }, field: 'spec.hostNetwork', message: /must be a boolean/ },
  ])('rejects $name', ({ parts, field, message }) => {
    expect(parseObject(rawPod(parts))).toEqual({
      status: 'invalid',
      kind: 'Workload',
      key: 'default/nginx',
      problem: { kind: 'Pod', name: 'default/nginx', field, message: expect.stringMatching(message), reason: 'invalid' },
    });
  });

  it.each([
    { name: 'a bad namespace', metadata: { namespace: 'Default' }, key: '"Default"/nginx', field: 'metadata.namespace' },
    { name: 'a name with a semicolon', metadata: { name: 'nginx;reboot' }, key: 'default/"nginx;reboot"', field: 'metadata.name' },
  ])('rejects $name, filed under an escaped key', ({ metadata, key, field }) => {
    expect(parseObject(rawPod({ metadata }))).toEqual({ status: 'invalid', kind: 'Workload', key, problem: { kind: 'Pod', name: key, field, message: expect.any(String), reason: 'invalid' } });
  });
});

describe('WorkloadEndpoint → Workload', () => {
  const key = 'default/minikube--m02-k8s-nginx-eth0';
  it.each([
    { name: 'the seed endpoint', raw: rawEndpoint(), value: NGINX },
    { name: 'its own interface prefix', raw: rawEndpoint({ interfaceName: 'tapc440f455693' }), value: { ...NGINX, iface: 'tapc440f455693' } },
    { name: 'spec.workload when no pod', raw: rawEndpoint({ pod: undefined, workload: 'vm-7' }), value: { ...NGINX, name: 'vm-7' } },
    { name: 'the endpoint name when neither', raw: rawEndpoint({ pod: '' }), value: { ...NGINX, name: 'minikube--m02-k8s-nginx-eth0' } },
    { name: 'IPv6 networks', raw: rawEndpoint({ ipNetworks: ['10.244.205.193/32', 'fd00:10::c1/128'] }), value: { ...NGINX, ips: ['10.244.205.193', 'fd00:10::c1'] } },
  ])('$name', ({ raw, value }) => {
    expect(parseObject(raw)).toEqual({ status: 'ok', object: { kind: 'Workload', key, value: { ...value, source: 'WorkloadEndpoint' } } });
  });

  it('ignores an endpoint without addresses', () => {
    expect(parseObject(rawEndpoint({ ipNetworks: [] }))).toEqual({ status: 'ignored', kind: 'Workload', key, reason: expect.stringMatching(/no IP/) });
  });

  it.each([
    { name: 'a hostile interface name', spec: { interfaceName: 'cali0;ip link del eth0' }, field: 'spec.interfaceName', message: /Linux interface name/ },
    { name: 'an interface name over 15 characters', spec: { interfaceName: 'calic440f4556930' }, field: 'spec.interfaceName', message: /"calic440f4556930"/ },
    { name: 'a network wider than a host', spec: { ipNetworks: ['10.244.205.192/26'] }, field: 'spec.ipNetworks[0]', message: /\/32 or \/128/ },
    { name: 'no node', spec: { node: undefined }, field: 'spec.node', message: /is required/ },
    { name: 'a bad node', spec: { node: 'a/b' }, field: 'spec.node', message: /DNS-1123/ },
    { name: 'a bad pod name', spec: { pod: 'Nginx' }, field: 'spec.pod', message: /DNS-1123/ },
  ])('rejects $name', ({ spec, field, message }) => {
    expect(parseObject(rawEndpoint(spec))).toEqual({
      status: 'invalid',
      kind: 'Workload',
      key,
      problem: { kind: 'WorkloadEndpoint', name: key, field, message: expect.stringMatching(message), reason: 'invalid' },
    });
  });
});

describe('parseObject dispatch', () => {
  it.each([
    { name: 'null', raw: null, reason: /not an object: null/ },
    { name: 'a number', raw: 1e308, reason: /not an object/ },
    { name: 'a string', raw: 'kind: Node', reason: /not an object: "kind: Node"/ },
    { name: 'an array', raw: [rawPod()], reason: /an array of 1/ },
    { name: 'no apiVersion', raw: { kind: 'Node', metadata: { name: 'n' } }, reason: /no apiVersion/ },
    { name: 'a kind wren does not read', raw: { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' } }, reason: /"Service" of "v1" is not a kind/ },
    { name: 'a known kind in the wrong group', raw: { apiVersion: 'v1', kind: 'IPPool' }, reason: /not a kind/ },
    { name: 'a prototype key as kind', raw: { apiVersion: 'v1', kind: '__proto__' }, reason: /not a kind/ },
    { name: 'an IPAMHandle', raw: { apiVersion: 'crd.projectcalico.org/v1', kind: 'IPAMHandle', metadata: { name: 'h' } }, reason: /not a kind/ },
  ])('ignores $name', ({ raw, reason }) => {
    expect(parseObject(raw)).toEqual({ status: 'ignored', reason: expect.stringMatching(reason) });
  });
});
