// `ip monitor` route lines → route events: on lines the kernel really prints (checked against the
// JSON reader on the same routes), and on the lines the parser must refuse rather than guess.
import { afterEach, describe, expect, it } from 'vitest';
import { IpKernel } from '../kernel/kernel.js';
import { startMonitor } from '../kernel/monitor.js';
import { parseRouteEvent } from '../kernel/monitor-route.js';
import { MAIN_TABLE, routeKey, sameRoute, type Route } from '../kernel/state.js';
import { scratchNs, type ScratchNs } from './support/scratch-ns.js';
import { until } from './support/until.js';

let ns: ScratchNs | undefined;
afterEach(async () => {
  await ns?.remove();
  ns = undefined;
});

describe('ip monitor route lines', () => {
  it.each([
    {
      line: '[ROUTE]10.0.0.0/26 via 100.64.0.1 dev v0 proto 199 onlink ',
      want: { deleted: false, text: '10.0.0.0/26 via 100.64.0.1 dev v0 proto 199 onlink ', route: { dst: '10.0.0.0/26', table: 254, metric: 0, type: 'unicast', dev: 'v0', via: '100.64.0.1', onlink: true, scope: 'global', proto: 199 } },
    },
    {
      line: '[ROUTE]6 10.1.0.0/26 proto 199 ',
      want: { deleted: false, route: { dst: '10.1.0.0/26', type: 'blackhole', dev: undefined, proto: 199 } },
    },
    {
      line: '[ROUTE]Deleted 10.244.0.5 dev cali12345678901 table 100 proto 3 scope 253 ',
      want: { deleted: true, text: '10.244.0.5 dev cali12345678901 table 100 proto 3 scope 253 ', route: { dst: '10.244.0.5/32', table: 100, dev: 'cali12345678901', scope: 'link', proto: 3 } },
    },
    {
      line: '[ROUTE]fd00::/122 via fe80::1 dev v0 proto 199 metric 1024 pref medium',
      want: { deleted: false, route: { dst: 'fd00::/122', metric: 1024, via: 'fe80::1', dev: 'v0' } },
    },
    { line: '[ROUTE]10.0.0.0/26 via inet6 fe80::1 dev v0 proto 199', want: { route: { via: 'fe80::1' } } },
    { line: '[ROUTE]Deleted 5 ff00::/8 dev v1 table 255 proto 2 metric 256 pref medium', want: { deleted: true, route: { type: 'other', table: 255 } } },
  ])('reads $line', ({ line, want }) => {
    expect(parseRouteEvent(line)).toMatchObject(want);
  });

  it.each([
    { why: 'the default route', line: '[ROUTE]default via 172.16.0.1 dev eth0 proto 3' },
    { why: 'a multipath route', line: '[ROUTE]10.0.0.0/24 proto 199 nexthop via 172.16.0.2 dev eth0 weight 1 nexthop via 172.16.0.3 dev eth0 weight 1' },
    { why: 'an unknown word', line: '[ROUTE]10.0.0.0/24 dev eth0 proto 199 frobnicate' },
    { why: 'a device name iproute2 would never print', line: '[ROUTE]10.0.0.0/24 dev eth0;reboot proto 199' },
    { why: 'a garbled destination', line: '[ROUTE]10.0.0.0/99 dev eth0 proto 199' },
    { why: 'a non-numeric protocol', line: '[ROUTE]10.0.0.0/24 dev eth0 proto bird' },
  ])('refuses $why', ({ line }) => {
    expect(parseRouteEvent(line)).toBeUndefined();
  });

  it('agrees with the JSON reader on what the kernel reports for every route shape wren writes', async () => {
    ns = await scratchNs('monroute');
    const lines: string[] = [];
    const monitor = startMonitor(ns.name, { table: MAIN_TABLE, neighborDevices: [] }, (line) => lines.push(line), () => undefined);
    try {
      await ns.ip(['link add cali0123456789a type veth peer name p0123456789a', 'link set cali0123456789a up', 'link set p0123456789a up']);
      await new Promise((r) => setTimeout(r, 150)); // the monitor is listening
      await ns.ip([
        'route replace 10.244.1.0/26 via 172.16.30.7 dev eth0 proto 199 onlink',
        'route replace blackhole 10.244.2.0/26 proto 199',
        'route replace 10.244.2.5 dev cali0123456789a proto 199 scope link',
        'route replace blackhole fd00:10::/122 proto 199',
        'route replace fd00:20::/122 via fd00::7 dev eth0 proto 199 onlink',
        'route replace 10.244.3.0/26 dev eth0 proto 199 metric 20',
      ]);
      const read = (await new IpKernel(ns.name).readRoutes(MAIN_TABLE)).filter((r) => r.proto === 199);
      expect(read).toHaveLength(6);
      const events = () => lines.map(parseRouteEvent).filter((e) => e !== undefined && e.route.proto === 199);
      await until(() => events().length >= 6, 5000, 'six route events');
      const byKey = new Map<string, Route>(events().map((e) => [routeKey(e!.route), e!.route]));
      for (const route of read) expect(sameRoute(byKey.get(routeKey(route)) as Route, route), `${route.dst}`).toBe(true);
      await ns.ip(['route del 10.244.1.0/26']);
      await until(() => lines.some((l) => parseRouteEvent(l)?.deleted === true && parseRouteEvent(l)?.route.dst === '10.244.1.0/26'), 5000, 'the delete event');
    } finally {
      monitor.stop();
    }
  });
});
