// `ip monitor` lines → typed kernel events (kernel/monitor-events.ts), as the kernel really
// prints them: a deleted permanent neighbour shows only as FAILED, an FDB entry with the remote
// node's IP and NOARP, a multipath route is a line wren does not read.
import { describe, expect, it } from 'vitest';
import { parseMonitorLine, type KernelEvent } from '../kernel/monitor-events.js';
import type { Cidr, IfaceName, IpAddr } from '../kernel/values.js';

describe('parseMonitorLine', () => {
  it.each<{ line: string; want: KernelEvent }>([
    {
      line: '[NEIGH]10.244.1.0 dev vxlan.calico lladdr 66:aa:bb:cc:dd:ee PERMANENT ',
      want: { kind: 'neighbor', entry: { ip: '10.244.1.0', dev: 'vxlan.calico', mac: '66:aa:bb:cc:dd:ee', fdb: false, deleted: false, permanent: true } },
    },
    {
      line: '[NEIGH]172.16.0.9 dev vxlan.calico lladdr 66:aa:bb:cc:dd:ee NOARP PERMANENT ',
      want: { kind: 'neighbor', entry: { ip: '172.16.0.9', dev: 'vxlan.calico', mac: '66:aa:bb:cc:dd:ee', fdb: true, deleted: false, permanent: true } },
    },
    {
      line: '[NEIGH]Deleted 172.16.0.9 dev vxlan.calico lladdr 66:aa:bb:cc:dd:ee NOARP PERMANENT ',
      want: { kind: 'neighbor', entry: { ip: '172.16.0.9', dev: 'vxlan.calico', mac: '66:aa:bb:cc:dd:ee', fdb: true, deleted: true, permanent: true } },
    },
    {
      line: '[NEIGH]10.244.1.0 dev vxlan.calico FAILED ',
      want: { kind: 'neighbor', entry: { ip: '10.244.1.0', dev: 'vxlan.calico', mac: undefined, fdb: false, deleted: false, permanent: false } },
    },
    {
      line: '[NEIGH]Deleted 10.244.1.0 dev vxlan.calico FAILED ',
      want: { kind: 'neighbor', entry: { ip: '10.244.1.0', dev: 'vxlan.calico', mac: undefined, fdb: false, deleted: true, permanent: false } },
    },
    {
      line: '[NEIGH]10.244.1.0 dev vxlan.calico lladdr 66:aa:bb:cc:dd:ef REACHABLE ',
      want: { kind: 'neighbor', entry: { ip: '10.244.1.0', dev: 'vxlan.calico', mac: '66:aa:bb:cc:dd:ef', fdb: false, deleted: false, permanent: false } },
    },
    { line: '[NEIGH]PERMANENT nonsense', want: { kind: 'unreadable', line: '[NEIGH]PERMANENT nonsense' } },
    { line: '[NEIGH]??', want: { kind: 'ignored' } },
    { line: '', want: { kind: 'ignored' } },
    { line: '[LINK]5: cali1234567890a: <BROADCAST,MULTICAST> mtu 1500', want: { kind: 'link' } },
    { line: '[LINK]Deleted 5: cali1234567890a: <BROADCAST,MULTICAST> mtu 1500', want: { kind: 'link' } },
    { line: '[ADDR]2: eth0    inet 172.16.0.2/16 scope global eth0', want: { kind: 'link' } },
    {
      line: '[ROUTE]10.0.0.0/26 via 100.64.0.1 dev v0 proto 199 onlink ',
      want: {
        kind: 'route',
        event: {
          deleted: false,
          text: '10.0.0.0/26 via 100.64.0.1 dev v0 proto 199 onlink ',
          route: { dst: '10.0.0.0/26' as Cidr, table: 254, metric: 0, type: 'unicast', dev: 'v0' as IfaceName, via: '100.64.0.1' as IpAddr, onlink: true, scope: 'global', proto: 199 },
        },
      },
    },
    {
      line: '[ROUTE]Deleted blackhole 10.0.0.0/26 proto 199 ',
      want: {
        kind: 'route',
        event: {
          deleted: true,
          text: 'blackhole 10.0.0.0/26 proto 199 ',
          route: { dst: '10.0.0.0/26' as Cidr, table: 254, metric: 0, type: 'blackhole', dev: undefined, via: undefined, onlink: false, scope: 'global', proto: 199 },
        },
      },
    },
    { line: '[ROUTE]10.0.0.0/26 nexthop via 100.64.0.1 dev v0 weight 1', want: { kind: 'unreadable', line: '[ROUTE]10.0.0.0/26 nexthop via 100.64.0.1 dev v0 weight 1' } },
    { line: '[ROUTE]default via 172.16.0.1 dev eth0', want: { kind: 'unreadable', line: '[ROUTE]default via 172.16.0.1 dev eth0' } },
  ])('$line', ({ line, want }) => {
    expect(parseMonitorLine(line)).toEqual(want);
  });
});
