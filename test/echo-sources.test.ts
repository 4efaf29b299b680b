// kernel/echo-sources.ts: nft's JSON of the watching table read into sources and counts (what
// nft 1.0.6 prints, and what must be skipped), and on the real kernel in a scratch namespace:
// the echo requests' sources are counted, IPv4 and IPv6, other traffic is not, a new watch
// starts over, and no packet is dropped by watching.
import { afterEach, describe, expect, it } from 'vitest';
import { echoSources, parseEchoSources, watchEchoSources } from '../kernel/echo-sources.js';
import { run } from '../kernel/exec.js';
import { ping } from '../lab/topology/index.js';
import { scratchNs, type ScratchNs } from './support/scratch-ns.js';

const meta = { metainfo: { version: '1.0.6', release_name: 'Lester Gooch #5', json_schema_version: 1 } };
const set = (name: string, elem?: unknown[]) => ({ set: { family: 'inet', name, table: 'wren-echo-sources', type: 'ipv4_addr', handle: 2, ...(elem ? { elem } : {}) } });
const elem = (val: unknown, packets: unknown) => ({ elem: { val, counter: { packets, bytes: 84 } } });

describe('parseEchoSources', () => {
  it.each<[string, unknown[], { address: string; packets: number }[]]>([
    ['empty sets (nothing seen)', [meta, { table: { family: 'inet', name: 'wren-echo-sources' } }, set('sources4'), set('sources6')], []],
    [
      'both families, in address order, IPv4 first',
      [meta, set('sources6', [elem('2001:db8::a', 1)]), set('sources4', [elem('172.16.30.3', 2), elem('10.244.0.1', 5)])],
      [{ address: '10.244.0.1', packets: 5 }, { address: '172.16.30.3', packets: 2 }, { address: '2001:db8::a', packets: 1 }],
    ],
    ['another set of the table', [meta, set('other', [elem('10.0.0.1', 1)])], []],
    ['an element that is not an address, or has no count', [meta, set('sources4', [elem('10.0.0.0/8', 1), elem({ range: [] }, 1), { elem: { val: '10.0.0.2' } }, '10.0.0.3'])], []],
  ])('%s', (_, items, expected) => {
    expect(parseEchoSources(JSON.stringify({ nftables: items }))).toEqual(expected);
  });
});

describe('on the real kernel', () => {
  let ns: ScratchNs | undefined;
  afterEach(async () => {
    await ns?.remove();
    ns = undefined;
  });

  it('counts echo requests by source, starts over on a new watch, and drops nothing', async () => {
    ns = await scratchNs('echo');
    await ns.ip(['addr add 198.51.100.7/32 dev lo', 'addr add 2001:db8::7/128 dev lo nodad']);
    await watchEchoSources(ns.name);
    expect(await echoSources(ns.name)).toEqual([]);
    const v4 = await ping(ns.name, '198.51.100.7', { count: 3, intervalMs: 20 });
    expect(v4.received).toBe(3);
    expect((await ping(ns.name, '2001:db8::7', { count: 2, intervalMs: 20 })).received).toBe(2);
    // Not an echo request: a UDP datagram is not counted.
    await run('ip', ['netns', 'exec', ns.name, 'bash', '-c', 'echo x > /dev/udp/198.51.100.7/9']);
    expect(await echoSources(ns.name)).toEqual([
      { address: '198.51.100.7', packets: 3 },
      { address: '2001:db8::7', packets: 2 },
    ]);
    await watchEchoSources(ns.name);
    expect(await echoSources(ns.name)).toEqual([]);
  });

  it('a namespace without the watch: a clear error naming the table', async () => {
    ns = await scratchNs('echo');
    await expect(echoSources(ns.name)).rejects.toThrow(/nft -j list table inet wren-echo-sources failed \(exit 1\)/);
  });
});
