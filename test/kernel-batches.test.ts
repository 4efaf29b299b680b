// How the kernel adapter orders a phase's lines and splits long runs over parallel processes;
// the split on a real kernel, in throwaway namespaces (root only).
import { afterEach, describe, expect, it } from 'vitest';
import { kernelOrder, layoutPhase } from '../kernel/batches.js';
import { IpKernel } from '../kernel/kernel.js';
import type { Op } from '../kernel/plan.js';
import { renderOp } from '../kernel/plan.js';
import type { Route } from '../kernel/state.js';
import type { Cidr, IfaceName, IpAddr, Mac } from '../kernel/values.js';
import { scratchNs, type ScratchNs } from './support/scratch-ns.js';

const VXLAN = 'vxlan.calico' as IfaceName;
const ETH0 = 'eth0' as IfaceName;

function replace(dst: string, via?: string, dev: IfaceName = VXLAN, onlink = via !== undefined): Op {
  const route: Route = { dst: dst as Cidr, table: 254, metric: 0, type: 'unicast', dev, via: via as IpAddr | undefined, onlink, scope: 'global', proto: 199 };
  return { op: 'route-replace', route };
}
const del = (dst: string): Op => ({ op: 'route-delete', route: { dst: dst as Cidr, table: 254, metric: 0, type: 'unicast', onlink: false, scope: 'global', proto: 199 } });
const neigh = (ip: string, op: 'neigh-replace' | 'neigh-delete' = 'neigh-replace'): Op => ({ op, neighbor: { dev: VXLAN, ip: ip as IpAddr, mac: '66:07:02:c1:cc:60' as Mac } });
const dsts = (ops: readonly Op[]) => ops.map((o) => ('route' in o ? o.route.dst : 'neighbor' in o ? `neigh ${o.neighbor.ip}` : o.op));

describe('kernelOrder', () => {
  it('groups route replaces by device, then gateway, in order of first appearance, keeping each group in plan order', () => {
    const ops = [
      replace('10.0.0.0/26', '10.0.0.0'),
      replace('10.0.0.64/26', '10.0.0.64'),
      replace('10.0.0.128/26', '10.0.0.0'),
      replace('10.0.0.192/26', '10.0.0.64'),
      replace('10.0.1.0/26', '10.0.0.0', ETH0), // same gateway, another device: another group
      replace('10.0.1.64/26', '10.0.0.0'),
      replace('10.0.1.128/26', '10.0.0.192', ETH0),
      replace('10.0.1.192/26', '10.0.0.64'),
    ];
    expect(dsts(kernelOrder(ops))).toEqual(['10.0.0.0/26', '10.0.0.128/26', '10.0.1.64/26', '10.0.0.64/26', '10.0.0.192/26', '10.0.1.192/26', '10.0.1.0/26', '10.0.1.128/26']);
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

describe('layoutPhase', () => {
  const routes = (n: number, from = 0) => Array.from({ length: n }, (_, i) => replace(`10.3.${from + i}.0/24`, `172.16.0.${(from + i) % 5}`));
  const shape = (layout: ReturnType<typeof layoutPhase>) => layout.map((round) => round.map((batch) => batch.length));

  it('splits only runs long enough for every process to get its minimum, up to `ways` processes', () => {
    expect(shape(layoutPhase(routes(30), { ways: 2, minLinesPerProcess: 10 }))).toEqual([[15, 15]]);
    expect(shape(layoutPhase(routes(30), { ways: 4, minLinesPerProcess: 10 }))).toEqual([[10, 10, 10]]);
    expect(shape(layoutPhase(routes(19), { ways: 4, minLinesPerProcess: 10 }))).toEqual([[19]]);
    expect(shape(layoutPhase(routes(30), { ways: 1, minLinesPerProcess: 1 }))).toEqual([[30]]);
  });

  it('short runs share one process in order; a long run waits for them and the next run for it', () => {
    const ops = [neigh('10.0.0.1'), neigh('10.0.0.2'), ...routes(20), del('10.9.0.0/26'), neigh('10.0.9.9', 'neigh-delete')];
    const layout = layoutPhase(ops, { ways: 2, minLinesPerProcess: 10 });
    expect(shape(layout)).toEqual([[2], [10, 10], [2]]);
    // Together, in order, the rounds are exactly the kernel order of the phase.
    expect(layout.flat(2)).toEqual(kernelOrder(ops));
  });
});

describe.each([
  { mode: 'one ip process per batch', persistent: false },
  { mode: 'batches streamed into long-lived ip processes', persistent: true },
])('a route phase split over parallel processes on a real kernel: $mode', ({ persistent }) => {
  const opened: ScratchNs[] = [];
  const kernels: IpKernel[] = [];
  afterEach(async () => {
    for (const k of kernels.splice(0)) k.close();
    await Promise.all(opened.splice(0).map((ns) => ns.remove()));
  });

  it('maps each failed line back to its own operation, whichever process ran it', async () => {
    const ns = await scratchNs('split');
    opened.push(ns);
    const layout = { ways: 3, minLinesPerProcess: 4 };
    const kernel = new IpKernel(ns.name, { persistent, layout });
    kernels.push(kernel);
    // 24 routes over 4 gateways on eth0 (172.16.30.0/24); every fifth has an unreachable gateway of its own.
    const ops = Array.from({ length: 24 }, (_, i) => replace(`10.60.${i}.0/24`, i % 5 === 2 ? `10.99.0.${i}` : `172.16.30.${10 + (i % 4)}`, ETH0, false));
    const bad = ops.filter((_, i) => i % 5 === 2);
    // Failures in more than one process, at other line numbers than in the phase as a whole.
    expect(layoutPhase(ops, layout)[0]?.filter((batch) => batch.some((op) => bad.includes(op)))).toHaveLength(2);
    const result = await kernel.apply([{ name: 'routes', tool: 'ip', ops }]);

    expect(result.processes).toBe(3);
    expect(result.applied).toBe(ops.length - bad.length);
    expect(new Set(result.failures.map((f) => f.op))).toEqual(new Set(bad));
    for (const f of result.failures) {
      expect(f.line).toBe(renderOp(f.op));
      expect(f.error).toMatch(/gateway/i);
    }
    const inKernel = (await kernel.readRoutes(254)).filter((r) => r.proto === 199).map((r) => r.dst);
    expect(new Set(inKernel)).toEqual(new Set(ops.filter((op) => !bad.includes(op)).map((op) => ('route' in op ? op.route.dst : ''))));

    // The same again: persistent processes count their lines from their start; still exact.
    const again = await kernel.apply([{ name: 'routes', tool: 'ip', ops }]);
    expect(new Set(again.failures.map((f) => f.op))).toEqual(new Set(bad));
  });
});
