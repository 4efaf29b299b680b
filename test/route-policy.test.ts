// The route diff, key by key: what wren writes for each pair of (route it wants, route the kernel has).
import { describe, expect, it } from 'vitest';
import { MAIN_TABLE, type Route } from '../kernel/state.js';
import type { Cidr, IfaceName, IpAddr } from '../kernel/values.js';
import { addDecision, decideRoute, emptyDiff, type RouteDiffOptions } from '../kernel/route-table/route-policy.js';
import type { DesiredRoute } from '../routing/route-classes.js';
import { isDefaultWorkloadIface } from '../routing/workload-iface.js';

const WREN = 199;
const base = { table: MAIN_TABLE, metric: 0, onlink: false, proto: WREN } as const;
const pod = (dst: string, dev: string, proto = WREN): Route => ({ ...base, dst: dst as Cidr, type: 'unicast', dev: dev as IfaceName, scope: 'link', proto });
const remote = (dst: string, via: string, proto = WREN): Route => ({ ...base, dst: dst as Cidr, type: 'unicast', dev: 'eth0' as IfaceName, via: via as IpAddr, onlink: true, scope: 'global', proto });
const blackhole = (dst: string): Route => ({ ...base, dst: dst as Cidr, type: 'blackhole', scope: 'global' });
const want = (route: Route, cls: DesiredRoute['class']): DesiredRoute => ({ ...route, class: cls, source: 'Test/x' });

const links = new Map<IfaceName, { up: boolean }>([
  ['eth0' as IfaceName, { up: true }],
  ['cali0000000000a' as IfaceName, { up: true }],
  ['cali0000000000b' as IfaceName, { up: true }],
  ['cali0000000000d' as IfaceName, { up: false }],
]);
const options: RouteDiffOptions = { proto: WREN, links, allowDeletes: true, isWorkloadIface: isDefaultWorkloadIface };

/** Each case: one key, and the diff's answer written as counts and the lines it would touch. */
const cases: Array<{ name: string; desired?: DesiredRoute; current?: Route; options?: Partial<RouteDiffOptions>; expect: string }> = [
  { name: 'nothing wanted, nothing there', expect: '' },
  { name: 'the same route: nothing to write', desired: want(pod('10.244.1.1/32', 'cali0000000000a'), 'workload'), current: pod('10.244.1.1/32', 'cali0000000000a'), expect: 'unchanged' },
  { name: 'missing: added', desired: want(remote('10.244.2.0/26', '172.16.0.2'), 'direct'), expect: 'replace 10.244.2.0/26' },
  { name: 'different next hop: replaced', desired: want(remote('10.244.2.0/26', '172.16.0.2'), 'direct'), current: remote('10.244.2.0/26', '172.16.0.9'), expect: 'replace 10.244.2.0/26' },
  { name: 'a stale wren route: removed', current: remote('10.244.2.0/26', '172.16.0.9'), expect: 'remove 10.244.2.0/26' },
  { name: 'a stale wren route before the datastore synced: kept', current: remote('10.244.2.0/26', '172.16.0.9'), options: { allowDeletes: false }, expect: '' },
  { name: 'a stale wren route on a veth in grace: kept', current: pod('10.244.1.1/32', 'cali0000000000a'), options: { graceIfaces: new Set(['cali0000000000a' as IfaceName]) }, expect: '' },
  { name: 'a foreign route nobody wants: untouched', current: remote('10.99.0.0/24', '172.16.0.1', 4), expect: '' },
  { name: 'a foreign route on a wanted key: conflict', desired: want(remote('10.244.2.0/26', '172.16.0.2'), 'direct'), current: remote('10.244.2.0/26', '172.16.0.1', 3), expect: 'conflict 10.244.2.0/26' },
  { name: "the CNI plugin's pod route: adopted", desired: want(pod('10.244.1.1/32', 'cali0000000000a'), 'workload'), current: pod('10.244.1.1/32', 'cali0000000000a', 3), expect: 'replace 10.244.1.1/32' },
  { name: 'a route without protocol on another veth: conflict', desired: want(pod('10.244.1.1/32', 'cali0000000000a'), 'workload'), current: pod('10.244.1.1/32', 'cali0000000000b', 3), expect: 'conflict 10.244.1.1/32' },
  { name: 'veth missing: held', desired: want(pod('10.244.1.1/32', 'cali0000000000c'), 'workload'), expect: 'held device cali0000000000c does not exist' },
  { name: 'veth down: held', desired: want(pod('10.244.1.1/32', 'cali0000000000d'), 'workload'), expect: 'held device cali0000000000d is down' },
  {
    name: "an address reused before its veth appears: held, and the old pod's route removed",
    desired: want(pod('10.244.1.1/32', 'cali0000000000c'), 'workload'),
    current: pod('10.244.1.1/32', 'cali0000000000a'),
    expect: 'held device cali0000000000c does not exist; remove 10.244.1.1/32',
  },
  {
    name: 'the same, the old veth in grace: held, the old route kept',
    desired: want(pod('10.244.1.1/32', 'cali0000000000c'), 'workload'),
    current: pod('10.244.1.1/32', 'cali0000000000a'),
    options: { graceIfaces: new Set(['cali0000000000a' as IfaceName]) },
    expect: 'held device cali0000000000c does not exist',
  },
  { name: 'a blackhole needs no device', desired: want(blackhole('10.244.3.0/26'), 'blackhole'), expect: 'replace 10.244.3.0/26' },
];

describe('route diff', () => {
  it.each(cases)('$name', ({ desired, current, options: extra, expect: answer }) => {
    const diff = emptyDiff<DesiredRoute>();
    addDecision(diff, decideRoute(desired, current, { ...options, ...extra }));
    const parts = [
      ...(diff.unchanged > 0 ? ['unchanged'] : []),
      ...diff.replace.map((r) => `replace ${r.dst}`),
      ...diff.held.map((h) => `held ${h.reason}`),
      ...diff.remove.map((r) => `remove ${r.dst}`),
      ...diff.conflicts.map((c) => `conflict ${c.desired.dst}`),
    ];
    expect(parts.join('; ')).toBe(answer);
  });
});
