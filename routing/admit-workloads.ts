// The meaning checks of this node's workloads: a pod's claim to an address is only as good as
// IPAM's record of it. An address is routed to a workload's veth only when
//   - the interface is a workload interface (workload-iface.ts): never eth0, a bridge, a tunnel;
//   - the address lies in an admitted pool;
//   - IPAM allocated it to this very workload: the allocation's attributes name the pod
//     (namespace and pod), or its handle ends in the workload's container ID, and name no other
//     node.
// Anything else is held and reported. A pod that is written before IPAM's record is read (a race
// between two watches) is routed as soon as the record arrives; a reused address goes to the pod
// IPAM now gives it to, not to the one that had it last.
import type { IpAddr } from '../kernel/values.js';
import { hostCidr } from '../kernel/values.js';
import { poolOf } from './block-index.js';
import type { Allocation, IpamBlock, IpPool, ObjectProblem, Workload } from './cluster.js';
import type { WorkloadIfaceTest } from './workload-iface.js';

/** This node's allocations by address: those of its own blocks and those naming it. */
export type LocalAllocations = Map<IpAddr, Allocation>;

/** Whether an allocation of `block` is one this node's workloads may hold. */
export function isLocalAllocation(block: IpamBlock, allocation: Allocation, local: string): boolean {
  return allocation.node === local || (allocation.node === undefined && block.affinityNode === local);
}

/** Adds a block's allocations to the index; returns their addresses. */
export function addLocalAllocations(index: LocalAllocations, block: IpamBlock, local: string): IpAddr[] {
  const added: IpAddr[] = [];
  for (const allocation of block.allocations) {
    if (!isLocalAllocation(block, allocation, local)) continue;
    index.set(allocation.ip, allocation);
    added.push(allocation.ip);
  }
  return added;
}

/** Removes a block's allocations from the index; returns their addresses. */
export function removeLocalAllocations(index: LocalAllocations, block: IpamBlock, local: string): IpAddr[] {
  const removed: IpAddr[] = [];
  for (const allocation of block.allocations) {
    if (!isLocalAllocation(block, allocation, local) || index.get(allocation.ip) !== allocation) continue;
    index.delete(allocation.ip);
    removed.push(allocation.ip);
  }
  return removed;
}

function allocatedTo(allocation: Allocation | undefined, w: Workload): boolean {
  if (allocation === undefined || (allocation.node !== undefined && allocation.node !== w.node)) return false;
  // The pod IPAM names, when it names one; the container ID (which any reader of the endpoint can
  // copy) only when IPAM recorded no pod.
  if (allocation.pod !== undefined) return allocation.namespace === w.namespace && allocation.pod === w.name;
  return w.containerId !== undefined && allocation.handle !== undefined && allocation.handle.endsWith(`.${w.containerId}`);
}

const FIELDS = {
  Pod: { iface: 'metadata.name', ips: 'status.podIPs' },
  WorkloadEndpoint: { iface: 'spec.interfaceName', ips: 'spec.ipNetworks' },
  Workload: { iface: 'spec.interfaceName', ips: 'ips' },
} as const;

function holder(allocation: Allocation | undefined): string {
  // This node keeps the allocations of its own blocks and those naming it (ipam-block.ts).
  if (allocation === undefined) return 'not allocated by IPAM to any pod of this node';
  if (allocation.pod !== undefined) return `allocated to pod ${allocation.namespace}/${allocation.pod}`;
  return `allocated to ${allocation.handle ?? 'no handle'}`;
}

export interface WorkloadVerdict {
  /** The workload with only its admitted addresses; undefined when none is left. */
  readonly workload?: Workload;
  readonly problems: ObjectProblem[];
}

/** Checks one workload of this node. */
export function admitWorkload(w: Workload, pools: readonly IpPool[], allocations: LocalAllocations, isWorkloadIface: WorkloadIfaceTest): WorkloadVerdict {
  const name = `${w.namespace}/${w.name}`;
  // Named as the object the workload was read from: a Pod's interface is made from its name.
  const kind = w.source ?? 'Workload';
  const fields = FIELDS[kind];
  if (!isWorkloadIface(w.iface)) {
    const message = `${w.iface} is not a workload interface (its name must start with the workload interface prefix, and it may hold no address of the host): no route for ${w.ips.join(', ')}`;
    return { problems: [{ kind, name, field: fields.iface, message, reason: 'interface' }] };
  }
  const problems: ObjectProblem[] = [];
  const ips: IpAddr[] = [];
  for (const ip of w.ips) {
    const allocation = allocations.get(ip);
    if (poolOf(hostCidr(ip), pools) === undefined) {
      problems.push({ kind, name, field: fields.ips, message: `${ip} lies in no usable IPPool: held`, reason: 'outside-pool' });
    } else if (!allocatedTo(allocation, w)) {
      problems.push({ kind, name, field: fields.ips, message: `${ip} is ${holder(allocation)}, not to this pod: held until IPAM says so`, reason: 'not-allocated' });
    } else {
      ips.push(ip);
    }
  }
  if (ips.length === w.ips.length) return { workload: w, problems };
  return { workload: ips.length === 0 ? undefined : { ...w, ips }, problems };
}
