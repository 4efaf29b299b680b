// The BGP manager's wanted state (this node's blocks: the blackholes the route engine wants,
// followed key by key) and BGP's status as /status, /readyz and `wren status` show it.
import { describe, expect, it } from 'vitest';
import { bgpStatus, bgpStatusLines, peersDown, type BirdProcessStatus } from '../agent/bgp/bgp-status.js';
import { BgpManager } from '../agent/dataplane/bgp-manager.js';
import type { BgpSessionState } from '../kernel/bird/protocols.js';
import { routeKey } from '../kernel/state.js';
import type { AsNumber } from '../kernel/values.js';
import { nodeBgp } from '../routing/bgp/node-peers.js';
import { EMPTY_SNAPSHOT } from '../routing/cluster.js';
import type { DesiredRoute } from '../routing/route-classes.js';
import { cidr, iface, ip, node } from './support/seed-cluster.js';

const route = (dst: string, cls: DesiredRoute['class']): DesiredRoute => ({
  dst: cidr(dst), table: 254, metric: 0, type: cls === 'blackhole' ? 'blackhole' : 'unicast', dev: cls === 'blackhole' ? undefined : iface('eth0'), via: undefined, onlink: false, scope: 'global', proto: 199, class: cls, source: `IPAMBlock/${dst}`,
});
const BGP = nodeBgp({ ...EMPTY_SNAPSHOT, nodes: [node('node-1', '172.16.30.6/24')], bgpPeers: [{ name: 'tor', peerIP: ip('172.16.30.1'), asNumber: 64513 as AsNumber }, { name: 'far', peerIP: ip('10.9.0.1'), asNumber: 64514 as AsNumber, node: 'node-1' }] }, 'node-1');

describe('BgpManager', () => {
  it('wants nothing before a full pass', () => {
    expect(new BgpManager().wanted()).toBeUndefined();
  });

  it('exports exactly the blackholes, follows them key by key, and renders only on a change', () => {
    const manager = new BgpManager();
    manager.setDesired({ node: BGP, routes: [route('10.244.1.0/26', 'blackhole'), route('10.244.2.0/26', 'direct'), route('10.244.1.5/32', 'workload')] });
    const first = manager.wanted();
    expect(first?.exports).toEqual(['10.244.1.0/26']);
    expect(first?.config).toContain('  route 10.244.1.0/26 blackhole;\n}');
    expect(manager.wanted()).toBe(first);

    const more = route('10.244.1.64/26', 'blackhole');
    manager.routeWanted(routeKey(more), more);
    expect(manager.wanted()?.exports).toEqual(['10.244.1.0/26', '10.244.1.64/26']);
    const second = manager.wanted();
    manager.routeWanted(routeKey(more), more);
    manager.routeWanted('10.244.9.0/26', route('10.244.9.0/26', 'direct'));
    manager.routeWanted('10.244.8.0/26', undefined);
    expect(manager.wanted()).toBe(second);

    // A key whose winner is no longer the blackhole (a /32 block now a pod's route) is no longer exported.
    manager.routeWanted(routeKey(more), route('10.244.1.64/26', 'workload'));
    manager.routeWanted('10.244.1.0/26', undefined);
    expect(manager.wanted()?.exports).toEqual([]);
    expect(manager.wanted()?.config).toContain('protocol static wren_blocks4 {\n  ipv4;\n}');
  });

  it('announces no block of a pool with disableBGPExport, though it is routed', () => {
    const manager = new BgpManager();
    manager.setDesired({ node: { ...BGP, unexported: [cidr('10.245.0.0/16')] }, routes: [route('10.244.1.0/26', 'blackhole'), route('10.245.0.0/26', 'blackhole')] });
    expect(manager.wanted()?.exports).toEqual(['10.244.1.0/26']);
    expect(manager.wanted()?.config).not.toContain('10.245.');
  });
});

const BIRD: BirdProcessStatus = { dir: '/run/wren/bird', socket: '/run/wren/bird/bird.ctl', pid: 42, started: 'took-over', answering: true, lastConfiguredAt: null, lastConfigureMs: 0.8, lastError: null, left: false };
const UP: BgpSessionState = { name: 'Global_172_16_30_1', state: 'up', since: '2026-12-06 03:28:37', info: 'Established', bgpState: 'Established', routes: { imported: 0, exported: 2, preferred: 0 } };

describe('BGP status', () => {
  const manager = new BgpManager();
  manager.setDesired({ node: BGP, routes: [route('10.244.1.0/26', 'blackhole'), route('10.244.1.64/26', 'blackhole')] });
  const wanted = manager.wanted();

  it.each([
    {
      name: 'one peer up, one BIRD has not got yet',
      bird: BIRD,
      sessions: [UP],
      rows: [
        { peer: '172.16.30.1', state: 'up', info: 'Established', routesExported: 2, type: 'global' },
        { peer: '10.9.0.1', state: 'unknown', info: 'not configured in BIRD yet', routesExported: null, type: 'node specific' },
      ],
      down: ['10.9.0.1'],
    },
    {
      name: 'BIRD silent: every peer unknown',
      bird: { ...BIRD, answering: false },
      sessions: [],
      rows: [
        { peer: '172.16.30.1', state: 'unknown', info: 'BIRD not answering', routesExported: null, type: 'global' },
        { peer: '10.9.0.1', state: 'unknown', info: 'BIRD not answering', routesExported: null, type: 'node specific' },
      ],
      down: ['172.16.30.1', '10.9.0.1'],
    },
  ])('$name', ({ bird, sessions, rows, down }) => {
    const status = bgpStatus(bird, wanted, sessions);
    expect(status.peers.map(({ peer, state, info, routesExported, type }) => ({ peer, state, info, routesExported, type }))).toEqual(rows);
    expect(peersDown(status).map((p) => p.peer)).toEqual(down);
  });

  it('prints like calicoctl node status, with the AS', () => {
    const sessions: BgpSessionState[] = [UP, { name: 'Node_10_9_0_1', state: 'start', since: '2026-12-06 03:28:33', info: 'Active        Socket: Connection refused' }];
    const meshOff = { ...wanted!, node: { ...wanted!.node, mesh: false } };
    expect(bgpStatusLines(bgpStatus(BIRD, meshOff, sessions))).toEqual([
      'BIRD pid 42 (took-over) on /run/wren/bird/bird.ctl; AS 64512, router id 172.16.30.6, 2 block(s) exported',
      'PEER ADDRESS | AS    | PEER TYPE     | STATE | SINCE               | INFO',
      '172.16.30.1  | 64513 | global        | up    | 2026-12-06 03:28:37 | Established',
      '10.9.0.1     | 64514 | node specific | start | 2026-12-06 03:28:33 | Active        Socket: Connection refused',
    ]);
  });

  it('says when the node has left, when BIRD failed, and when the mesh is asked for', () => {
    const lines = bgpStatusLines(bgpStatus({ ...BIRD, left: true, lastError: 'BIRD in /run/wren/bird exited (1): bird: /run/wren/bird/bird.conf:3:1 syntax error' }, { ...wanted!, node: { ...wanted!.node, peers: [], mesh: true } }, []));
    expect(lines).toEqual([
      'node left the cluster: sessions shut down, routes withdrawn; AS 64512, router id 172.16.30.6, 2 block(s) exported',
      'LAST ERROR: BIRD in /run/wren/bird exited (1): bird: /run/wren/bird/bird.conf:3:1 syntax error',
      'node-to-node mesh: not rendered: wren routes to every node\'s blocks from the datastore, which is what the mesh would teach',
      'no peers for this node',
    ]);
  });
});
