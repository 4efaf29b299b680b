// Calico's BGP objects read from every datastore shape: BGPConfiguration and BGPPeer
// (crd.projectcalico.org/v1, projectcalico.org/v3, etcd v3 keys), the Node's AS number and
// labels; hostile values refused by kind, name and field, that object only; `wren snapshot`'s
// file reads back to the same values.
import { describe, expect, it } from 'vitest';
import type { ParseResult } from '../calico/objects/api.js';
import { resourceKey } from '../calico/objects/etcd-keys.js';
import { parseEtcdKv } from '../calico/objects/etcd-kv.js';
import { sameObject } from '../calico/objects/equals.js';
import { parseObject } from '../calico/objects/parse-object.js';
import { parseSnapshotText } from '../calico/objects/snapshot-file.js';
import { renderSnapshotFile } from '../calico/objects/snapshot-render.js';
import { parseAsNumber } from '../kernel/values.js';
import { EMPTY_SNAPSHOT } from '../routing/cluster.js';
import { rawCalicoNode } from './fixtures/raw-objects.js';

const CRD = 'crd.projectcalico.org/v1';
const V3 = 'projectcalico.org/v3';
const config = (spec: unknown, name = 'default', apiVersion = CRD) => ({ apiVersion, kind: 'BGPConfiguration', metadata: { name }, spec });
const peer = (spec: unknown, name = 'tor', apiVersion = CRD) => ({ apiVersion, kind: 'BGPPeer', metadata: { name }, spec });

function refused(kind: 'BGPConfiguration' | 'BGPPeer', name: string, field: string, message: RegExp): ParseResult {
  return { status: 'invalid', kind, key: name, problem: { kind, name, field, message: expect.stringMatching(message), reason: 'invalid' } };
}

describe('AS numbers', () => {
  it.each([
    { value: 64512, want: 64512 },
    { value: '64513', want: 64513 },
    { value: '1.10', want: 65546 },
    { value: 4200000000, want: 4200000000 },
    { value: 4294967294, want: 4294967294 },
    { value: 0, want: undefined },
    { value: 23456, want: undefined },
    { value: 65535, want: undefined },
    { value: 4294967295, want: undefined },
    { value: 4294967296, want: undefined },
    { value: -1, want: undefined },
    { value: 64512.5, want: undefined },
    { value: '064512', want: undefined },
    { value: '+64512', want: undefined },
    { value: '0x10', want: undefined },
    { value: '1.65536', want: undefined },
    { value: '64512\n', want: undefined },
    { value: '', want: undefined },
    { value: null, want: undefined },
    { value: Number.NaN, want: undefined },
  ])('$value → $want', ({ value, want }) => {
    expect(parseAsNumber(value)).toBe(want);
  });
});

describe('BGPConfiguration', () => {
  it.each([
    { name: 'everything wren reads', raw: config({ asNumber: 64512, nodeToNodeMeshEnabled: false, listenPort: 1790, logSeverityScreen: 'Warning' }), value: { name: 'default', asNumber: 64512, nodeToNodeMeshEnabled: false, listenPort: 1790, logSeverityScreen: 'Warning' } },
    { name: 'empty spec: Calico\'s defaults apply later', raw: config({}), value: { name: 'default' } },
    { name: 'no spec', raw: { apiVersion: CRD, kind: 'BGPConfiguration', metadata: { name: 'default' } }, value: { name: 'default' } },
    { name: 'asdot AS, v3', raw: config({ asNumber: '1.10' }, 'default', V3), value: { name: 'default', asNumber: 65546 } },
    { name: 'a per-node one is read too', raw: config({ logSeverityScreen: 'Debug' }, 'node.node-1'), value: { name: 'node.node-1', logSeverityScreen: 'Debug' } },
  ])('$name', ({ raw, value }) => {
    expect(parseObject(raw)).toEqual({ status: 'ok', object: { kind: 'BGPConfiguration', key: value.name, value } });
  });

  it.each([
    { name: 'AS 0', spec: { asNumber: 0 }, field: 'spec.asNumber', message: /AS number.*got 0/ },
    { name: 'AS 4294967296', spec: { asNumber: 4294967296 }, field: 'spec.asNumber', message: /got 4294967296/ },
    { name: 'AS_TRANS', spec: { asNumber: 23456 }, field: 'spec.asNumber', message: /not 23456/ },
    { name: 'AS as hex text', spec: { asNumber: '0xfc00' }, field: 'spec.asNumber', message: /"0xfc00"/ },
    { name: 'AS with a newline', spec: { asNumber: '64512\nrouter id 1.1.1.1;' }, field: 'spec.asNumber', message: /\\n/ },
    { name: 'AS a float', spec: { asNumber: 64512.5 }, field: 'spec.asNumber', message: /integer or a string/ },
    { name: 'port 0', spec: { listenPort: 0 }, field: 'spec.listenPort', message: /1-65535, got 0/ },
    { name: 'port 65536', spec: { listenPort: 65536 }, field: 'spec.listenPort', message: /got 65536/ },
    { name: 'port as text', spec: { listenPort: '179' }, field: 'spec.listenPort', message: /integer/ },
    { name: 'severity not Calico\'s', spec: { logSeverityScreen: 'debug all; }' }, field: 'spec.logSeverityScreen', message: /one of "Debug"/ },
    { name: 'mesh as text', spec: { nodeToNodeMeshEnabled: 'false' }, field: 'spec.nodeToNodeMeshEnabled', message: /boolean/ },
    { name: 'spec a list', spec: [1], field: 'spec', message: /object/ },
  ])('refuses $name', ({ spec, field, message }) => {
    expect(parseObject(config(spec))).toEqual(refused('BGPConfiguration', 'default', field, message));
  });

  it('keeps the object, and names each field wren does not implement', () => {
    const result = parseObject(config({ asNumber: 64512, serviceClusterIPs: [{ cidr: '10.96.0.0/12' }], communities: [], nodeMeshPassword: { secretKeyRef: { name: 's', key: 'k' } } }));
    expect(result).toMatchObject({ status: 'ok', object: { value: { name: 'default', asNumber: 64512 } } });
    expect(result.status === 'ok' ? result.problems?.map((p) => p.field) : []).toEqual(['spec.serviceClusterIPs', 'spec.nodeMeshPassword']);
  });
});

describe('BGPPeer', () => {
  it.each([
    { name: 'a global peer', raw: peer({ peerIP: '172.16.30.1', asNumber: 64513 }), value: { name: 'tor', peerIP: '172.16.30.1', asNumber: 64513 } },
    { name: 'with a port, v3', raw: peer({ peerIP: '172.16.30.1:1790', asNumber: '64513' }, 'tor', V3), value: { name: 'tor', peerIP: '172.16.30.1', port: 1790, asNumber: 64513 } },
    { name: 'IPv6, canonical', raw: peer({ peerIP: 'FD00:0:0::1', asNumber: 64513 }), value: { name: 'tor', peerIP: 'fd00::1', asNumber: 64513 } },
    { name: 'IPv6 with a port', raw: peer({ peerIP: '[fd00::1]:180', asNumber: 64513 }), value: { name: 'tor', peerIP: 'fd00::1', port: 180, asNumber: 64513 } },
    { name: 'for one node', raw: peer({ peerIP: '172.16.31.1', asNumber: 64513, node: 'node-2' }), value: { name: 'tor', peerIP: '172.16.31.1', asNumber: 64513, node: 'node-2' } },
    { name: 'empty node: global', raw: peer({ peerIP: '172.16.31.1', asNumber: 64513, node: '' }), value: { name: 'tor', peerIP: '172.16.31.1', asNumber: 64513 } },
  ])('$name', ({ raw, value }) => {
    expect(parseObject(raw)).toEqual({ status: 'ok', object: { kind: 'BGPPeer', key: 'tor', value } });
  });

  it('keeps a node selector parsed, with its text', () => {
    const result = parseObject(peer({ peerIP: '172.16.31.1', asNumber: 64513, nodeSelector: "rack == 'r2' && !has(edge)" }));
    expect(result).toMatchObject({ status: 'ok', object: { value: { nodeSelector: { text: "rack == 'r2' && !has(edge)", selector: { op: '&&' } } } } });
  });

  it.each([
    { name: 'no peerIP', spec: { asNumber: 64513 }, field: 'spec.peerIP', message: /required/ },
    { name: 'no AS', spec: { peerIP: '172.16.30.1' }, field: 'spec.asNumber', message: /required/ },
    { name: 'AS 0', spec: { peerIP: '172.16.30.1', asNumber: 0 }, field: 'spec.asNumber', message: /got 0/ },
    { name: 'AS 4294967296', spec: { peerIP: '172.16.30.1', asNumber: 4294967296 }, field: 'spec.asNumber', message: /got 4294967296/ },
    { name: 'loopback', spec: { peerIP: '127.0.0.1', asNumber: 64513 }, field: 'spec.peerIP', message: /loopback/ },
    { name: 'IPv6 loopback', spec: { peerIP: '::1', asNumber: 64513 }, field: 'spec.peerIP', message: /loopback/ },
    { name: 'multicast', spec: { peerIP: '224.0.0.5', asNumber: 64513 }, field: 'spec.peerIP', message: /multicast/ },
    { name: 'IPv6 multicast', spec: { peerIP: 'ff02::5', asNumber: 64513 }, field: 'spec.peerIP', message: /multicast/ },
    { name: 'unspecified', spec: { peerIP: '0.0.0.0', asNumber: 64513 }, field: 'spec.peerIP', message: /0\.0\.0\.0\/8/ },
    { name: 'IPv6 unspecified', spec: { peerIP: '::', asNumber: 64513 }, field: 'spec.peerIP', message: /unspecified/ },
    { name: 'broadcast', spec: { peerIP: '255.255.255.255', asNumber: 64513 }, field: 'spec.peerIP', message: /240\.0\.0\.0\/4/ },
    { name: 'link-local', spec: { peerIP: '169.254.1.1', asNumber: 64513 }, field: 'spec.peerIP', message: /link-local/ },
    { name: 'IPv6 link-local', spec: { peerIP: 'fe80::1', asNumber: 64513 }, field: 'spec.peerIP', message: /link-local/ },
    { name: 'IPv4-mapped', spec: { peerIP: '::ffff:10.0.0.1', asNumber: 64513 }, field: 'spec.peerIP', message: /IPv4-mapped/ },
    { name: 'a name, not an address', spec: { peerIP: 'tor.example', asNumber: 64513 }, field: 'spec.peerIP', message: /IP address/ },
    { name: 'a newline and a brace', spec: { peerIP: '172.16.30.1;\n}\nprotocol bgp x {', asNumber: 64513 }, field: 'spec.peerIP', message: /\\n/ },
    { name: 'port 0', spec: { peerIP: '172.16.30.1:0', asNumber: 64513 }, field: 'spec.peerIP', message: /port "0"/ },
    { name: 'port 70000', spec: { peerIP: '172.16.30.1:70000', asNumber: 64513 }, field: 'spec.peerIP', message: /port "70000"/ },
    { name: 'port with a leading zero', spec: { peerIP: '172.16.30.1:0179', asNumber: 64513 }, field: 'spec.peerIP', message: /port "0179"/ },
    { name: 'leading zeros in the address', spec: { peerIP: '172.016.30.1', asNumber: 64513 }, field: 'spec.peerIP', message: /IP address/ },
    { name: 'node with a quote', spec: { peerIP: '172.16.30.1', asNumber: 64513, node: 'a"b' }, field: 'spec.node', message: /"a\\"b"/ },
    { name: 'node and selector', spec: { peerIP: '172.16.30.1', asNumber: 64513, node: 'n', nodeSelector: 'all()' }, field: 'spec.nodeSelector', message: /together with spec.node/ },
    { name: 'an unreadable selector', spec: { peerIP: '172.16.30.1', asNumber: 64513, nodeSelector: 'rack = r2' }, field: 'spec.nodeSelector', message: /not a selector/ },
    { name: 'global() is not a node selector', spec: { peerIP: '172.16.30.1', asNumber: 64513, nodeSelector: 'global()' }, field: 'spec.nodeSelector', message: /not a selector/ },
    { name: 'peerSelector', spec: { peerSelector: 'all()', asNumber: 64513 }, field: 'spec.peerSelector', message: /not supported/ },
    { name: 'a password', spec: { peerIP: '172.16.30.1', asNumber: 64513, password: { secretKeyRef: { name: 's', key: 'k' } } }, field: 'spec.password', message: /not supported/ },
    { name: 'no spec', spec: undefined, field: 'spec', message: /required/ },
  ])('refuses $name', ({ spec, field, message }) => {
    expect(parseObject(peer(spec))).toEqual(refused('BGPPeer', 'tor', field, message));
  });

  it('refuses a hostile name by its quoted form, and the rest of the file still loads', () => {
    const file = parseSnapshotText(JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [peer({ peerIP: '172.16.30.1', asNumber: 64513 }, 'x"}\nprotocol'), peer({ peerIP: '172.16.30.2', asNumber: 64513 }, 'ok')] }));
    expect(file.snapshot.bgpPeers?.map((p) => p.name)).toEqual(['ok']);
    expect(file.problems).toEqual([expect.objectContaining({ kind: 'BGPPeer', name: '"x\\"}\\nprotocol"', field: 'metadata.name' })]);
  });

  it('keeps a peer with options wren ignores, naming each', () => {
    const result = parseObject(peer({ peerIP: '172.16.30.1', asNumber: 64513, keepOriginalNextHop: true, filters: ['f'], maxRestartTime: '' }));
    expect(result.status === 'ok' ? result.problems?.map((p) => p.field) : result).toEqual(['spec.keepOriginalNextHop', 'spec.filters']);
  });
});

describe('IPPool disableBGPExport', () => {
  it.each([
    { spec: { cidr: '10.245.0.0/16', disableBGPExport: true }, want: true },
    { spec: { cidr: '10.245.0.0/16', disableBGPExport: false }, want: undefined },
    { spec: { cidr: '10.245.0.0/16' }, want: undefined },
  ])('$spec.disableBGPExport', ({ spec, want }) => {
    const result = parseObject({ apiVersion: CRD, kind: 'IPPool', metadata: { name: 'p' }, spec });
    expect(result.status === 'ok' && result.object.kind === 'IPPool' ? result.object.value.disableBGPExport : 'refused').toBe(want);
    if (result.status !== 'ok' || result.object.kind !== 'IPPool') return;
    const back = parseSnapshotText(renderSnapshotFile({ ...EMPTY_SNAPSHOT, pools: [result.object.value] }));
    expect(back.snapshot.pools).toEqual([result.object.value]);
  });

  it('refuses a pool whose disableBGPExport is not a boolean', () => {
    expect(parseObject({ apiVersion: CRD, kind: 'IPPool', metadata: { name: 'p' }, spec: { cidr: '10.245.0.0/16', disableBGPExport: 'yes' } })).toMatchObject({ status: 'invalid', problem: { field: 'spec.disableBGPExport' } });
  });
});

describe('the Node\'s BGP fields', () => {
  it.each([
    { name: 'KDD annotation', raw: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n', annotations: { 'projectcalico.org/ASNumber': '64514' }, labels: { rack: 'r1' } } }, want: { name: 'n', asNumber: 64514, labels: { rack: 'r1' } } },
    { name: 'etcd spec.bgp.asNumber as a number', raw: rawCalicoNode({ bgp: { asNumber: 64514 } }), want: { asNumber: 64514 } },
    { name: 'etcd spec.bgp.asNumber asdot', raw: rawCalicoNode({ bgp: { asNumber: '1.2' } }), want: { asNumber: 65538 } },
    { name: 'a label named __proto__ is just a label', raw: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n', labels: JSON.parse('{"__proto__": "x"}') as object } }, want: { labels: JSON.parse('{"__proto__": "x"}') as object } },
  ])('$name', ({ raw, want }) => {
    expect(parseObject(raw)).toMatchObject({ status: 'ok', object: { kind: 'Node', value: want } });
  });

  it.each([
    { name: 'AS 0 in the annotation', raw: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n', annotations: { 'projectcalico.org/ASNumber': '0' } } }, field: 'metadata.annotations["projectcalico.org/ASNumber"]' },
    { name: 'AS too big in the spec', raw: rawCalicoNode({ bgp: { asNumber: 4294967296 } }), field: 'spec.bgp.asNumber' },
    { name: 'a label that is not a string', raw: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n', labels: { rack: 7 } } }, field: 'metadata.labels.rack' },
  ])('keeps the node without $name, and says so', ({ raw, field }) => {
    const result = parseObject(raw);
    expect(result.status).toBe('ok');
    if (result.status !== 'ok' || result.object.kind !== 'Node') return;
    expect(result.object.value.asNumber).toBeUndefined();
    expect(result.problems).toEqual([expect.objectContaining({ kind: 'Node', field })]);
  });
});

describe('etcd v3 keys', () => {
  it.each([
    {
      name: 'the cluster\'s BGPConfiguration',
      key: resourceKey('bgpconfigurations', 'default'),
      value: { apiVersion: V3, kind: 'BGPConfiguration', metadata: { name: 'default' }, spec: { asNumber: 64512, nodeToNodeMeshEnabled: false } },
      want: { status: 'ok', object: { kind: 'BGPConfiguration', key: 'default', value: { name: 'default', asNumber: 64512, nodeToNodeMeshEnabled: false } } },
    },
    {
      name: 'a BGPPeer',
      key: resourceKey('bgppeers', 'tor'),
      value: { apiVersion: V3, kind: 'BGPPeer', metadata: { name: 'tor' }, spec: { peerIP: '172.16.30.1', asNumber: 64513 } },
      want: { status: 'ok', object: { kind: 'BGPPeer', key: 'tor', value: { name: 'tor', peerIP: '172.16.30.1', asNumber: 64513 } } },
    },
    {
      name: 'a node\'s labels and AS',
      key: resourceKey('nodes', 'node-1'),
      value: { apiVersion: V3, kind: 'Node', metadata: { name: 'node-1', labels: { rack: 'r1' } }, spec: { bgp: { ipv4Address: '172.16.30.6/24', asNumber: 64514 } } },
      want: { status: 'ok', object: { kind: 'Node', key: 'node-1', value: { name: 'node-1', ipv4: { ip: '172.16.30.6', cidr: '172.16.30.6/24' }, asNumber: 64514, labels: { rack: 'r1' } } } },
    },
    {
      name: 'a BGPPeer whose value claims another name',
      key: resourceKey('bgppeers', 'tor'),
      value: { metadata: { name: 'other' }, spec: { peerIP: '172.16.30.1', asNumber: 64513 } },
      want: refused('BGPPeer', 'tor', 'metadata.name', /key says "tor"/),
    },
    {
      name: 'a BGPPeer with a bad AS',
      key: resourceKey('bgppeers', 'tor'),
      value: { spec: { peerIP: '172.16.30.1', asNumber: 65535 } },
      want: refused('BGPPeer', 'tor', 'spec.asNumber', /65535/),
    },
  ])('$name', ({ key, value, want }) => {
    expect(parseEtcdKv(key, JSON.stringify(value))).toEqual(want);
  });
});

describe('wren snapshot', () => {
  it('writes BGP objects, node AS and labels that read back to the same values', () => {
    const parsed = [
      config({ asNumber: 64512, nodeToNodeMeshEnabled: false, listenPort: 1790, logSeverityScreen: 'Error' }),
      peer({ peerIP: '[fd00::1]:180', asNumber: '1.10', nodeSelector: "rack in {'r1', 'r2'}" }, 'v6'),
      peer({ peerIP: '172.16.30.1', asNumber: 64513, node: 'node-1' }, 'tor'),
      { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1', labels: { rack: 'r1' }, annotations: { 'projectcalico.org/ASNumber': '64514', 'projectcalico.org/IPv4Address': '172.16.30.6/24' } } },
    ].map((raw) => parseObject(raw));
    const objects = parsed.flatMap((r) => (r.status === 'ok' ? [r.object] : []));
    expect(objects).toHaveLength(4);
    const snapshot = { ...EMPTY_SNAPSHOT, nodes: objects.flatMap((o) => (o.kind === 'Node' ? [o.value] : [])), bgpConfigurations: objects.flatMap((o) => (o.kind === 'BGPConfiguration' ? [o.value] : [])), bgpPeers: objects.flatMap((o) => (o.kind === 'BGPPeer' ? [o.value] : [])) };
    const back = parseSnapshotText(renderSnapshotFile(snapshot));
    expect(back.problems).toEqual([]);
    expect(back.snapshot.bgpConfigurations).toEqual(snapshot.bgpConfigurations);
    expect(back.snapshot.bgpPeers).toEqual([...snapshot.bgpPeers].sort((a, b) => (a.name < b.name ? -1 : 1)));
    expect(back.snapshot.nodes).toEqual(snapshot.nodes);
    for (const object of objects) {
      const again = [...(back.snapshot.bgpPeers ?? []), ...(back.snapshot.bgpConfigurations ?? []), ...back.snapshot.nodes].find((v) => v.name === object.value.name);
      expect(again !== undefined && sameObject(object, { ...object, value: again } as typeof object)).toBe(true);
    }
  });
});
