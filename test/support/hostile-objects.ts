// Hostile input for the property tests of datastore parsers: values that are arbitrary,
// plausible (addresses, CIDRs, MACs, names) or crafted to break an `ip -batch` line or a
// prototype; and the valid raw objects of every kind with up to three fields replaced by such
// values, so that many stay valid and the checks on what parsing produces see real values.
import fc from 'fast-check';
import { AFFINITY_STATES, ENCAP_MODES } from '../../routing/cluster.js';
import { rawAffinity, rawBlock, rawCalicoNode, rawEndpoint, rawNode, rawPod, rawPool } from '../fixtures/raw-objects.js';

export const HOSTILE = [
  '', ' ', '\n', '\r\n', '\t', '\u0000', '\u2028', '\u202e', 'a b', 'a\nb', ';reboot', '$(reboot)', '`id`', '../..', 'a/b',
  '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty',
  '10.0.0.1 dev lo', '10.0.0.0/8\nip route flush all', '10.244.205.193/32 ', ' 10.244.205.193', '10.244.205.193/26', '010.244.205.193',
  '::ffff:10.0.0.1', 'fe80::1%eth0', 'host:a b', 'host:', 'virtual:', 'host:minikube\n', 'true', 'false', 'TRUE', '1e400',
  'calic440f455693 ', 'calic440f4556930', '-x', '.x', 'Always', 'Never', 'confirmed', '66:07:02:c1:cc:60\n', 'a'.repeat(300),
];

export const keyArb = fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', 'apiVersion', 'kind', 'metadata', 'spec', 'name', 'cidr'));
// Well-formed but arbitrary values, so mutated objects often stay valid and the checks on
// produced values see more than the templates' own addresses and names.
const octet = fc.integer({ min: 0, max: 255 });
export const plausible = fc.oneof(
  fc.ipV4(),
  fc.ipV6(),
  fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 33 })).map(([ip, len]) => `${ip}/${len}`),
  fc.tuple(fc.ipV6(), fc.integer({ min: 100, max: 129 })).map(([ip, len]) => `${ip}/${len}`),
  fc.array(octet, { minLength: 6, maxLength: 6 }).map((bytes) => bytes.map((b) => b.toString(16).padStart(2, '0')).join(':')),
  fc.domain(),
  fc.domain().map((d) => `host:${d}`),
  fc.constantFrom(...ENCAP_MODES, ...AFFINITY_STATES, 'host', 'virtual', 'cali0123456789a', 'tap0'),
  fc.integer({ min: 16, max: 130 }),
);

export const hostile = fc.oneof(
  plausible,
  fc.constantFrom(...HOSTILE),
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.integer(),
  fc.double(),
  fc.constantFrom(2 ** 53 + 2, 1e308, -0, Number.NaN, Number.POSITIVE_INFINITY, -1, 64, 4096),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.array(fc.oneof(fc.integer({ min: -1, max: 70 }), fc.constant(null)), { maxLength: 70 }),
  fc.anything({ withNullPrototype: true, withBigInt: true, key: keyArb, maxDepth: 2 }),
  fc.constant(JSON.parse('{"__proto__": {"polluted": true}, "node": "x"}') as unknown),
);

export const TEMPLATES: Record<string, unknown>[] = [
  rawPool(),
  rawPool({ cidr: 'fd00:10::/64', blockSize: 122, ipipMode: 'Never', vxlanMode: 'Always' }, 'v6', 'projectcalico.org/v3'),
  rawBlock(),
  rawBlock({ cidr: 'fd00:10::40/122', attributes: [{ handle_id: 'h', secondary: { node: 'n' } }, {}] }, 'v6'),
  rawAffinity(),
  rawAffinity({ deleted: false }, 'a', 'projectcalico.org/v3'),
  rawNode({ 'projectcalico.org/IPv4Address': '172.16.30.7/24', 'projectcalico.org/IPv6Address': 'fd00::7/64', 'projectcalico.org/VXLANTunnelMACAddr': '66:07:02:c1:cc:60' }),
  rawCalicoNode({ bgp: { ipv4Address: '172.16.30.7/24' }, ipv6VXLANTunnelAddr: 'fd00:10::40', vxlanTunnelMACAddrV6: '66:07:02:c1:cc:61' }),
  rawPod(),
  rawEndpoint(),
];

/** Every path into an object (array indexes included, long arrays sampled), plus fields it lacks. */
function pathsOf(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return [prefix, ...value.slice(0, 3).flatMap((item, i) => pathsOf(item, [...prefix, i]))];
  if (typeof value === 'object' && value !== null) return [prefix, ...Object.entries(value).flatMap(([k, v]) => pathsOf(v, [...prefix, k]))];
  return [prefix];
}
const EXTRA_PATHS = [['spec', 'hostNetwork'], ['status', 'phase'], ['metadata', 'namespace'], ['spec', 'type'], ['spec', 'bgp'], ['spec', 'workload'], ['apiVersion'], ['kind']];

function withValue(target: unknown, path: readonly (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head = '', ...rest] = path;
  const copy = (Array.isArray(target) ? [...(target as unknown[])] : typeof target === 'object' && target !== null ? { ...target } : {}) as Record<string | number, unknown>;
  Object.defineProperty(copy, head, { value: withValue(copy[head], rest, value), enumerable: true, writable: true, configurable: true });
  return copy;
}

export const mutated = fc
  .constantFrom(...TEMPLATES)
  .chain((template) =>
    fc
      .array(fc.record({ path: fc.constantFrom(...pathsOf(template), ...EXTRA_PATHS), value: hostile }), { minLength: 1, maxLength: 3 })
      .map((edits) => edits.reduce<unknown>((raw, edit) => withValue(raw, edit.path, edit.value), template)),
  );
