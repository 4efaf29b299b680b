// Lines the kernel refused, as problems of the objects they were written for.
//
// One bad object affects only what it names: a refused line (a route through a device the kernel
// will not take, an FDB entry for a MAC it calls invalid) is a problem of that object — the
// IPAMBlock or Workload a route exists for, the Node whose VTEP a neighbour or FDB entry is, the
// device an MTU was for — with reason `kernel-refused`, while the rest of the pass lands and the
// agent stays ready. A failure of the whole apply (the process could not run or died, a read
// failed) is not a refusal: that pass failed, and readiness says so.
//
// Refusals are kept until the lines are written or no longer wanted: a full pass tries every line
// again and says afresh what was refused; an incremental pass adds its own and forgets those it
// has now written.
import type { OpFailure } from '../kernel/kernel.js';
import type { Op } from '../kernel/plan.js';
import { natOpFamily } from '../kernel/nat/nat-render.js';
import { NAT_TABLE, nftFamily } from '../kernel/nat/nat-state.js';
import { fdbKey, neighborKey, routeKey } from '../kernel/state.js';
import { familyOf } from '../kernel/values.js';
import type { ClusterSnapshot, ObjectProblem } from '../routing/cluster.js';
import { derivedVtepMac } from '../tunnels/vtep-mac.js';
import type { LoopReport } from './loop-report.js';

export class Refusals {
  private readonly byKey = new Map<string, ObjectProblem>();

  get size(): number {
    return this.byKey.size;
  }

  /**
   * Takes a pass's report; returns it with the refusals still standing among its problems.
   * `snapshot` is asked only when a refused line is not a route (which names its object itself).
   */
  note(report: LoopReport, snapshot: () => ClusterSnapshot): LoopReport {
    if (report.mode === 'full') this.byKey.clear();
    else for (const phase of report.plan) for (const op of phase.ops) this.byKey.delete(opKey(op));
    let cluster: ClusterSnapshot | undefined;
    for (const failure of report.failures) {
      const needs = failure.op.op !== 'route-replace' && failure.op.op !== 'route-delete';
      if (needs) cluster ??= snapshot();
      this.byKey.set(opKey(failure.op), refusalProblem(failure, cluster));
    }
    if (this.byKey.size === 0) return report;
    const problems = [...report.problems];
    for (const problem of this.byKey.values()) problems.push(problem);
    return { ...report, problems };
  }
}

/** The kernel's key of what an operation changes: a later write of the same key settles its refusal. */
function opKey(op: Op): string {
  switch (op.op) {
    case 'route-replace':
    case 'route-delete':
      return `route ${routeKey(op.route)}`;
    case 'neigh-replace':
    case 'neigh-delete':
      return `neigh ${neighborKey(op.neighbor)}`;
    case 'fdb-replace':
    case 'fdb-delete':
      return `fdb ${fdbKey(op.fdb)}`;
    case 'vxlan-add':
      return `link ${op.spec.name}`;
    case 'addr-add':
    case 'addr-delete':
      return `addr ${op.dev} ${op.cidr}`;
    case 'nat-replace':
    case 'nat-set':
    case 'nat-delete':
      return `nat ${natOpFamily(op)}`;
    default:
      return `${op.op} ${op.name}`;
  }
}

/** The object a refused line was for, and what the kernel said. */
export function refusalProblem(failure: OpFailure, snapshot: ClusterSnapshot | undefined): ObjectProblem {
  const message = `the kernel refused "${failure.line}": ${failure.error}`;
  const problem = (kind: string, name: string, field: string): ObjectProblem => ({ kind, name, field, message, reason: 'kernel-refused' });
  const op = failure.op;
  switch (op.op) {
    case 'route-replace': {
      // A desired route names the object it exists for: `IPAMBlock/<name>`, `Workload/<ns>/<name>`.
      const source = 'source' in op.route && typeof op.route.source === 'string' ? op.route.source : undefined;
      const slash = source?.indexOf('/') ?? -1;
      return source !== undefined && slash > 0 ? problem(source.slice(0, slash), source.slice(slash + 1), 'route') : problem('Route', op.route.dst, 'route');
    }
    case 'route-delete':
      return problem('Route', op.route.dst, 'route');
    case 'neigh-replace':
    case 'neigh-delete': {
      const ip = op.neighbor.ip;
      const node = snapshot?.nodes.find((n) => n.vxlanTunnelAddr === ip || n.vxlanTunnelAddrV6 === ip);
      const field = familyOf(ip) === 4 ? 'spec.ipv4VXLANTunnelAddr' : 'spec.ipv6VXLANTunnelAddr';
      return node === undefined ? problem('Device', op.neighbor.dev, 'neighbor') : problem('Node', node.name, field);
    }
    case 'fdb-replace':
    case 'fdb-delete': {
      const { mac, dst } = op.fdb;
      const family = familyOf(dst);
      const vtepMac = (n: ClusterSnapshot['nodes'][number]) => (family === 4 ? n.vxlanMac : n.vxlanMacV6) ?? derivedVtepMac(n.name, family);
      const node = snapshot?.nodes.find((n) => (family === 4 ? n.ipv4?.ip : n.ipv6?.ip) === dst && vtepMac(n) === mac);
      return node === undefined ? problem('Device', op.fdb.dev, 'fdb') : problem('Node', node.name, family === 4 ? 'spec.vxlanTunnelMACAddr' : 'spec.vxlanTunnelMACAddrV6');
    }
    case 'vxlan-add':
      return problem('Device', op.spec.name, 'link');
    case 'addr-add':
    case 'addr-delete':
      return problem('Device', op.dev, 'address');
    case 'nat-replace':
    case 'nat-set':
    case 'nat-delete':
      // The whole transaction was refused: the table is the natOutgoing pools' together.
      return problem('NatTable', `${nftFamily(natOpFamily(op))} ${NAT_TABLE}`, 'spec.natOutgoing');
    default: {
      // An MTU or up-state on a pod's interface: the workload's; on a tunnel device: the device's.
      const workload = snapshot?.workloads.find((w) => w.iface === op.name);
      const field = op.op === 'link-mtu' ? 'mtu' : 'link';
      return workload === undefined ? problem('Device', op.name, field) : problem('Workload', `${workload.namespace}/${workload.name}`, 'interface');
    }
  }
}
