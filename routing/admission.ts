// Meaning checks between the datastore's picture and the route engine: objects whose syntax is
// valid but whose meaning would hijack, wipe or stall the node are refused here, each with its
// kind, name, field and reason, and everything else goes on as usual.
//
//   pools      must not overlap forbidden space (forbidden-space.ts): the node's own addresses
//              and subnets, its gateway (so a /0 is refused), every node's underlay, reserved
//              ranges and --forbidden-cidrs;
//   blocks     must lie in an admitted pool and have its block size: a /20 "block" can then never
//              cover other nodes' /26s, nor a block reach forbidden space;
//   nodes      admit-nodes.ts (tunnel addresses backed by IPAM, usable and unique VTEP MACs);
//   workloads  admit-workloads.ts (workload interfaces only, addresses IPAM gave them).
//
// A full pass admits a whole snapshot (`admit`); an incremental one maps the datastore's changes
// through `changes`, which also re-checks this node's workloads when IPAM's record of their
// addresses changes. What depends on nodes, pools or tunnel allocations needs a full pass (the
// route engine already asks for one on node and pool changes).
import type { Cidr, IpAddr } from '../kernel/values.js';
import { cidrContains, cidrsOverlap, familyOf, prefixLength } from '../kernel/values.js';
import { calicoBlockName, isCalicoBlockName, poolOf, poolsBySpecificity } from './block-index.js';
import { isTunnelHandle, olderFirst, type ClusterNode, type ClusterSnapshot, type IpamBlock, type IpPool, type ObjectProblem, type ProblemReason, type Workload } from './cluster.js';
import { admitNodes } from './admit-nodes.js';
import { addLocalAllocations, admitWorkload, removeLocalAllocations, type LocalAllocations } from './admit-workloads.js';
import { forbiddenSpace, overlapOf, type HostSpace } from './forbidden-space.js';
import { needsFullBuild, type EngineChange } from './engine-change.js';
import { blockUnitId as blockUnit, workloadUnitId as workloadUnit } from './route-units.js';
import type { WorkloadIfaceTest } from './workload-iface.js';

export interface AdmissionSettings {
  /** `--forbidden-cidrs`: more space no pool may overlap (the service CIDR, say). */
  readonly forbiddenCidrs: readonly Cidr[];
  readonly isWorkloadIface: WorkloadIfaceTest;
}


export class Admission {
  /** Admitted pools, most specific first. */
  private readonly pools: IpPool[];
  private readonly refusedPools: readonly IpPool[];
  private readonly fixedProblems: ObjectProblem[] = [];
  /** Problems of blocks and workloads, by the engine's unit id, replaced as they change. */
  private readonly unitProblems = new Map<string, ObjectProblem[]>();
  private readonly allocations: LocalAllocations = new Map();
  /** This node's workloads as the datastore has them, and as they were last handed on. */
  private readonly workloads = new Map<string, Workload>();
  private readonly given = new Map<string, Workload>();
  /** The workload interface test, narrowed: an interface holding an address of the host's is never a pod's. */
  private readonly isWorkloadIface: WorkloadIfaceTest;

  private constructor(
    snapshot: ClusterSnapshot,
    private readonly local: string,
    host: HostSpace,
    private readonly settings: AdmissionSettings,
  ) {
    const hostDevices = new Set(host.addresses.map((a) => a.dev));
    this.isWorkloadIface = (name) => settings.isWorkloadIface(name) && !hostDevices.has(name);
    const pools = admitPools(snapshot.pools, snapshot.nodes, local, host, settings.forbiddenCidrs);
    this.refusedPools = pools.refused;
    for (const p of pools.problems) this.fixedProblems.push(p);
    this.pools = poolsBySpecificity(pools.admitted);
  }

  /** Whether the picture has pools but every one was refused: nothing can be routed from it. */
  get everyPoolRefused(): boolean {
    return this.pools.length === 0 && this.refusedPools.length > 0;
  }

  /** Admits a whole snapshot: what the engine may route, and the admission to follow its changes. */
  static admit(snapshot: ClusterSnapshot, local: string, host: HostSpace, settings: AdmissionSettings): { admission: Admission; snapshot: ClusterSnapshot } {
    const admission = new Admission(snapshot, local, host, settings);
    const tunnelHandles = new Map<IpAddr, string>();
    const blocks: IpamBlock[] = [];
    // Only admitted blocks vouch for addresses: a refused one (a /20 over others, say) must not
    // give a pod or a VTEP an address, nor take one away.
    for (const block of snapshot.blocks) {
      const admitted = admission.block(block);
      if (admitted === undefined) continue;
      blocks.push(admitted);
      for (const allocation of block.allocations) if (allocation.handle !== undefined && isTunnelHandle(allocation.handle)) tunnelHandles.set(allocation.ip, allocation.handle);
      addLocalAllocations(admission.allocations, block, local);
    }
    const nodes = admitNodes(snapshot.nodes, local, admission.pools, tunnelHandles, host);
    for (const p of nodes.problems) admission.fixedProblems.push(p);
    const workloads: Workload[] = [];
    for (const w of snapshot.workloads) {
      const admitted = admission.workload(w);
      if (admitted !== undefined) workloads.push(admitted);
    }
    // BGP objects pass as they are: their meaning is checked per node (routing/bgp/node-peers.ts).
    const bgp = { bgpConfigurations: snapshot.bgpConfigurations ?? [], bgpPeers: snapshot.bgpPeers ?? [] };
    return { admission, snapshot: { pools: admission.pools, nodes: nodes.nodes, blocks, affinities: snapshot.affinities, workloads, ...bgp } };
  }

  /**
   * The datastore's changes as the engine may see them: refused blocks and workloads left out
   * (their problems recorded), and this node's workloads re-checked where IPAM's record of
   * their addresses changed. Undefined when only a full pass can answer.
   */
  changes(changes: readonly EngineChange[]): EngineChange[] | undefined {
    const out: EngineChange[] = [];
    const recheck = new Set<IpAddr>();
    const changedWorkloads = new Set<string>();
    if (changes.some(needsFullBuild)) return undefined;
    // IPAM's records first, whatever order the changes came in: a pod changed in the same batch
    // is then checked against the records as they are now.
    const blocksFirst = [...changes].sort((a, b) => Number(b.kind === 'IPAMBlock') - Number(a.kind === 'IPAMBlock'));
    for (const c of blocksFirst) {
      if (c.kind === 'IPAMBlock') {
        if (tunnelAllocations(c.before) !== tunnelAllocations(c.after)) return undefined;
        if (c.before !== undefined) for (const ip of removeLocalAllocations(this.allocations, c.before, this.local)) recheck.add(ip);
        if (c.before !== undefined) this.unitProblems.delete(blockUnit(c.before));
        const after = c.after === undefined ? undefined : this.block(c.after);
        if (after !== undefined) for (const ip of addLocalAllocations(this.allocations, after, this.local)) recheck.add(ip);
        out.push({ kind: 'IPAMBlock', before: c.before, after });
      } else if (c.kind === 'Workload') {
        const before = c.before === undefined ? undefined : this.forget(c.before);
        const after = c.after === undefined ? undefined : this.workload(c.after);
        if (c.after !== undefined) changedWorkloads.add(workloadUnit(c.after));
        if (before !== undefined || after !== undefined) out.push({ kind: 'Workload', before, after });
      } else {
        out.push(c);
      }
    }
    if (recheck.size > 0) {
      for (const [id, w] of this.workloads) {
        if (changedWorkloads.has(id) || !w.ips.some((ip) => recheck.has(ip))) continue;
        const before = this.given.get(id);
        const after = this.workload(w);
        if (before !== after) out.push({ kind: 'Workload', before, after });
      }
    }
    return out;
  }

  /** The admitted pools, most specific first. */
  get admittedPools(): readonly IpPool[] {
    return this.pools;
  }

  problems(): ObjectProblem[] {
    const out = [...this.fixedProblems];
    for (const list of this.unitProblems.values()) for (const p of list) out.push(p);
    return out;
  }

  /** A block the engine may route, or undefined (refused, with its problem recorded). */
  private block(block: IpamBlock): IpamBlock | undefined {
    const id = blockUnit(block);
    const pool = poolOf(block.cidr, this.pools);
    let problem: ObjectProblem | undefined;
    if (!isCalicoBlockName(block.name, block.cidr)) {
      // Two blocks over one CIDR can then never both pass: the impostor cannot take Calico's name.
      problem = { kind: 'IPAMBlock', name: block.name, field: 'metadata.name', message: `is not the name Calico gives block ${block.cidr} (${calicoBlockName(block.cidr)}): not routed`, reason: 'invalid' };
    } else if (pool === undefined) {
      const refused = poolOf(block.cidr, this.refusedPools);
      problem = refused === undefined
        ? { kind: 'IPAMBlock', name: block.name, field: 'spec.cidr', message: `${block.cidr} is not inside any IPPool: not routed`, reason: 'outside-pool' }
        : { kind: 'IPAMBlock', name: block.name, field: 'spec.cidr', message: `${block.cidr} lies in IPPool ${refused.name}, which is refused: not routed`, reason: 'forbidden-space' };
    } else if (prefixLength(block.cidr) !== pool.blockSize) {
      problem = { kind: 'IPAMBlock', name: block.name, field: 'spec.cidr', message: `${block.cidr} is a /${prefixLength(block.cidr)}, but IPPool ${pool.name} makes /${pool.blockSize} blocks: not routed`, reason: 'block-size' };
    }
    if (problem === undefined) {
      this.unitProblems.delete(id);
      return block;
    }
    this.unitProblems.set(id, [problem]);
    return undefined;
  }

  /** A workload as the engine may route it (other nodes' pass as they are: they imply no route here). */
  private workload(w: Workload): Workload | undefined {
    if (w.node !== this.local) return w;
    const id = workloadUnit(w);
    this.workloads.set(id, w);
    const verdict = admitWorkload(w, this.pools, this.allocations, this.isWorkloadIface);
    if (verdict.problems.length > 0) this.unitProblems.set(id, verdict.problems);
    else this.unitProblems.delete(id);
    const previous = this.given.get(id);
    // The same admitted value as last time is handed on as the same object, so "unchanged" is cheap to see.
    const admitted = verdict.workload !== undefined && previous !== undefined && sameIps(previous, verdict.workload) ? previous : verdict.workload;
    if (admitted === undefined) this.given.delete(id);
    else this.given.set(id, admitted);
    return admitted;
  }

  /** A workload that went away or changed: what the engine was given for it. */
  private forget(w: Workload): Workload | undefined {
    if (w.node !== this.local) return w;
    const id = workloadUnit(w);
    const given = this.given.get(id);
    this.workloads.delete(id);
    this.given.delete(id);
    this.unitProblems.delete(id);
    return given;
  }
}

function sameIps(a: Workload, b: Workload): boolean {
  return a.ips.length === b.ips.length && a.ips.every((ip, i) => ip === b.ips[i]);
}

/** The tunnel-handle allocations of a block, as one comparable string (blocks hold at most a few). */
function tunnelAllocations(block: IpamBlock | undefined): string {
  let text = '';
  for (const a of block?.allocations ?? []) if (isTunnelHandle(a.handle)) text += `${a.ip}=${a.handle} `;
  return text;
}

/**
 * The pools a node may use: none overlapping forbidden space (forbidden-space.ts), nor an older
 * pool (Calico refuses to create a pool over another, so of two that overlap anyway the one that
 * was there first keeps its space, and a new pool cannot re-route its blocks), nor the underlay
 * address of a node older than the pool (whichever was there first stands: a pool older than the
 * node keeps its space, and the node's address is refused, admit-nodes.ts). Also what a node
 * registers its tunnel addresses from (agent/node-setup.ts).
 */
export function admitPools(pools: readonly IpPool[], nodes: readonly ClusterNode[], local: string, host: HostSpace, forbiddenCidrs: readonly Cidr[]): { admitted: IpPool[]; refused: IpPool[]; problems: ObjectProblem[] } {
  const forbidden = forbiddenSpace(host, nodes.find((n) => n.name === local), forbiddenCidrs);
  const peers = nodes.filter((n) => n.name !== local);
  const admitted: IpPool[] = [];
  const refused: IpPool[] = [];
  const problems: ObjectProblem[] = [];
  const refuse = (pool: IpPool, reason: ProblemReason, why: string) => {
    refused.push(pool);
    problems.push({ kind: 'IPPool', name: pool.name, field: 'spec.cidr', message: `${pool.cidr} overlaps ${why}: no block or address in it is routed, and no device, MTU or NAT rule follows it`, reason });
  };
  for (const pool of [...pools].sort(olderFirst)) {
    const overlap = overlapOf(pool.cidr, forbidden);
    const node = peers.find((n) => olderFirst(n, pool) < 0 && [n.ipv4, n.ipv6].some((a) => a !== undefined && cidrContains(pool.cidr, a.ip)));
    const older = admitted.find((p) => familyOf(p.cidr) === familyOf(pool.cidr) && cidrsOverlap(p.cidr, pool.cidr));
    if (overlap !== undefined) refuse(pool, 'forbidden-space', `${overlap.what} (${overlap.cidr})`);
    else if (node !== undefined) refuse(pool, 'forbidden-space', `node ${node.name}'s underlay address ${(node.ipv4 ?? node.ipv6)?.ip}, which is older`);
    else if (older !== undefined) refuse(pool, 'overlap', `IPPool ${older.name} (${older.cidr}), which is older`);
    else admitted.push(pool);
  }
  return { admitted, refused, problems };
}
