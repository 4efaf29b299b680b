// agent/kernel-events.ts: each typed kernel event reaches the loop as the call it stands for;
// an unreadable line that may matter asks for a full pass and is reported. (The lines themselves
// are read in kernel/monitor-events.ts: test/monitor-events.test.ts.)
import { describe, expect, it } from 'vitest';
import { followKernelLine } from '../agent/kernel-events.js';
import type { NeighborEvent } from '../kernel/monitor-events.js';
import type { RouteEvent } from '../kernel/monitor-route.js';

function follow(line: string) {
  const told: { neighbor?: NeighborEvent; dirty?: string; link?: boolean; route?: RouteEvent; unreadable?: boolean } = {};
  followKernelLine(
    {
      routeEvent: (event) => (told.route = event),
      linkEvent: () => (told.link = true),
      markDirty: (reason) => (told.dirty = reason),
      neighborEvent: (entry) => (told.neighbor = entry),
    },
    line,
    () => (told.unreadable = true),
  );
  return told;
}

describe('kernel events reach the loop', () => {
  it.each([
    {
      line: '[NEIGH]172.16.0.9 dev vxlan.calico lladdr 66:aa:bb:cc:dd:ee NOARP PERMANENT ',
      want: { neighbor: { ip: '172.16.0.9', dev: 'vxlan.calico', mac: '66:aa:bb:cc:dd:ee', fdb: true, deleted: false, permanent: true } },
    },
    { line: '[NEIGH]PERMANENT nonsense', want: { dirty: 'kernel', unreadable: true } },
    { line: '[LINK]5: cali1234567890a: <BROADCAST,MULTICAST> mtu 1500', want: { link: true } },
    { line: '[ADDR]2: eth0    inet 172.16.0.2/16 scope global eth0', want: { link: true } },
    { line: '[ROUTE]10.0.0.0/26 via 100.64.0.1 dev v0 proto 199 onlink ', want: { route: { deleted: false, route: { dst: '10.0.0.0/26', proto: 199, onlink: true } } } },
    { line: '[ROUTE]10.0.0.0/26 nexthop via 100.64.0.1 dev v0 weight 1', want: { dirty: 'kernel', unreadable: true } },
  ])('$line', ({ line, want }) => {
    const told = follow(line);
    expect(told).toMatchObject(want);
    // Nothing else: a route event is not also a full pass, a link change not also a neighbour.
    expect(Object.keys(told).sort()).toEqual(Object.keys(want).sort());
  });

  it('tells the loop nothing of a line that is no entry and claims nothing', () => {
    expect(follow('[NEIGH]??')).toEqual({});
  });
});
