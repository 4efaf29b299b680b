// How the kernel adapter orders a phase's lines.
import { describe, expect, it } from 'vitest';
import { kernelOrder } from '../kernel/batches.js';
import type { Op } from '../kernel/plan.js';
import type { Route } from '../kernel/state.js';
import type { Cidr, IfaceName, IpAddr, Mac } from '../kernel/values.js';

const VXLAN = 'vxlan.calico' as IfaceName;
const ETH0 = 'eth0' as IfaceName;

function replace(dst: string, via?: string, dev: IfaceName = VXLAN): Op {
  const route: Route = { dst: dst as Cidr, table: 254, metric: 0, type: 'unicast', dev, via: via as IpAddr | undefined, onlink: via !== undefined, scope: 'global', proto: 199 };
  return { op: 'route-replace', route };
}
const del = (dst: string): Op => ({ op: 'route-delete', route: { dst: dst as Cidr, table: 254, metric: 0, type: 'unicast', onlink: false, scope: 'global', proto: 199 } });
const neigh = (ip: string, op: 'neigh-replace' | 'neigh-delete' = 'neigh-replace'): Op => ({ op, neighbor: { dev: VXLAN, ip: ip as IpAddr, mac: '66:07:02:c1:cc:60' as Mac } });
const dsts = (ops: readonly Op[]) => ops.map((o) => ('route' in o ? o.route.dst : 'neighbor' in o ? `neigh ${o.neighbor.ip}` : o.op));

describe('kernelOrder', () => {
  it('groups route replaces by (device, gateway) in order of first appearance, keeping each group in plan order', () => {
    const ops = [
      replace('10.0.0.0/26', '10.0.0.0'),
      replace('10.0.0.64/26', '10.0.0.64'),
      replace('10.0.0.128/26', '10.0.0.0'),
      replace('10.0.0.192/26', '10.0.0.64'),
      replace('10.0.1.0/26', '10.0.0.0', ETH0), // same gateway, another device: another group
      replace('10.0.1.64/26', '10.0.0.0'),
    ];
    expect(dsts(kernelOrder(ops))).toEqual(['10.0.0.0/26', '10.0.0.128/26', '10.0.1.64/26', '10.0.0.64/26', '10.0.0.192/26', '10.0.1.0/26']);
  });

  it('keeps the phase structure: neighbours, route replaces, deletes, stale neighbours', () => {
    const ops = [neigh('10.0.0.0'), neigh('10.0.0.64'), replace('10.0.0.0/26', '10.0.0.0'), replace('10.0.0.64/26', '10.0.0.64'), replace('10.0.0.128/26', '10.0.0.0'), del('10.9.0.0/26'), del('10.8.0.0/26'), neigh('10.0.9.9', 'neigh-delete')];
    expect(dsts(kernelOrder(ops))).toEqual(['neigh 10.0.0.0', 'neigh 10.0.0.64', '10.0.0.0/26', '10.0.0.128/26', '10.0.0.64/26', '10.9.0.0/26', '10.8.0.0/26', 'neigh 10.0.9.9']);
  });

  it('is a permutation of its input, whatever the input', () => {
    const ops = Array.from({ length: 500 }, (_, i) => (i % 7 === 3 ? del(`10.1.${i % 256}.0/26`) : replace(`10.2.${i % 256}.${(i >> 8) * 64}/26`, i % 3 === 0 ? undefined : `172.16.0.${i % 11}`)));
    const ordered = kernelOrder(ops);
    expect(ordered).toHaveLength(ops.length);
    expect(new Set(ordered)).toEqual(new Set(ops));
  });
});
