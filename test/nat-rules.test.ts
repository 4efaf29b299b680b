// natOutgoing, pure: admitted pools → the NAT tables wanted (routing/nat.ts), hostile pools
// through the meaning checks (a refused pool gets no rule), the tables as the nft commands that
// write them (kernel/nat/nat-render.ts), and wanted against read → the operations
// (kernel/nat/nat-diff.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { natTableOps } from '../kernel/nat/nat-diff.js';
import { renderNatOp, type NatOp } from '../kernel/nat/nat-render.js';
import type { NatTable, NatTableRead } from '../kernel/nat/nat-state.js';
import { addressOf, cidrContains, cidrsOverlap, type Cidr } from '../kernel/values.js';
import type { IpPool } from '../routing/cluster.js';
import { desiredNat, disjointCover } from '../routing/nat.js';
import { plan, validCluster } from './support/hostile-cluster.js';

const c = (s: string) => s as Cidr;
const pool = (name: string, cidr: string, extra: Partial<IpPool> = {}): IpPool => ({ name, cidr: c(cidr), blockSize: cidr.includes(':') ? 122 : 26, ipipMode: 'Never', vxlanMode: 'Always', disabled: false, ...extra });
const nat = { natOutgoing: true };

describe('admitted pools → the NAT tables wanted', () => {
  it.each([
    { name: 'no pool has natOutgoing: no table', pools: [pool('a', '10.244.0.0/16')], tables: [] },
    { name: 'no pools at all: no table', pools: [], tables: [] },
    { name: 'one natOutgoing pool', pools: [pool('a', '10.244.0.0/16', nat)], tables: [{ family: 4, masquerade: ['10.244.0.0/16'], pools: ['10.244.0.0/16'] }] },
    {
      name: 'a pool without natOutgoing is never masqueraded to, nor from',
      pools: [pool('b', '10.245.0.0/16'), pool('a', '10.244.0.0/16', nat)],
      tables: [{ family: 4, masquerade: ['10.244.0.0/16'], pools: ['10.244.0.0/16', '10.245.0.0/16'] }],
    },
    {
      name: 'disabled pools count, as Felix counts them: masqueraded from if natOutgoing, never to',
      pools: [pool('a', '10.244.0.0/16', { ...nat, disabled: true }), pool('b', '10.245.0.0/16', { disabled: true }), pool('c', '10.246.0.0/16')],
      tables: [{ family: 4, masquerade: ['10.244.0.0/16'], pools: ['10.244.0.0/16', '10.245.0.0/16', '10.246.0.0/16'] }],
    },
    {
      name: 'IPv6 alone: an ip6 table, and none for IPv4',
      pools: [pool('v4', '10.244.0.0/16'), pool('v6', 'fd00:10::/64', nat)],
      tables: [{ family: 6, masquerade: ['fd00:10::/64'], pools: ['fd00:10::/64'] }],
    },
    {
      name: 'both families: each table holds its own family\'s pools only',
      pools: [pool('v6', 'fd00:10::/64', nat), pool('v4', '10.244.0.0/16', nat), pool('v6b', 'fd00:20::/64')],
      tables: [
        { family: 4, masquerade: ['10.244.0.0/16'], pools: ['10.244.0.0/16'] },
        { family: 6, masquerade: ['fd00:10::/64'], pools: ['fd00:10::/64', 'fd00:20::/64'] },
      ],
    },
    {
      name: 'nested pools (admission refuses the newer; here given anyway): one interval each, nft refuses overlaps',
      pools: [pool('inner', '10.244.1.0/24', nat), pool('outer', '10.244.0.0/16', nat), pool('dup', '10.244.0.0/16', nat)],
      tables: [{ family: 4, masquerade: ['10.244.0.0/16'], pools: ['10.244.0.0/16'] }],
    },
    {
      name: 'adjacent pools stay two intervals, in address order',
      pools: [pool('hi', '10.244.128.0/17', nat), pool('lo', '10.244.0.0/17', nat)],
      tables: [{ family: 4, masquerade: ['10.244.0.0/17', '10.244.128.0/17'], pools: ['10.244.0.0/17', '10.244.128.0/17'] }],
    },
  ])('$name', ({ pools, tables }) => {
    expect(desiredNat(pools).tables).toEqual(tables);
  });

  it('a disjoint cover holds exactly the addresses given, and no two of its prefixes overlap (any prefixes)', () => {
    const prefix = fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 8, max: 32 })).map(([n, len]) => {
      const masked = len === 0 ? 0 : (n >>> (32 - len)) << (32 - len);
      return c(`${masked >>> 24}.${(masked >>> 16) & 255}.${(masked >>> 8) & 255}.${masked & 255}/${len}`);
    });
    fc.assert(
      fc.property(fc.array(prefix, { maxLength: 12 }), fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 20 }), (cidrs, probes) => {
        const cover = disjointCover(cidrs);
        for (const [i, a] of cover.entries()) for (const b of cover.slice(i + 1)) expect(cidrsOverlap(a, b)).toBe(false);
        for (const n of [...probes, ...cidrs.map((x) => Number(addressOf(x).split('.').reduce((v, o) => v * 256 + Number(o), 0)))]) {
          const ip = `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}` as ReturnType<typeof addressOf>;
          expect(cover.some((x) => cidrContains(x, ip))).toBe(cidrs.some((x) => cidrContains(x, ip)));
        }
      }),
    );
  });
});

describe('hostile pools through the meaning checks: a refused pool gets no NAT rule', () => {
  const valid = validCluster();
  const withPools = (...pools: IpPool[]) => plan({ ...valid, pools: [...valid.pools.map((p) => ({ ...p, natOutgoing: true })), ...pools] });
  const ours = { family: 4, masquerade: ['10.244.0.0/16'], pools: ['10.244.0.0/16'] };

  it.each([
    { name: 'a /0 pool (it covers the gateway)', hostile: pool('all', '0.0.0.0/0', nat) },
    { name: 'a /1 pool', hostile: pool('half', '0.0.0.0/1', nat) },
    { name: 'a pool over the node\'s own subnet', hostile: pool('under', '172.16.0.0/16', nat) },
    { name: 'a pool over loopback', hostile: pool('lo', '127.0.0.0/8', nat) },
    { name: 'a pool over the service CIDR (--forbidden-cidrs)', hostile: pool('svc', '10.96.0.0/16', nat) },
    { name: 'a newer pool overlapping the default pool', hostile: pool('newer', '10.244.0.0/20', { ...nat, created: '2030-01-01T00:00:00.000Z' }) },
    { name: 'a /0 pool without natOutgoing (it would exclude every destination)', hostile: pool('all', '0.0.0.0/0') },
    { name: 'an IPv6 ::/0 pool', hostile: pool('all6', '::/0', nat) },
  ])('$name: refused, and in neither set', ({ hostile }) => {
    const desired = withPools(hostile);
    expect(desired.problems).toContainEqual(expect.objectContaining({ kind: 'IPPool', name: hostile.name, field: 'spec.cidr' }));
    expect(desired.nat.tables).toEqual([ours]);
  });

  it('an admitted IPv6 pool beside them gets its own table', () => {
    expect(withPools(pool('v6', 'fd00:10::/64', nat)).nat.tables).toEqual([ours, { family: 6, masquerade: ['fd00:10::/64'], pools: ['fd00:10::/64'] }]);
  });
});

const V4: NatTable = { family: 4, masquerade: [c('10.244.0.0/16')], pools: [c('10.244.0.0/16'), c('10.245.0.0/16')] };
const V6: NatTable = { family: 6, masquerade: [c('fd00:10::/64')], pools: [c('fd00:10::/64')] };

describe('the nft commands', () => {
  it.each<{ name: string; op: NatOp; lines: string[] }>([
    {
      name: 'a table created: sets, their prefixes, the chain and the one rule',
      op: { op: 'nat-replace', table: V4, fresh: true, reason: 'missing' },
      lines: [
        'add table ip wren-nat',
        'add set ip wren-nat masq-pools { type ipv4_addr; flags interval; }',
        'add set ip wren-nat all-pools { type ipv4_addr; flags interval; }',
        'add element ip wren-nat masq-pools { 10.244.0.0/16 }',
        'add element ip wren-nat all-pools { 10.244.0.0/16, 10.245.0.0/16 }',
        'add chain ip wren-nat postrouting { type nat hook postrouting priority 100; policy accept; }',
        'add rule ip wren-nat postrouting ip saddr @masq-pools ip daddr != @all-pools counter masquerade fully-random',
      ],
    },
    {
      name: 'a misshapen table rewritten: emptied by delete first, in the same transaction',
      op: { op: 'nat-replace', table: V6, fresh: false, reason: 'chain postrouting holds 2 rules' },
      lines: [
        'add table ip6 wren-nat',
        'delete table ip6 wren-nat',
        'add table ip6 wren-nat',
        'add set ip6 wren-nat masq-pools { type ipv6_addr; flags interval; }',
        'add set ip6 wren-nat all-pools { type ipv6_addr; flags interval; }',
        'add element ip6 wren-nat masq-pools { fd00:10::/64 }',
        'add element ip6 wren-nat all-pools { fd00:10::/64 }',
        'add chain ip6 wren-nat postrouting { type nat hook postrouting priority 100; policy accept; }',
        'add rule ip6 wren-nat postrouting ip6 saddr @masq-pools ip6 daddr != @all-pools counter masquerade fully-random',
      ],
    },
    { name: 'a pool change: a set update, not a rule rewrite', op: { op: 'nat-set', family: 4, set: 'all-pools', cidrs: V4.pools }, lines: ['flush set ip wren-nat all-pools', 'add element ip wren-nat all-pools { 10.244.0.0/16, 10.245.0.0/16 }'] },
    { name: 'a set emptied: a flush alone (`{ }` is no element list)', op: { op: 'nat-set', family: 4, set: 'masq-pools', cidrs: [] }, lines: ['flush set ip wren-nat masq-pools'] },
    { name: 'no pool needs it: wren\'s table, and only it, goes', op: { op: 'nat-delete', family: 6 }, lines: ['delete table ip6 wren-nat'] },
  ])('$name', ({ op, lines }) => {
    expect(renderNatOp(op)).toEqual(lines);
  });
});

describe('wanted against read → operations', () => {
  const read = (t: NatTable, change: Partial<NatTableRead> = {}): NatTableRead => ({ family: t.family, masquerade: t.masquerade, pools: t.pools, ...change });
  it.each<{ name: string; wanted: NatTable | undefined; read: NatTableRead | undefined; ops: NatOp[] }>([
    { name: 'as wanted: nothing', wanted: V4, read: read(V4), ops: [] },
    { name: 'neither wanted nor there: nothing', wanted: undefined, read: undefined, ops: [] },
    { name: 'missing: created', wanted: V4, read: undefined, ops: [{ op: 'nat-replace', table: V4, fresh: true, reason: 'missing' }] },
    { name: 'no longer wanted: deleted', wanted: undefined, read: read(V6), ops: [{ op: 'nat-delete', family: 6 }] },
    { name: 'an element deleted by hand: that set written again', wanted: V4, read: read(V4, { masquerade: [] }), ops: [{ op: 'nat-set', family: 4, set: 'masq-pools', cidrs: V4.masquerade }] },
    {
      name: 'a pool added: both sets, nothing else',
      wanted: V4,
      read: read(V4, { masquerade: [], pools: [c('10.244.0.0/16')] }),
      ops: [
        { op: 'nat-set', family: 4, set: 'masq-pools', cidrs: V4.masquerade },
        { op: 'nat-set', family: 4, set: 'all-pools', cidrs: V4.pools },
      ],
    },
    { name: 'a set missing or of another type: rewritten whole', wanted: V4, read: read(V4, { pools: undefined }), ops: [{ op: 'nat-replace', table: V4, fresh: false, reason: 'a set is missing or not an interval set of addresses' }] },
    { name: 'a rule added by hand: rewritten whole', wanted: V4, read: read(V4, { misshapen: 'chain postrouting holds 2 rules' }), ops: [{ op: 'nat-replace', table: V4, fresh: false, reason: 'chain postrouting holds 2 rules' }] },
  ])('$name', ({ wanted, read: actual, ops }) => {
    expect(natTableOps(wanted, actual)).toEqual(ops);
  });
});
