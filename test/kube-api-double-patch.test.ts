// The double's patchers and selectors as pure functions, table-driven.
import { describe, expect, it } from 'vitest';
import { applyJsonPatch, JsonPatchError } from './support/kube-api-double/patch-json.js';
import { mergePatch } from './support/kube-api-double/patch-merge.js';
import { strategicMerge } from './support/kube-api-double/patch-strategic.js';
import { parseFieldSelector, parseLabelSelector } from './support/kube-api-double/selectors.js';
import { NODES, PODS } from './support/kube-api-double/resources.js';
import { ApiError } from './support/kube-api-double/status.js';
import { podObject } from './support/kube-api-double/sample-objects.js';

describe('JSON patch (RFC 6902)', () => {
  const doc = { metadata: { annotations: { a: '1' } }, list: [1, 2, 3] };
  it.each([
    ['add a key', [{ op: 'add', path: '/metadata/annotations/b', value: '2' }], { metadata: { annotations: { a: '1', b: '2' } }, list: [1, 2, 3] }],
    ['add with an escaped key', [{ op: 'add', path: '/metadata/annotations/x~1y~0z', value: 'v' }], { metadata: { annotations: { a: '1', 'x/y~z': 'v' } }, list: [1, 2, 3] }],
    ['insert into a list', [{ op: 'add', path: '/list/1', value: 9 }], { metadata: { annotations: { a: '1' } }, list: [1, 9, 2, 3] }],
    ['append with -', [{ op: 'add', path: '/list/-', value: 4 }], { metadata: { annotations: { a: '1' } }, list: [1, 2, 3, 4] }],
    ['remove', [{ op: 'remove', path: '/list/0' }], { metadata: { annotations: { a: '1' } }, list: [2, 3] }],
    ['replace', [{ op: 'replace', path: '/metadata/annotations/a', value: 'x' }], { metadata: { annotations: { a: 'x' } }, list: [1, 2, 3] }],
    ['move', [{ op: 'move', from: '/metadata/annotations/a', path: '/moved' }], { metadata: { annotations: {} }, list: [1, 2, 3], moved: '1' }],
    ['copy', [{ op: 'copy', from: '/list/2', path: '/list/0' }], { metadata: { annotations: { a: '1' } }, list: [3, 1, 2, 3] }],
    ['test then replace', [{ op: 'test', path: '/list', value: [1, 2, 3] }, { op: 'replace', path: '/list', value: [] }], { metadata: { annotations: { a: '1' } }, list: [] }],
  ])('%s', (_name, ops, expected) => {
    expect(applyJsonPatch(doc, ops)).toEqual(expected);
    expect(doc).toEqual({ metadata: { annotations: { a: '1' } }, list: [1, 2, 3] }); // input untouched
  });

  it.each([
    ['a failed test', [{ op: 'test', path: '/list/0', value: 7 }]],
    ['removing a missing key', [{ op: 'remove', path: '/metadata/labels' }]],
    ['replacing a missing key', [{ op: 'replace', path: '/nope', value: 1 }]],
    ['adding under a missing parent', [{ op: 'add', path: '/nope/deeper', value: 1 }]],
    ['an index past the end', [{ op: 'add', path: '/list/9', value: 1 }]],
  ])('rejects %s', (_name, ops) => {
    expect(() => applyJsonPatch(doc, ops)).toThrow(JsonPatchError);
  });
});

describe('JSON merge patch (RFC 7386)', () => {
  it.each([
    [{ a: { b: 1, c: 2 } }, { a: { b: null, d: 3 } }, { a: { c: 2, d: 3 } }],
    [{ list: [1, 2] }, { list: [3] }, { list: [3] }],
    [{ a: 'x' }, { a: { b: 1 } }, { a: { b: 1 } }],
    [{ a: 1 }, 'scalar', 'scalar'],
  ])('%j + %j = %j', (target, patch, expected) => {
    expect(mergePatch(target, patch)).toEqual(expected);
  });
});

describe('strategic merge patch', () => {
  const node = {
    metadata: { finalizers: ['a'], annotations: { x: '1' } },
    spec: { podCIDRs: ['10.0.0.0/24'], taints: [{ key: 't', effect: 'NoSchedule' }] },
    status: { addresses: [{ type: 'InternalIP', address: '192.0.2.1' }, { type: 'Hostname', address: 'n' }] },
  };
  const smp = (patch: unknown) => strategicMerge(node, patch, '', NODES.mergeKeys);

  it('merges keyed lists by their merge key', () => {
    expect(smp({ status: { addresses: [{ type: 'InternalIP', address: '192.0.2.9' }] } })).toMatchObject({
      status: { addresses: [{ type: 'InternalIP', address: '192.0.2.9' }, { type: 'Hostname', address: 'n' }] },
    });
  });
  it('deletes a keyed list item with $patch: delete', () => {
    expect(smp({ status: { addresses: [{ type: 'Hostname', $patch: 'delete' }] } })).toMatchObject({ status: { addresses: [{ type: 'InternalIP' }] } });
  });
  it('replaces lists without a merge key, and whole lists or maps on $patch: replace', () => {
    expect(smp({ spec: { taints: [] } })).toMatchObject({ spec: { taints: [] } });
    expect(smp({ status: { addresses: [{ type: 'Hostname', address: 'h' }, { $patch: 'replace' }] } })).toMatchObject({ status: { addresses: [{ type: 'Hostname', address: 'h' }] } });
    expect(smp({ metadata: { annotations: { y: '2', $patch: 'replace' } } })).toMatchObject({ metadata: { annotations: { y: '2' } } });
  });
  it('unions primitive merge lists and removes with $deleteFromPrimitiveList', () => {
    expect(smp({ metadata: { finalizers: ['b'] } })).toMatchObject({ metadata: { finalizers: ['a', 'b'] } });
    expect(smp({ metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } })).toMatchObject({ metadata: { finalizers: [] } });
  });
  it('reorders with $setElementOrder and deletes maps with null', () => {
    const out = smp({ status: { '$setElementOrder/addresses': [{ type: 'Hostname' }, { type: 'InternalIP' }] }, metadata: { annotations: null } }) as typeof node;
    expect(out.status.addresses.map((a) => a.type)).toEqual(['Hostname', 'InternalIP']);
    expect(out.metadata.annotations).toBeUndefined();
  });
  it('merges nested keyed lists inside keyed list items (pod containers → env)', () => {
    const pod = { spec: { containers: [{ name: 'main', env: [{ name: 'A', value: '1' }] }] } };
    const out = strategicMerge(pod, { spec: { containers: [{ name: 'main', env: [{ name: 'B', value: '2' }] }] } }, '', PODS.mergeKeys);
    expect(out).toEqual({ spec: { containers: [{ name: 'main', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] }] } });
  });
});

describe('selectors', () => {
  const pod = podObject('default', 'web', 'node-a', { app: 'web', tier: 'front', replicas: '3' });
  it.each([
    ['app=web', true], ['app==web', true], ['app!=web', false], ['missing!=x', true], ['app', true], ['!app', false],
    ['app in (web, db)', true], ['app notin (web)', false], ['missing notin (x)', true], ['replicas>2', true], ['replicas<3', false],
    ['app=web,tier=back', false], ['', true],
  ])('label selector %j matches: %s', (selector, expected) => {
    expect(parseLabelSelector(selector)(pod)).toBe(expected);
  });
  it.each([['app=(x'], ['a b c'], ['replicas>x']])('label selector %j is a 400', (selector) => {
    expect(() => parseLabelSelector(selector)).toThrow(ApiError);
  });
  it.each([
    ['spec.nodeName=node-a', true], ['spec.nodeName==node-b', false], ['spec.nodeName!=node-b', true],
    ['metadata.name=web,metadata.namespace=default', true], ['status.phase=Running', true], ['spec.hostNetwork=false', true],
  ])('pod field selector %j matches: %s', (selector, expected) => {
    expect(parseFieldSelector(PODS, selector)(pod)).toBe(expected);
  });
  it('refuses a field selector without an operator', () => {
    expect(() => parseFieldSelector(PODS, 'spec.nodeName')).toThrow(/invalid selector/);
  });
});
