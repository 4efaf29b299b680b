// A valid cluster and the host it is routed on, for the meaning checks' tests: the seed's three
// nodes (this node is minikube, 172.16.30.6/24 on eth0, gateway 172.16.30.1), VXLAN, confirmed
// affinities, creation times, IPAM records for every tunnel address and pod, and one local pod.
// `checkSafe` says what no input may ever make wren do on this host.
import { expect } from 'vitest';
import { MAIN_TABLE, routeKey, type Link, type Route } from '../../kernel/state.js';
import type { Cidr, IfaceName, IpAddr } from '../../kernel/values.js';
import { cidrsOverlap, familyOf } from '../../kernel/values.js';
import type { ClusterSnapshot } from '../../routing/cluster.js';
import { RESERVED_SPACE } from '../../routing/forbidden-space.js';
import { desiredNode, type DataplaneConfig, type DesiredNode } from '../../agent/node-plan.js';
import { seedCluster, withIpam, workload } from './seed-cluster.js';

export const LOCAL = 'minikube';
export const SERVICE_CIDR = '10.96.0.0/12' as Cidr;
export const CONFIG: DataplaneConfig = { nodeName: LOCAL, proto: 199, table: MAIN_TABLE, vxlan: { vni: 4096, port: 4789 }, forbiddenCidrs: [SERVICE_CIDR] };

export const LINKS: readonly Link[] = [
  { name: 'lo' as IfaceName, index: 1, mtu: 65536, up: true, addresses: ['127.0.0.1/8' as Cidr, '::1/128' as Cidr] },
  { name: 'eth0' as IfaceName, index: 2, mtu: 1500, up: true, addresses: ['172.16.30.6/24' as Cidr, 'fe80::1/64' as Cidr] },
  { name: 'cali1111111111a' as IfaceName, index: 9, mtu: 1450, up: true, addresses: ['fe80::ecee:eeff:feee:eeee/64' as Cidr] },
];

export const GATEWAY: Route = { dst: '0.0.0.0/0' as Cidr, table: MAIN_TABLE, metric: 0, type: 'unicast', dev: 'eth0' as IfaceName, via: '172.16.30.1' as IpAddr, onlink: false, scope: 'global', proto: 4 };

/** The valid cluster: every node created in 2022, pools in 2021, one pod on this node. */
export function validCluster(): ClusterSnapshot {
  const seed = seedCluster({ vxlan: 'Always' });
  return withIpam({
    ...seed,
    pools: seed.pools.map((p) => ({ ...p, created: '2021-01-01T00:00:00.000Z' })),
    nodes: seed.nodes.map((n, i) => ({ ...n, created: `2022-03-19T18:0${i}:00.000Z` })),
    affinities: seed.blocks.map((b) => ({ name: `${b.affinityNode}-${b.name}`, node: b.affinityNode ?? '', cidr: b.cidr, state: 'confirmed' as const })),
    workloads: [...seed.workloads, workload('default', 'web', LOCAL, ['10.244.120.65'], 'cali1111111111a')],
  });
}

export function plan(cluster: ClusterSnapshot, config: DataplaneConfig = CONFIG): DesiredNode {
  return desiredNode(cluster, LINKS, config, [GATEWAY]);
}

/** Space no route of wren's may ever reach on this host. */
const FORBIDDEN: readonly Cidr[] = [...RESERVED_SPACE.map((r) => r.cidr), '172.16.30.0/24' as Cidr, '172.16.30.1/32' as Cidr, SERVICE_CIDR];

export function checkSafe(desired: DesiredNode): void {
  for (const route of desired.routes) {
    expect(route.dst.endsWith('/0'), `${route.dst} is a default route`).toBe(false);
    const hit = FORBIDDEN.find((f) => familyOf(f) === familyOf(route.dst) && cidrsOverlap(f, route.dst));
    expect(hit, `${route.dst} (${route.source}) overlaps ${hit}`).toBeUndefined();
    if (route.class === 'workload') expect(route.dev?.startsWith('cali'), `${route.dst} via ${route.dev}`).toBe(true);
  }
  // The pod MTU goes to the interfaces workload routes use (dataplane/workload-mtu.ts): never a host one.
  for (const name of ['eth0', 'lo', 'vxlan.calico', 'tunl0']) expect(desired.routeEngine.usesDevice(name), `pod MTU on ${name}`).toBe(false);
  expect(desired.hostIface).toBe('eth0');
}

/**
 * Every route of `before` is in `after`, unchanged, except those to `exempt` destinations; and
 * the devices and MTUs are the same (`devices: false` for an object that changes this node's own).
 */
export function checkKept(before: DesiredNode, after: DesiredNode, exempt: readonly string[] = [], devices = true): void {
  const now = new Map(after.routes.map((r) => [routeKey(r), r]));
  for (const route of before.routes) {
    if (exempt.includes(route.dst)) continue;
    expect(now.get(routeKey(route)), `${route.dst} (${route.source})`).toEqual(route);
  }
  if (!devices) return;
  expect(after.mtus, 'MTUs').toEqual(before.mtus);
  expect(after.ipip.spec, 'tunl0').toEqual(before.ipip.spec);
  // A device the valid cluster has no spec for may be held (left exactly as it is), never made.
  expect(after.vxlan.map((v) => v.spec), 'VXLAN devices').toEqual(before.vxlan.map((v) => v.spec));
}
