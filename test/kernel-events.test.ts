// `ip monitor` lines → what the loop is told: route events, link changes, and neighbour/FDB
// entries on wren's VXLAN devices as the kernel really prints them (a deleted permanent
// neighbour shows only as FAILED, an FDB entry with the remote node's IP and NOARP).
import { describe, expect, it } from 'vitest';
import { followKernelLine } from '../agent/kernel-events.js';
import type { NeighborEvent } from '../agent/loop.js';

function follow(line: string) {
  const told: { neighbor?: NeighborEvent; dirty?: string; link?: boolean; route?: boolean; unreadable?: boolean } = {};
  followKernelLine(
    {
      routeEvent: () => (told.route = true),
      linkEvent: () => (told.link = true),
      markDirty: (reason) => (told.dirty = reason),
      neighborEvent: (entry) => (told.neighbor = entry),
    },
    line,
    () => (told.unreadable = true),
  );
  return told;
}

describe('kernel monitor lines', () => {
  it.each([
    {
      line: '[NEIGH]10.244.1.0 dev vxlan.calico lladdr 66:aa:bb:cc:dd:ee PERMANENT ',
      want: { neighbor: { ip: '10.244.1.0', dev: 'vxlan.calico', mac: '66:aa:bb:cc:dd:ee', fdb: false, deleted: false, permanent: true } },
    },
    {
      line: '[NEIGH]172.16.0.9 dev vxlan.calico lladdr 66:aa:bb:cc:dd:ee NOARP PERMANENT ',
      want: { neighbor: { ip: '172.16.0.9', dev: 'vxlan.calico', mac: '66:aa:bb:cc:dd:ee', fdb: true, deleted: false, permanent: true } },
    },
    {
      line: '[NEIGH]Deleted 172.16.0.9 dev vxlan.calico lladdr 66:aa:bb:cc:dd:ee NOARP PERMANENT ',
      want: { neighbor: { ip: '172.16.0.9', fdb: true, deleted: true, permanent: true } },
    },
    { line: '[NEIGH]10.244.1.0 dev vxlan.calico FAILED ', want: { neighbor: { ip: '10.244.1.0', mac: undefined, deleted: false, permanent: false } } },
    { line: '[NEIGH]Deleted 10.244.1.0 dev vxlan.calico FAILED ', want: { neighbor: { ip: '10.244.1.0', mac: undefined, deleted: true, permanent: false } } },
    {
      line: '[NEIGH]10.244.1.0 dev vxlan.calico lladdr 66:aa:bb:cc:dd:ef REACHABLE ',
      want: { neighbor: { ip: '10.244.1.0', mac: '66:aa:bb:cc:dd:ef', deleted: false, permanent: false } },
    },
    { line: '[NEIGH]PERMANENT nonsense', want: { dirty: 'kernel', unreadable: true } },
    { line: '[LINK]5: cali1234567890a: <BROADCAST,MULTICAST> mtu 1500', want: { link: true } },
    { line: '[ADDR]2: eth0    inet 172.16.0.2/16 scope global eth0', want: { link: true } },
    { line: '[ROUTE]10.0.0.0/26 via 100.64.0.1 dev v0 proto 199 onlink ', want: { route: true } },
    { line: '[ROUTE]10.0.0.0/26 nexthop via 100.64.0.1 dev v0 weight 1', want: { dirty: 'kernel', unreadable: true } },
  ])('$line', ({ line, want }) => {
    expect(follow(line)).toMatchObject(want);
  });

  it('tells the loop nothing of a line that is no entry and claims nothing', () => {
    expect(follow('[NEIGH]??')).toEqual({});
  });
});
