// Property tests for every parser of datastore input: whatever arrives (random values, valid
// objects with hostile fields, prototype-pollution keys), parsing never throws, and everything
// that comes out as a value is validated: it re-parses with the kernel/values parsers to itself
// and holds no whitespace or control character that could split an `ip -batch` line.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ParsedObject, ParseResult } from '../calico/objects/api.js';
import { parseEtcdKv } from '../calico/objects/etcd-kv.js';
import { BLOCK_SIZE } from '../calico/objects/ippool.js';
import { isHandle, isNamespace, isObjectName } from '../calico/objects/names.js';
import { parseObject } from '../calico/objects/parse-object.js';
import { parseSnapshotText } from '../calico/objects/snapshot-file.js';
import { renderSnapshotFile } from '../calico/objects/snapshot-render.js';
import { addressOf, cidrContains, cidrSize, familyOf, parseCidr, parseIfaceName, parseIp, parseMac, prefixLength } from '../kernel/values.js';
import { AFFINITY_STATES, ENCAP_MODES, type ClusterSnapshot } from '../routing/cluster.js';
import { blockFields } from './fixtures/raw-objects.js';
import { HOSTILE, hostile, keyArb, mutated, TEMPLATES } from './support/hostile-objects.js';

const UNSAFE = /[\s\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e]/u;

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(strings);
  return [];
}

function expectValidated(object: ParsedObject): void {
  for (const text of [object.key, ...strings(object.value)]) expect(text).not.toMatch(UNSAFE);
  const canonical = (text: string, parse: (t: string) => string | undefined) => expect(parse(text)).toBe(text);
  const name = (text: string | undefined) => text === undefined || expect(isObjectName(text)).toBe(true);
  switch (object.kind) {
    case 'IPPool': {
      const { value } = object;
      name(value.name);
      canonical(value.cidr, parseCidr);
      const range = BLOCK_SIZE[familyOf(value.cidr)];
      expect(value.blockSize).toBeGreaterThanOrEqual(Math.max(range.min, prefixLength(value.cidr)));
      expect(value.blockSize).toBeLessThanOrEqual(range.max);
      expect(ENCAP_MODES).toContain(value.ipipMode);
      expect(ENCAP_MODES).toContain(value.vxlanMode);
      expect(value.ipipMode === 'Never' || value.vxlanMode === 'Never').toBe(true);
      return;
    }
    case 'IPAMBlock': {
      const { value } = object;
      canonical(value.cidr, parseCidr);
      expect(cidrSize(value.cidr)).toBeLessThanOrEqual(4096n);
      name(value.affinityNode);
      for (const allocation of value.allocations) {
        canonical(allocation.ip, parseIp);
        expect(cidrContains(value.cidr, allocation.ip)).toBe(true);
        name(allocation.node);
        if (allocation.handle !== undefined) expect(isHandle(allocation.handle)).toBe(true);
      }
      return;
    }
    case 'BlockAffinity':
      name(object.value.node);
      canonical(object.value.cidr, parseCidr);
      expect(AFFINITY_STATES).toContain(object.value.state);
      return;
    case 'Node': {
      const { value } = object;
      name(value.name);
      for (const [address, family] of [[value.ipv4, 4], [value.ipv6, 6]] as const) {
        if (address === undefined) continue;
        canonical(address.cidr, (t) => parseCidr(t, false));
        expect(addressOf(address.cidr)).toBe(address.ip);
        expect(familyOf(address.ip)).toBe(family);
      }
      for (const [ip, family] of [[value.ipipTunnelAddr, 4], [value.vxlanTunnelAddr, 4], [value.vxlanTunnelAddrV6, 6]] as const) {
        if (ip === undefined) continue;
        canonical(ip, parseIp);
        expect(familyOf(ip)).toBe(family);
      }
      for (const mac of [value.vxlanMac, value.vxlanMacV6]) if (mac !== undefined) canonical(mac, parseMac);
      return;
    }
    case 'Workload': {
      const { value } = object;
      expect(isNamespace(value.namespace)).toBe(true);
      name(value.name);
      name(value.node);
      canonical(value.iface, parseIfaceName);
      expect(value.ips.length).toBeGreaterThan(0);
      for (const ip of value.ips) canonical(ip, parseIp);
      return;
    }
  }
}

/** Problems and reasons go to logs and terminals: printable ASCII only, hostile text escaped. */
const CONTROL = /[^\x20-\x7e]/;

function expectWellFormed(result: ParseResult): void {
  if (result.status === 'ok') {
    expectValidated(result.object);
    for (const problem of result.problems ?? []) for (const text of strings(problem)) expect(text).not.toMatch(CONTROL);
  } else if (result.status === 'invalid') {
    for (const text of [result.key, ...strings(result.problem)]) expect(text).not.toMatch(CONTROL);
  } else {
    expect(result.reason).not.toMatch(CONTROL);
  }
}

function expectNoPollution(): void {
  expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
}

describe('parseObject, whatever it is given', () => {
  it('never throws on arbitrary values', () => {
    fc.assert(
      fc.property(fc.oneof(hostile, fc.anything({ withNullPrototype: true, withBigInt: true, withSparseArray: true, key: keyArb })), (raw) => {
        expectWellFormed(parseObject(raw));
      }),
      { numRuns: 2000 },
    );
    expectNoPollution();
  });

  it('never throws on valid objects with hostile fields, and every value it produces is validated', () => {
    let ok = 0;
    fc.assert(
      fc.property(mutated, (raw) => {
        const result = parseObject(raw);
        expectWellFormed(result);
        if (result.status === 'ok') ok += 1;
      }),
      { numRuns: 3000 },
    );
    expectNoPollution();
    // The property must see values, not only rejections, or it proves nothing about them.
    expect(ok).toBeGreaterThan(100);
  });

  it('produces validated values from every unmodified template', () => {
    for (const template of TEMPLATES) {
      const result = parseObject(template);
      expect(result.status).toBe('ok');
      expectWellFormed(result);
    }
  });
});

describe('parseEtcdKv, whatever it is given', () => {
  const PREFIXES = [
    '/calico/ipam/v2/assignment/ipv4/block/',
    '/calico/ipam/v2/assignment/ipv6/block/',
    '/calico/ipam/v2/host/',
    '/calico/resources/v3/projectcalico.org/nodes/',
    '/calico/resources/v3/projectcalico.org/ippools/',
    '/calico/resources/v3/projectcalico.org/workloadendpoints/default/',
    '/calico/resources/v3/projectcalico.org/workloadendpoints/',
  ];
  const segment = fc.oneof(fc.constantFrom(...HOSTILE, '10.244.205.192-26', 'fd00:10::40-122', 'minikube-m02/ipv4/block/10.244.205.192-26'), fc.string());
  const key = fc.oneof(fc.tuple(fc.constantFrom(...PREFIXES), segment).map(([p, s]) => p + s), fc.string());
  const json = (value: unknown) => {
    try {
      return JSON.stringify(value) ?? 'null';
    } catch {
      return 'null'; // BigInt, which JSON cannot carry anyway
    }
  };
  const value = fc.oneof(fc.string(), fc.json(), mutated.map(json), fc.constant(json(blockFields())), fc.constant('{"state":"confirmed","deleted":false}'), fc.constant(''));

  it('never throws, and every value it produces is validated', () => {
    fc.assert(
      fc.property(key, value, (k, v) => {
        expectWellFormed(parseEtcdKv(k, v));
      }),
      { numRuns: 3000 },
    );
    expectNoPollution();
  });
});

describe('snapshot files, whatever they hold', () => {
  it('load or fail with one clear error; never anything else', () => {
    const text = fc.oneof(fc.string(), fc.array(mutated, { maxLength: 6 }).map((items) => renderList(items)));
    fc.assert(
      fc.property(text, (t) => {
        try {
          const parsed = parseSnapshotText(t);
          for (const values of Object.values(parsed.snapshot)) for (const v of values as unknown[]) for (const s of strings(v)) expect(s).not.toMatch(UNSAFE);
        } catch (error) {
          expect(error).toBeInstanceOf(Error);
          // A file that cannot be read as objects, or cannot be a whole cluster (cluster-wholeness.ts).
          expect((error as Error).message).toMatch(/^(snapshot |refused, nothing changed: )/);
        }
      }),
      { numRuns: 500 },
    );
    expectNoPollution();
  });

  it('render → parse gives back the same snapshot', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(mutated, fc.constantFrom(...TEMPLATES)), { maxLength: 8 }), (items) => {
        const { snapshot } = parseSnapshotText(JSON.stringify(items.filter(serialisable)));
        fc.pre(uniqueWorkloads(snapshot));
        expect(parseSnapshotText(renderSnapshotFile(snapshot))).toEqual({ snapshot, problems: [], ignored: 0 });
      }),
      { numRuns: 300 },
    );
  });
});

function serialisable(item: unknown): boolean {
  try {
    JSON.stringify(item);
    return true;
  } catch {
    return false;
  }
}

function renderList(items: unknown[]): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items: items.filter(serialisable) });
}

/** A Pod and an endpoint for the same pod are one workload twice; a file holds each once. */
function uniqueWorkloads(snapshot: ClusterSnapshot): boolean {
  const ids = snapshot.workloads.map((w) => `${w.namespace}/${w.name}/${w.node}`);
  return new Set(ids).size === ids.length;
}
