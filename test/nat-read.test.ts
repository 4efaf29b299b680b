// nft's JSON read into plain data (kernel/nat/nat-read.ts) and `nft -j monitor` lines into
// events (kernel/nat/nat-monitor.ts), table-driven over the shapes nft 1.0.6 prints: wren's own
// table, and the ways a hand can change it. Whether the real nft prints these is
// nat-kernel.test.ts's question.
import { describe, expect, it } from 'vitest';
import { parseNatMonitorLine } from '../kernel/nat/nat-monitor.js';
import { NatReadError, parseNatTable } from '../kernel/nat/nat-read.js';
import { nftUnsupported, NO_NFT } from '../kernel/nat/nft.js';

type Item = Record<string, unknown>;
const META = { metainfo: { version: '1.0.6', release_name: 'Lester Gooch #5', json_schema_version: 1 } };
const table = (family = 'ip') => ({ table: { family, name: 'wren-nat', handle: 2 } });
const set = (name: string, elem: unknown[] | undefined, type = 'ipv4_addr', flags: unknown = ['interval']) => ({ set: { family: 'ip', name, table: 'wren-nat', type, handle: 3, flags, ...(elem === undefined ? {} : { elem }) } });
const prefix = (addr: string, len: number) => ({ prefix: { addr, len } });
const chain = (extra: Item = {}) => ({ chain: { family: 'ip', table: 'wren-nat', name: 'postrouting', handle: 1, type: 'nat', hook: 'postrouting', prio: 100, policy: 'accept', ...extra } });
const match = (field: string, op: string, right: string, protocol = 'ip') => ({ match: { op, left: { payload: { protocol, field } }, right } });
const WREN_EXPR = [match('saddr', '==', '@masq-pools'), match('daddr', '!=', '@all-pools'), { counter: { packets: 7, bytes: 588 } }, { masquerade: { flags: 'fully-random' } }];
const rule = (expr: unknown[] = WREN_EXPR, handle = 4) => ({ rule: { family: 'ip', table: 'wren-nat', chain: 'postrouting', handle, expr } });
const json = (...items: Item[]) => JSON.stringify({ nftables: [META, ...items] });
const wrens = (over: { masq?: Item; all?: Item; chain?: Item; rules?: Item[]; more?: Item[] } = {}) =>
  json(table(), over.masq ?? set('masq-pools', [prefix('10.244.0.0', 16)]), over.all ?? set('all-pools', [prefix('10.244.0.0', 16), '10.250.0.7']), over.chain ?? chain(), ...(over.rules ?? [rule()]), ...(over.more ?? []));

describe('nft -j list table → the table as data', () => {
  it.each([
    { name: "wren's own table (counter values and a host element as nft prints them)", text: wrens(), read: { family: 4, masquerade: ['10.244.0.0/16'], pools: ['10.244.0.0/16', '10.250.0.7/32'] } },
    { name: 'empty sets: no "elem" at all', text: wrens({ masq: set('masq-pools', undefined), all: set('all-pools', undefined) }), read: { family: 4, masquerade: [], pools: [] } },
    { name: 'masquerade flags as a list (another nft\'s form)', text: wrens({ rules: [rule([WREN_EXPR[0], WREN_EXPR[1], { masquerade: { flags: ['fully-random'] } }])] }), read: { family: 4, masquerade: ['10.244.0.0/16'], pools: ['10.244.0.0/16', '10.250.0.7/32'] } },
    { name: 'a set of another type: that set unreadable', text: wrens({ masq: set('masq-pools', [], 'ipv6_addr') }), read: { family: 4, masquerade: undefined, pools: ['10.244.0.0/16', '10.250.0.7/32'] } },
    { name: 'a set without the interval flag', text: wrens({ all: set('all-pools', ['10.244.0.1'], 'ipv4_addr', []) }), read: { family: 4, masquerade: ['10.244.0.0/16'], pools: undefined } },
    { name: 'an element that is a range', text: wrens({ all: set('all-pools', [{ range: ['10.0.0.1', '10.0.0.9'] }]) }), read: { family: 4, masquerade: ['10.244.0.0/16'], pools: undefined } },
    { name: 'an element with a hostile address', text: wrens({ all: set('all-pools', [prefix('10.0.0.0/8 }; flush ruleset; {', 8)]) }), read: { family: 4, masquerade: ['10.244.0.0/16'], pools: undefined } },
    { name: 'the elements out of order: read in address order', text: wrens({ all: set('all-pools', [prefix('10.245.0.0', 16), prefix('10.3.0.0', 16)]) }), read: { family: 4, masquerade: ['10.244.0.0/16'], pools: ['10.3.0.0/16', '10.245.0.0/16'] } },
  ])('$name', ({ text, read }) => {
    expect(parseNatTable(text, 4)).toEqual(read);
  });

  it.each([
    { name: 'the rule deleted by hand', text: wrens({ rules: [] }), why: 'chain postrouting holds 0 rules' },
    { name: 'a second rule added by hand', text: wrens({ rules: [rule(), rule([{ accept: null }], 9)] }), why: 'chain postrouting holds 2 rules' },
    { name: 'the rule changed to snat', text: wrens({ rules: [rule([WREN_EXPR[0], { snat: { addr: '1.2.3.4' } }])] }), why: 'chain postrouting holds another rule: ip saddr @masq-pools {"snat":{"addr":"1.2.3.4"}}' },
    { name: 'the exclusion turned around', text: wrens({ rules: [rule([match('saddr', '==', '@masq-pools'), match('daddr', '==', '@all-pools'), { masquerade: null }])] }), why: 'chain postrouting holds another rule: ip saddr @masq-pools ip daddr @all-pools masquerade' },
    { name: 'the chain at another priority', text: wrens({ chain: chain({ prio: -100 }) }), why: 'chain postrouting is missing or not a nat postrouting chain at priority 100' },
    { name: 'the chain\'s policy drop', text: wrens({ chain: chain({ policy: 'drop' }) }), why: 'chain postrouting is missing or not a nat postrouting chain at priority 100' },
    { name: 'a chain added by hand', text: wrens({ more: [{ chain: { family: 'ip', table: 'wren-nat', name: 'extra', handle: 7 } }] }), why: 'it holds what wren did not write: chain extra' },
    { name: 'a set added by hand', text: wrens({ more: [set('mine', [])] }), why: 'it holds what wren did not write: set mine' },
  ])('$name: misshapen, rewritten whole', ({ text, why }) => {
    expect(parseNatTable(text, 4).misshapen).toBe(why);
  });

  it('an IPv6 table reads its own family', () => {
    const text = JSON.stringify({
      nftables: [META, table('ip6'), { set: { family: 'ip6', name: 'masq-pools', table: 'wren-nat', type: 'ipv6_addr', handle: 2, flags: ['interval'], elem: [prefix('fd00:10::', 64)] } }, { set: { family: 'ip6', name: 'all-pools', table: 'wren-nat', type: 'ipv6_addr', handle: 3, flags: ['interval'], elem: [prefix('fd00:10::', 64), 'FD00:0:0:0::1'] } }, chain({ family: 'ip6' }), rule([match('saddr', '==', '@masq-pools', 'ip6'), match('daddr', '!=', '@all-pools', 'ip6'), { counter: { packets: 0, bytes: 0 } }, { masquerade: { flags: 'fully-random' } }])],
    });
    expect(parseNatTable(text, 6)).toEqual({ family: 6, masquerade: ['fd00:10::/64'], pools: ['fd00::1/128', 'fd00:10::/64'] });
  });

  it.each(['', 'Error: something', '{"tables": []}'])('output that is not nft\'s JSON (%j) is an error, never an empty table', (text) => {
    expect(() => parseNatTable(text, 4)).toThrow(NatReadError);
  });
});

describe('nft failures that mean no NAT can be had here', () => {
  it.each([
    { name: 'no nft binary (spawn)', result: { exitCode: 127, stdout: '', stderr: NO_NFT }, reason: /nft is not installed/ },
    { name: 'no nft binary (ip netns exec)', result: { exitCode: 255, stdout: '', stderr: 'exec of "nft" failed: No such file or directory\n' }, reason: /nft is not installed/ },
    { name: 'no nf_tables in the kernel', result: { exitCode: 1, stdout: '', stderr: 'netlink: Error: cache initialization failed: Protocol not supported\n' }, reason: /kernel has no nf_tables.*Protocol not supported/ },
    { name: 'a table that is not there is not that', result: { exitCode: 1, stdout: '', stderr: 'Error: No such file or directory\nlist table ip wren-nat\n' }, reason: undefined },
    { name: 'success is not that', result: { exitCode: 0, stdout: '{}', stderr: '' }, reason: undefined },
  ])('$name', ({ result, reason }) => {
    const said = nftUnsupported(result);
    if (reason === undefined) expect(said).toBeUndefined();
    else expect(said).toMatch(reason);
  });
});

describe('nft -j monitor lines → events', () => {
  it.each([
    { name: 'wren\'s table deleted', line: '{"delete": {"table": {"family": "ip", "name": "wren-nat", "handle": 3}}}', event: { kind: 'nat', family: 4 } },
    { name: 'an element of wren\'s ip6 set deleted', line: '{"delete": {"element": {"family": "ip6", "table": "wren-nat", "name": "masq-pools", "elem": {"set": [{"prefix": {"addr": "fd00:10::", "len": 64}}]}}}}', event: { kind: 'nat', family: 6 } },
    { name: 'a rule added to wren\'s chain', line: '{"add": {"rule": {"family": "ip", "table": "wren-nat", "chain": "postrouting", "handle": 9, "expr": []}}}', event: { kind: 'nat', family: 4 } },
    { name: 'the whole ruleset flushed', line: '{"flush": {"ruleset": null}}', event: { kind: 'nat' } },
    { name: 'kube-proxy\'s table: ignored', line: '{"add": {"rule": {"family": "ip", "table": "kube-proxy", "chain": "services", "handle": 5, "expr": []}}}', event: { kind: 'ignored' } },
    { name: 'a table named wren-nat of family inet (not wren\'s): ignored', line: '{"add": {"table": {"family": "inet", "name": "wren-nat", "handle": 9}}}', event: { kind: 'ignored' } },
    { name: 'an empty line: ignored', line: '', event: { kind: 'ignored' } },
    { name: 'text nft never prints in -j: unreadable (re-read)', line: 'delete table ip wren-nat', event: { kind: 'unreadable', line: 'delete table ip wren-nat' } },
  ])('$name', ({ line, event }) => {
    expect(parseNatMonitorLine(line)).toEqual(event);
  });
});
