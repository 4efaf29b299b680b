// A line the kernel refused is a problem of the object it was written for (agent/refusals.ts):
// the block or workload a route exists for, the node whose VTEP a neighbour or FDB entry is, the
// workload whose interface an MTU was for; a refusal lasts until the line is written again.
import { describe, expect, it } from 'vitest';
import type { LoopReport } from '../agent/loop-report.js';
import { refusalProblem, Refusals } from '../agent/refusals.js';
import type { OpFailure } from '../kernel/kernel.js';
import { kernelErrorCode } from '../kernel/kernel-error.js';
import { renderOp, type Op } from '../kernel/plan.js';
import { MAIN_TABLE, type Route } from '../kernel/state.js';
import type { Mac } from '../kernel/values.js';
import type { DesiredRoute } from '../routing/route-classes.js';
import { derivedVtepMac } from '../tunnels/vtep-mac.js';
import { cidr, iface, ip, seedCluster } from './support/seed-cluster.js';

const snapshot = seedCluster({ vxlan: 'Always' });
const vx = iface('vxlan.calico');
const route: Route = { dst: cidr('10.244.151.0/26'), table: MAIN_TABLE, metric: 0, type: 'unicast', dev: vx, via: ip('10.244.151.0'), onlink: true, scope: 'global', proto: 199 };
const desired = (source: string): DesiredRoute => ({ ...route, class: 'vxlan', source });
const failure = (op: Op, error = 'RTNETLINK answers: Invalid argument'): OpFailure => ({ phase: 'routes', op, line: renderOp(op), error, code: kernelErrorCode(error) });

describe('refused lines as problems of their objects', () => {
  it.each([
    { name: 'a block route', op: { op: 'route-replace', route: desired('IPAMBlock/10-244-151-0-26') } as Op, object: ['IPAMBlock', '10-244-151-0-26', 'route'] },
    { name: 'a workload route', op: { op: 'route-replace', route: desired('Workload/default/nginx') } as Op, object: ['Workload', 'default/nginx', 'route'] },
    { name: 'a stale route of wren\'s', op: { op: 'route-delete', route } as Op, object: ['Route', '10.244.151.0/26', 'route'] },
    { name: 'a VTEP neighbour', op: { op: 'neigh-replace', neighbor: { dev: vx, ip: ip('10.244.205.192'), mac: derivedVtepMac('minikube-m02') } } as Op, object: ['Node', 'minikube-m02', 'spec.ipv4VXLANTunnelAddr'] },
    { name: 'a VTEP FDB entry (derived MAC)', op: { op: 'fdb-replace', fdb: { dev: vx, mac: derivedVtepMac('minikube-m03'), dst: ip('172.16.30.8') } } as Op, object: ['Node', 'minikube-m03', 'spec.vxlanTunnelMACAddr'] },
    { name: 'an FDB entry no node claims', op: { op: 'fdb-replace', fdb: { dev: vx, mac: '01:00:5e:00:00:01' as Mac, dst: ip('172.16.30.8') } } as Op, object: ['Device', 'vxlan.calico', 'fdb'] },
    { name: 'a pod interface\'s MTU', op: { op: 'link-mtu', name: iface('calic440f455693'), mtu: 1450 } as Op, object: ['Workload', 'default/nginx', 'interface'] },
    { name: 'the VXLAN device', op: { op: 'link-mtu', name: vx, mtu: 1450 } as Op, object: ['Device', 'vxlan.calico', 'mtu'] },
  ])('$name', ({ op, object }) => {
    const f = failure(op);
    expect(refusalProblem(f, snapshot)).toEqual({ kind: object[0], name: object[1], field: object[2], reason: 'kernel-refused', message: `the kernel refused "${f.line}": ${f.error}` });
  });

  it('last until written: a full pass says them afresh, an incremental pass forgets those it wrote', () => {
    const refusals = new Refusals();
    const op: Op = { op: 'route-replace', route: desired('IPAMBlock/10-244-151-0-26') };
    const report = (mode: LoopReport['mode'], failures: OpFailure[], ops: Op[] = []) =>
      ({ mode, plan: [{ name: 'routes', tool: 'ip', ops }], failures, problems: [] }) as unknown as LoopReport;
    const noSnapshot = () => {
      throw new Error('a route names its object itself');
    };
    expect(refusals.note(report('full', [failure(op)], [op]), noSnapshot).problems.map((p) => p.name)).toEqual(['10-244-151-0-26']);
    // An incremental pass about other keys keeps it; one that writes it forgets it.
    expect(refusals.note(report('incremental', []), noSnapshot).problems).toHaveLength(1);
    expect(refusals.note(report('incremental', [], [op]), noSnapshot).problems).toEqual([]);
    expect(refusals.size).toBe(0);
    refusals.note(report('full', [failure(op)], [op]), noSnapshot);
    expect(refusals.note(report('full', []), noSnapshot).problems).toEqual([]);
  });
});
