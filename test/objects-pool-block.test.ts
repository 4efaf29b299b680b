import { describe, expect, it } from 'vitest';
import type { ParseResult } from '../calico/objects/api.js';
import { sameObject } from '../calico/objects/equals.js';
import { parseObject } from '../calico/objects/parse-object.js';
import { allocations, NGINX_ATTRIBUTE, rawAffinity, rawBlock, rawPool, TUNNEL_ATTRIBUTE, V3 } from './fixtures/raw-objects.js';

function problem(kind: 'IPPool' | 'IPAMBlock' | 'BlockAffinity', name: string, field: string, message: RegExp): ParseResult {
  return { status: 'invalid', kind, key: name, problem: { kind, name, field, message: expect.stringMatching(message), reason: 'invalid' } };
}

describe('IPPool', () => {
  it.each([
    {
      name: 'the seed pool',
      raw: rawPool(),
      value: { name: 'default-ipv4-ippool', cidr: '10.244.0.0/16', blockSize: 26, ipipMode: 'Always', vxlanMode: 'Never', disabled: false },
    },
    {
      name: 'defaults: block 26, no encapsulation, enabled',
      raw: rawPool({ blockSize: undefined, ipipMode: undefined, vxlanMode: undefined }, 'p'),
      value: { name: 'p', cidr: '10.244.0.0/16', blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never', disabled: false },
    },
    {
      name: 'projectcalico.org/v3, VXLAN CrossSubnet, disabled',
      raw: rawPool({ ipipMode: 'Never', vxlanMode: 'CrossSubnet', blockSize: 24, disabled: true }, 'p', V3),
      value: { name: 'p', cidr: '10.244.0.0/16', blockSize: 24, ipipMode: 'Never', vxlanMode: 'CrossSubnet', disabled: true },
    },
    {
      name: 'IPv6 defaults to /122 blocks, canonical CIDR',
      raw: rawPool({ cidr: 'FD00:10:0:0::/64', ipipMode: null, blockSize: null }, 'v6'),
      value: { name: 'v6', cidr: 'fd00:10::/64', blockSize: 122, ipipMode: 'Never', vxlanMode: 'Never', disabled: false },
    },
    {
      name: 'natOutgoing, as Calico\'s installer sets it on the default pool',
      raw: rawPool({ natOutgoing: true }),
      value: { name: 'default-ipv4-ippool', cidr: '10.244.0.0/16', blockSize: 26, ipipMode: 'Always', vxlanMode: 'Never', disabled: false, natOutgoing: true },
    },
    {
      name: 'natOutgoing false or null: the API default, left out',
      raw: rawPool({ natOutgoing: null }, 'p'),
      value: { name: 'p', cidr: '10.244.0.0/16', blockSize: 26, ipipMode: 'Always', vxlanMode: 'Never', disabled: false },
    },
    {
      name: 'natOutgoing on an IPv6 pool',
      raw: rawPool({ cidr: 'fd00:10::/64', ipipMode: 'Never', blockSize: 122, natOutgoing: true }, 'v6'),
      value: { name: 'v6', cidr: 'fd00:10::/64', blockSize: 122, ipipMode: 'Never', vxlanMode: 'Never', disabled: false, natOutgoing: true },
    },
    {
      name: 'block size equal to the pool',
      raw: rawPool({ cidr: '10.9.0.0/26', blockSize: 26 }, 'small'),
      value: { name: 'small', cidr: '10.9.0.0/26', blockSize: 26, ipipMode: 'Always', vxlanMode: 'Never', disabled: false },
    },
  ])('$name', ({ raw, value }) => {
    expect(parseObject(raw)).toEqual({ status: 'ok', object: { kind: 'IPPool', key: value.name, value } });
  });

  it.each([
    { name: 'not a CIDR', spec: { cidr: 'ten.244/16' }, field: 'spec.cidr', message: /network prefix.*"ten.244\/16"/ },
    { name: 'host bits set', spec: { cidr: '10.244.0.1/16' }, field: 'spec.cidr', message: /no host bits/ },
    { name: 'overlaps link-local', spec: { cidr: '169.254.0.0/16' }, field: 'spec.cidr', message: /link-local/ },
    { name: 'block size too long', spec: { blockSize: 33 }, field: 'spec.blockSize', message: /between 20 and 32 .* got 33/ },
    { name: 'block size too short', spec: { blockSize: 19 }, field: 'spec.blockSize', message: /between 20 and 32/ },
    { name: 'IPv4 block size on IPv6', spec: { cidr: 'fd00::/64', ipipMode: 'Never', blockSize: 26 }, field: 'spec.blockSize', message: /between 116 and 128 for an IPv6 pool/ },
    { name: 'block larger than the pool', spec: { cidr: '10.244.0.0/24', blockSize: 20 }, field: 'spec.blockSize', message: /shorter than the pool's own \/24/ },
    { name: 'both encapsulations', spec: { ipipMode: 'CrossSubnet', vxlanMode: 'Always' }, field: 'spec.vxlanMode', message: /at most one encapsulation/ },
    { name: 'IPIP on IPv6', spec: { cidr: 'fd00::/64', blockSize: 122, ipipMode: 'Always' }, field: 'spec.ipipMode', message: /IPv4 only/ },
    { name: 'unknown mode', spec: { ipipMode: 'Sometimes' }, field: 'spec.ipipMode', message: /must be one of "Always", "CrossSubnet", "Never", got "Sometimes"/ },
    { name: 'block size as text', spec: { blockSize: '26' }, field: 'spec.blockSize', message: /must be an integer, got "26"/ },
    { name: 'fractional block size', spec: { blockSize: 26.5 }, field: 'spec.blockSize', message: /integer/ },
    { name: 'huge block size', spec: { blockSize: 1e300 }, field: 'spec.blockSize', message: /between 20 and 32/ },
    { name: 'missing CIDR', spec: { cidr: undefined }, field: 'spec.cidr', message: /^is required$/ },
    { name: 'natOutgoing as text', spec: { natOutgoing: 'true' }, field: 'spec.natOutgoing', message: /boolean/ },
    { name: 'hostile CIDR', spec: { cidr: '10.0.0.0/8\nip route flush all' }, field: 'spec.cidr', message: /"10\.0\.0\.0\/8\\nip route flush all"/ },
  ])('rejects $name', ({ spec, field, message }) => {
    const result = parseObject(rawPool(spec, 'p'));
    expect(result).toEqual(problem('IPPool', 'p', field, message));
    expect(result.status === 'invalid' && result.problem.message).not.toContain('\n');
  });

  it('a natOutgoing change is a change (the NAT tables follow it); false and absent are the same', () => {
    const parsed = (spec: Record<string, unknown>) => {
      const result = parseObject(rawPool(spec, 'p'));
      if (result.status !== 'ok') throw new Error('pool refused');
      return result.object;
    };
    expect(sameObject(parsed({}), parsed({ natOutgoing: true }))).toBe(false);
    expect(sameObject(parsed({}), parsed({ natOutgoing: false }))).toBe(true);
  });

  it('rejects a pool without a spec, naming the field', () => {
    expect(parseObject({ apiVersion: 'crd.projectcalico.org/v1', kind: 'IPPool', metadata: { name: 'p' } })).toEqual(problem('IPPool', 'p', 'spec', /^is required$/));
  });
});

// The seed block's two addresses belong to its own node, minikube-m02: they route with the block.
// Read for another node, the block keeps only the tunnel address (its handle says whose VTEP it
// is); read for minikube-m02 itself, or for every node, it keeps the pod's too, with the pod.
const TUNNEL = { ip: '10.244.205.192', node: 'minikube-m02', handle: 'ipip-tunnel-addr-minikube-m02' };
const NGINX = { ip: '10.244.205.193', node: 'minikube-m02', handle: 'k8s-pod-network.6b67d9586b86', namespace: 'default', pod: 'nginx' };
const SEED_BLOCK = { name: '10-244-205-192-26', cidr: '10.244.205.192/26', affinityNode: 'minikube-m02', allocations: [TUNNEL] };
const SEED_ALLOCATIONS = [TUNNEL, NGINX];
const ELSEWHERE = { node: 'minikube' };
const BORROWER = { handle_id: 'h2', secondary: { node: 'minikube-m03' } };
const NO_OWNER = { handle_id: '', secondary: null };

describe('IPAMBlock', () => {
  it.each([
    { name: 'the seed block on minikube-m02', raw: rawBlock(), value: SEED_BLOCK },
    {
      name: 'a borrowed address: owner differs from the affinity',
      raw: rawBlock({ allocations: allocations({ 0: 0, 5: 1 }), attributes: [TUNNEL_ATTRIBUTE, BORROWER] }),
      value: { ...SEED_BLOCK, allocations: [TUNNEL, { ip: '10.244.205.197', node: 'minikube-m03', handle: 'h2' }] },
    },
    {
      name: 'ordinals sharing one attribute; no secondary, empty handle: the affine node owns them',
      raw: rawBlock({ allocations: allocations({ 2: 0, 3: 0 }), attributes: [NO_OWNER] }),
      value: { ...SEED_BLOCK, allocations: [] },
    },
    {
      name: 'no owner in a block with no affinity',
      raw: rawBlock({ affinity: null, allocations: allocations({ 2: 0, 3: 0 }), attributes: [NO_OWNER] }),
      value: { ...SEED_BLOCK, affinityNode: undefined, allocations: [{ ip: '10.244.205.194' }, { ip: '10.244.205.195' }] },
    },
    { name: 'a virtual affinity has no node', raw: rawBlock({ affinity: 'virtual:lb' }), value: { ...SEED_BLOCK, affinityNode: undefined, allocations: SEED_ALLOCATIONS } },
    { name: 'no affinity (released block)', raw: rawBlock({ affinity: null }), value: { ...SEED_BLOCK, affinityNode: undefined, allocations: SEED_ALLOCATIONS } },
    {
      name: 'projectcalico.org/v3, IPv6 /122',
      raw: rawBlock({ cidr: 'fd00:10::40/122', allocations: allocations({ 62: 0, 63: 1 }, 64), attributes: [NGINX_ATTRIBUTE, BORROWER] }, 'fd00-10--40-122', V3),
      value: { name: 'fd00-10--40-122', cidr: 'fd00:10::40/122', affinityNode: 'minikube-m02', allocations: [{ ip: 'fd00:10::7f', node: 'minikube-m03', handle: 'h2' }] },
    },
    { name: 'an empty /32 block', raw: rawBlock({ cidr: '10.244.9.9/32', allocations: [null], attributes: [] }, 'b32'), value: { name: 'b32', cidr: '10.244.9.9/32', affinityNode: 'minikube-m02', allocations: [] } },
  ])('$name (read for another node)', ({ raw, value }) => {
    const result = parseObject(raw, ELSEWHERE);
    expect(result).toEqual({ status: 'ok', object: { kind: 'IPAMBlock', key: value.name, value } });
    if (result.status === 'ok' && value.affinityNode === undefined) expect(result.object.value).not.toHaveProperty('affinityNode');
  });

  it.each([
    { name: 'every node (a dump for any node)', detail: 'all' as const, kept: SEED_ALLOCATIONS },
    { name: 'the block\'s own node', detail: { node: 'minikube-m02' }, kept: SEED_ALLOCATIONS },
    { name: 'a node the pod names (a borrowed address)', detail: { node: 'minikube-m03' }, kept: [TUNNEL, { ...NGINX, node: 'minikube-m03' }] },
    { name: 'any other node', detail: ELSEWHERE, kept: [TUNNEL] },
  ])('read for $name, keeps the allocations its meaning checks need', ({ detail, kept }) => {
    const pod = detail !== 'all' && detail.node === 'minikube-m03' ? { ...NGINX_ATTRIBUTE, secondary: { ...NGINX_ATTRIBUTE.secondary, node: 'minikube-m03' } } : NGINX_ATTRIBUTE;
    const result = parseObject(rawBlock({ attributes: [TUNNEL_ATTRIBUTE, pod] }), detail);
    expect(result.status === 'ok' && result.object.kind === 'IPAMBlock' && result.object.value.allocations).toEqual(kept);
  });

  it('sees a change to the addresses of the block\'s own node as no change on another node: no route depends on them', () => {
    const before = parseObject(rawBlock(), ELSEWHERE);
    const after = parseObject(rawBlock({ allocations: allocations({ 0: 0, 1: 1, 9: 1 }) }), ELSEWHERE);
    const borrowed = parseObject(rawBlock({ allocations: allocations({ 0: 0, 1: 1, 9: 2 }), attributes: [TUNNEL_ATTRIBUTE, NGINX_ATTRIBUTE, BORROWER] }), ELSEWHERE);
    if (before.status !== 'ok' || after.status !== 'ok' || borrowed.status !== 'ok') throw new Error('not parsed');
    expect(sameObject(before.object, after.object)).toBe(true);
    expect(sameObject(before.object, borrowed.object)).toBe(false);
  });

  it('checks the owner of every address, also those it does not keep', () => {
    const hostile = { handle_id: 'a b', secondary: { node: 'minikube-m02' } };
    expect(parseObject(rawBlock({ attributes: [TUNNEL_ATTRIBUTE, hostile] }, 'b'))).toEqual(problem('IPAMBlock', 'b', 'spec.attributes[1].handle_id', /"a b"/));
  });

  it('ignores a soft-deleted block, naming its key so a store drops the old value', () => {
    expect(parseObject(rawBlock({ deleted: true }))).toEqual({ status: 'ignored', kind: 'IPAMBlock', key: '10-244-205-192-26', reason: expect.stringContaining('deleted') });
  });

  it.each([
    { name: 'bad CIDR', fields: { cidr: '10.244.205.300/26' }, field: 'spec.cidr', message: /network prefix/ },
    { name: 'CIDR with host bits', fields: { cidr: '10.244.205.193/26' }, field: 'spec.cidr', message: /no host bits/ },
    { name: 'block larger than Calico makes', fields: { cidr: '10.0.0.0/8' }, field: 'spec.cidr', message: /a \/8; an IPv4 block is \/20 to \/32/ },
    { name: 'too few allocations', fields: { allocations: allocations({ 0: 0 }, 63) }, field: 'spec.allocations', message: /has 63 entries; a \/26 block has 64 addresses/ },
    { name: 'too many allocations', fields: { allocations: allocations({ 0: 0 }, 65) }, field: 'spec.allocations', message: /has 65 entries/ },
    { name: 'attribute index out of range', fields: { allocations: allocations({ 0: 0, 3: 7 }) }, field: 'spec.allocations[3]', message: /refers to attribute 7, but spec.attributes has 2 entries/ },
    { name: 'negative attribute index', fields: { allocations: allocations({ 0: -1 }) }, field: 'spec.allocations[0]', message: /must be >= 0/ },
    { name: 'fractional attribute index', fields: { allocations: allocations({ 4: 0.5 }) }, field: 'spec.allocations[4]', message: /integer/ },
    { name: 'allocations not an array', fields: { allocations: 'all' }, field: 'spec.allocations', message: /must be an array, got "all"/ },
    { name: 'affinity of another form', fields: { affinity: 'node:minikube' }, field: 'spec.affinity', message: /"host:<node>" or "virtual:<name>"/ },
    { name: 'affinity naming a bad node', fields: { affinity: 'host:Mini Kube' }, field: 'spec.affinity', message: /"Mini Kube"/ },
    { name: 'hostile owner node', fields: { attributes: [TUNNEL_ATTRIBUTE, { handle_id: 'h', secondary: { node: 'evil;\nreboot' } }] }, field: 'spec.attributes[1].secondary.node', message: /"evil;\\nreboot"/ },
    { name: 'hostile handle', fields: { attributes: [{ ...TUNNEL_ATTRIBUTE, handle_id: 'a b' }, NGINX_ATTRIBUTE] }, field: 'spec.attributes[0].handle_id', message: /"a b"/ },
    { name: 'owner node not a string', fields: { attributes: [TUNNEL_ATTRIBUTE, { secondary: { node: 7 } }] }, field: 'spec.attributes[1].secondary.node', message: /must be a string, got 7/ },
    { name: 'deleted as text', fields: { deleted: 'true' }, field: 'spec.deleted', message: /must be a boolean/ },
  ])('rejects $name', ({ fields, field, message }) => {
    expect(parseObject(rawBlock(fields, 'b'))).toEqual(problem('IPAMBlock', 'b', field, message));
  });

  it.each([
    { name: 'an upper-case name', metadata: { name: '10-244-205-192-26-X' }, key: '"10-244-205-192-26-X"', field: 'metadata.name' },
    { name: 'a name with a newline', metadata: { name: 'a\nb' }, key: '"a\\nb"', field: 'metadata.name' },
    { name: 'no name', metadata: {}, key: '(unnamed)', field: 'metadata.name' },
    { name: 'a name too long', metadata: { name: 'a'.repeat(254) }, key: expect.stringMatching(/^"a{64}\.\.\."$/), field: 'metadata.name' },
  ])('rejects $name, filed under an escaped key', ({ metadata, key, field }) => {
    const result = parseObject({ ...rawBlock(), metadata });
    expect(result).toEqual({ status: 'invalid', kind: 'IPAMBlock', key, problem: { kind: 'IPAMBlock', name: key, field, message: expect.any(String), reason: 'invalid' } });
  });
});

describe('BlockAffinity', () => {
  const value = { name: 'minikube-m02-10-244-205-192-26', node: 'minikube-m02', cidr: '10.244.205.192/26', state: 'confirmed' };
  it.each([
    { name: 'KDD v1: deleted "false"', raw: rawAffinity(), value },
    { name: 'v3: deleted false', raw: rawAffinity({ deleted: false }, value.name, V3), value },
    { name: 'no deleted field, explicit host type', raw: rawAffinity({ deleted: undefined, type: 'host' }), value },
    { name: 'pending', raw: rawAffinity({ state: 'pending' }), value: { ...value, state: 'pending' } },
    { name: 'pendingDeletion', raw: rawAffinity({ state: 'pendingDeletion' }), value: { ...value, state: 'pendingDeletion' } },
  ])('$name', ({ raw, value: expected }) => {
    expect(parseObject(raw)).toEqual({ status: 'ok', object: { kind: 'BlockAffinity', key: expected.name, value: expected } });
  });

  it.each([
    { name: 'KDD v1 deleted "true"', spec: { deleted: 'true' }, reason: /deleted/ },
    { name: 'v3 deleted true', spec: { deleted: true }, reason: /deleted/ },
    { name: 'virtual type', spec: { type: 'virtual' }, reason: /virtual/ },
  ])('ignores $name', ({ spec, reason }) => {
    expect(parseObject(rawAffinity(spec))).toEqual({ status: 'ignored', kind: 'BlockAffinity', key: value.name, reason: expect.stringMatching(reason) });
  });

  it.each([
    { name: 'unknown state', spec: { state: 'claimed' }, field: 'spec.state', message: /"pending", "confirmed", "pendingDeletion", got "claimed"/ },
    { name: 'deleted neither true nor false', spec: { deleted: 'yes' }, field: 'spec.deleted', message: /got "yes"/ },
    { name: 'unknown type', spec: { type: 'guest' }, field: 'spec.type', message: /"host", "virtual"/ },
    { name: 'bad node', spec: { node: 'minikube m02' }, field: 'spec.node', message: /DNS-1123/ },
    { name: 'bad CIDR', spec: { cidr: '10.244.205.192' }, field: 'spec.cidr', message: /network prefix/ },
    { name: 'missing node', spec: { node: undefined }, field: 'spec.node', message: /is required/ },
  ])('rejects $name', ({ spec, field, message }) => {
    expect(parseObject(rawAffinity(spec, 'a'))).toEqual(problem('BlockAffinity', 'a', field, message));
  });
});
