// The routes this node must have, kept up to date object by object.
//
// `build` computes everything from a whole snapshot (what a full pass, `wren routes` and
// `wren apply` use). `update` then takes the changes of single blocks, affinities and workloads
// and recomputes only the units they touch — one block's routes, not 100,000 — returning the
// route keys whose winner may have changed. Whatever it cannot answer locally it refuses
// (returns undefined) and the caller builds afresh: a node or pool change (paths, tunnel
// addresses and neighbours of many blocks), a block that overlaps another (the deterministic
// winner rule of block-index.ts needs the whole sorted picture), an IPv6 block.
//
// Several units may want one kernel key: all are kept as candidates and the class order of
// route-classes.ts picks the winner, so removing the winner brings the next one back.
import { routeKey } from '../kernel/state.js';
import type { Cidr } from '../kernel/values.js';
import { addressOf, familyOf, ipv4ToNumber, prefixLength } from '../kernel/values.js';
import { nodeBgp } from './bgp/node-peers.js';
import { affinitiesByCidr, indexBlocks, notInPool, poolOf, poolsBySpecificity } from './block-index.js';
import type { BlockAffinity, ClusterNode, ClusterSnapshot, IpamBlock, IpPool, ObjectProblem } from './cluster.js';
import { needsFullBuild, type EngineChange } from './engine-change.js';
import { collisionProblems, pickWinner, ROUTE_CLASSES, type DesiredRoute, type RouteClass } from './route-classes.js';
import { blockUnitId, UnitContext, workloadUnitId, type LocalNode, type RoutingOptions, type UnitOutput } from './route-units.js';

export { needsFullBuild, type EngineChange, type FullBuildKind } from './engine-change.js';

/** The live affinities naming a block CIDR, looked up in the datastore's current picture. */
export type AffinityLookup = (cidr: Cidr) => readonly BlockAffinity[] | undefined;

/** Above this many candidate sub-blocks, an overlap check is left to a full build. */
const MAX_CONTAINED_PROBES = 1024;

export class RouteEngine {
  /** Each unit's routes; most units have one, kept unboxed (an array per block is 100,000 arrays). */
  private readonly units = new Map<string, DesiredRoute | readonly DesiredRoute[]>();
  private readonly unitProblems = new Map<string, ObjectProblem[]>();
  private readonly candidates = new Map<string, DesiredRoute | DesiredRoute[]>();
  private readonly collisions = new Map<string, ObjectProblem[]>();
  /** Devices of local workload routes (candidates), counted: their veths get the pod MTU. */
  private readonly devices = new Map<string, number>();
  private readonly counts = Object.fromEntries(ROUTE_CLASSES.map((c) => [c, 0])) as Record<RouteClass, number>;
  /** Routed blocks by name, and by CIDR for affinity changes. */
  private readonly blocks = new Map<string, { block: IpamBlock; pool: IpPool }>();
  private readonly blockByCidr = new Map<string, string>();
  /** IPv4 blocks that passed the overlap check (routed or outside every pool): length → start → name. */
  private readonly starts = new Map<number, Map<number, string>>();
  private readonly pools: IpPool[];
  private readonly context: UnitContext;
  /** Winners of keys as they were before the running build or update first touched them. */
  private readonly previous = new Map<string, DesiredRoute | undefined>();
  private globalProblems: ObjectProblem[] = [];
  /**
   * What `build` routed, until the first update (or the agent, once idle) needs the indexes
   * above: `wren apply` builds once and never updates, and indexing 100,000 blocks is a tenth of
   * its pass.
   */
  private pendingIndex: { blocks: readonly { block: IpamBlock; pool: IpPool }[]; unpooled: readonly IpamBlock[] } | undefined;
  /** Blocks rejected for overlapping: while any exist, block changes need a full build. */
  private overlapping = 0;

  private constructor(nodes: readonly ClusterNode[], pools: readonly IpPool[], local: LocalNode, options: RoutingOptions, fabric: boolean) {
    this.context = new UnitContext(new Map(nodes.map((n) => [n.name, n])), local, options, fabric);
    this.pools = poolsBySpecificity(pools);
  }

  static build(snapshot: ClusterSnapshot, local: LocalNode, options: RoutingOptions): RouteEngine {
    // With BGP on and a peer for this node, the fabric carries blocks of nodes off its subnet (README, BGP).
    const fabric = options.bgp === true && nodeBgp(snapshot, local.name).peers.length > 0;
    const engine = new RouteEngine(snapshot.nodes, snapshot.pools, local, options, fabric);
    const indexed = indexBlocks(snapshot.blocks, snapshot.pools);
    const affinities = affinitiesByCidr(snapshot.affinities);
    engine.globalProblems = [...engine.context.problems, ...indexed.problems];
    engine.overlapping = indexed.overlapping;
    engine.pendingIndex = indexed;
    // No per-key bookkeeping while building: every key is new, and is settled once at the end.
    for (const { block, pool } of indexed.blocks) engine.addBlock(block, pool, affinities.get(block.cidr), undefined);
    for (const w of snapshot.workloads) engine.setUnit(workloadUnitId(w), engine.context.workloadUnit(w), undefined);
    for (const key of engine.candidates.keys()) engine.settle(key, undefined);
    return engine;
  }

  /**
   * Applies datastore changes (each key's first `before` and last `after`). Returns the route keys
   * whose winner may differ now, or undefined when only `build` can answer; the engine is then
   * stale and must be dropped.
   */
  update(changes: readonly EngineChange[], affinitiesOf: AffinityLookup): Set<string> | undefined {
    if (changes.some(needsFullBuild)) return undefined;
    this.buildIndexes();
    const blockChanges = changes.filter((c): c is Extract<EngineChange, { kind: 'IPAMBlock' }> => c.kind === 'IPAMBlock');
    if (blockChanges.length > 0 && this.overlapping > 0) return undefined;
    if (blockChanges.some((c) => [c.before, c.after].some((b) => b !== undefined && familyOf(b.cidr) !== 4))) return undefined;

    const touched = new Set<string>();
    // Removals first, so a block replaced by another at the same place is not an overlap.
    for (const c of blockChanges) if (c.before !== undefined) this.removeBlock(c.before, touched);
    for (const c of blockChanges) {
      if (c.after === undefined) continue;
      if (this.overlaps(c.after.cidr)) return undefined;
      const pool = poolOf(c.after.cidr, this.pools);
      if (pool === undefined) {
        this.indexStart(c.after);
        this.unitProblems.set(blockUnitId(c.after), [notInPool(c.after)]);
      } else {
        this.addBlock(c.after, pool, affinitiesOf(c.after.cidr), touched);
      }
    }
    for (const c of changes) {
      if (c.kind === 'BlockAffinity') {
        for (const cidr of new Set([c.before?.cidr, c.after?.cidr])) {
          const name = cidr === undefined ? undefined : this.blockByCidr.get(cidr);
          const held = name === undefined ? undefined : this.blocks.get(name);
          if (held !== undefined) this.setUnit(blockUnitId(held.block), this.context.blockUnit(held.block, held.pool, affinitiesOf(held.block.cidr)), touched);
        }
      } else if (c.kind === 'Workload') {
        if (c.before !== undefined) this.setUnit(workloadUnitId(c.before), { routes: [], problems: [] }, touched);
        if (c.after !== undefined) this.setUnit(workloadUnitId(c.after), this.context.workloadUnit(c.after), touched);
      }
    }
    this.settleAll(touched);
    return touched;
  }

  winner(key: string): DesiredRoute | undefined {
    const c = this.candidates.get(key);
    return c === undefined ? undefined : Array.isArray(c) ? pickWinner(c) : c;
  }

  /** Every desired route, one per kernel key. */
  routes(): DesiredRoute[] {
    const out: DesiredRoute[] = [];
    for (const c of this.candidates.values()) out.push(Array.isArray(c) ? pickWinner(c) : c);
    return out;
  }

  problems(): ObjectProblem[] {
    const out = [...this.globalProblems];
    for (const list of this.unitProblems.values()) for (const p of list) out.push(p);
    for (const list of this.collisions.values()) for (const p of list) out.push(p);
    return out;
  }

  countsByClass(): Record<RouteClass, number> {
    return { ...this.counts };
  }

  /** Whether a local workload's route uses this device. */
  usesDevice(dev: string): boolean {
    return this.devices.has(dev);
  }

  get size(): number {
    return this.candidates.size;
  }

  private addBlock(block: IpamBlock, pool: IpPool, affinities: readonly BlockAffinity[] | undefined, touched: Set<string> | undefined): void {
    if (touched !== undefined) this.indexBlock(block, pool);
    this.setUnit(blockUnitId(block), this.context.blockUnit(block, pool, affinities), touched);
  }

  private indexBlock(block: IpamBlock, pool: IpPool): void {
    this.blocks.set(block.name, { block, pool });
    this.blockByCidr.set(block.cidr, block.name);
    this.indexStart(block);
  }

  /**
   * Builds now the indexes the first update would otherwise build in front of its change (a
   * tenth of a second at 100,000 blocks): the agent calls it once idle after a full pass.
   */
  prepareForUpdates(): void {
    this.buildIndexes();
  }

  private buildIndexes(): void {
    const pending = this.pendingIndex;
    if (pending === undefined) return;
    this.pendingIndex = undefined;
    for (const { block, pool } of pending.blocks) this.indexBlock(block, pool);
    for (const block of pending.unpooled) this.indexStart(block);
  }

  private removeBlock(block: IpamBlock, touched: Set<string>): void {
    const held = this.blocks.get(block.name);
    this.blocks.delete(block.name);
    if (held !== undefined && this.blockByCidr.get(held.block.cidr) === block.name) this.blockByCidr.delete(held.block.cidr);
    this.unindexStart(held?.block ?? block);
    this.setUnit(blockUnitId(block), { routes: [], problems: [] }, touched);
  }

  /**
   * Replaces a unit's routes and problems, adding every key it touches to `touched` (undefined
   * while building). Two objects with one identity in a snapshot (which a store never holds)
   * both keep their routes, as a full calculation would.
   */
  private setUnit(id: string, output: UnitOutput, touched: Set<string> | undefined): void {
    const old = routesOf(this.units.get(id));
    const merge = touched === undefined && old.length > 0;
    if (!merge) for (const route of old) this.withdraw(routeKey(route), route, touched);
    const routes = merge ? [...old, ...output.routes] : output.routes;
    // Stored at its length: an array grown by push keeps room for 17.
    if (routes.length === 1) this.units.set(id, routes[0] as DesiredRoute);
    else if (routes.length > 1) this.units.set(id, routes.slice());
    else this.units.delete(id);
    for (const route of output.routes) this.offer(routeKey(route), route, touched);
    const problems = merge ? [...(this.unitProblems.get(id) ?? []), ...output.problems] : output.problems;
    if (problems.length > 0) this.unitProblems.set(id, problems);
    else this.unitProblems.delete(id);
  }

  private offer(key: string, route: DesiredRoute, touched: Set<string> | undefined): void {
    if (touched !== undefined) this.note(key, touched);
    if (route.class === 'workload' && route.dev !== undefined) this.devices.set(route.dev, (this.devices.get(route.dev) ?? 0) + 1);
    const c = this.candidates.get(key);
    if (c === undefined) this.candidates.set(key, route);
    else if (Array.isArray(c)) c.push(route);
    else this.candidates.set(key, [c, route]);
  }

  private withdraw(key: string, route: DesiredRoute, touched: Set<string> | undefined): void {
    if (touched !== undefined) this.note(key, touched);
    if (route.class === 'workload' && route.dev !== undefined) {
      const n = (this.devices.get(route.dev) ?? 0) - 1;
      if (n > 0) this.devices.set(route.dev, n);
      else this.devices.delete(route.dev);
    }
    const c = this.candidates.get(key);
    if (c === route) this.candidates.delete(key);
    else if (Array.isArray(c)) {
      const rest = c.filter((r) => r !== route);
      this.candidates.set(key, rest.length === 1 ? (rest[0] as DesiredRoute) : rest);
    }
  }

  /** First touch of a key in this update: remember its winner so counts are adjusted once. */
  private note(key: string, touched: Set<string>): void {
    if (touched.has(key)) return;
    touched.add(key);
    this.previous.set(key, this.winner(key));
  }

  private settleAll(touched: Iterable<string>): void {
    for (const key of touched) this.settle(key, this.previous.get(key));
    this.previous.clear();
  }

  /** After a key's candidates changed: class counts and collision problems follow the winner. */
  private settle(key: string, before: DesiredRoute | undefined): void {
    const after = this.winner(key);
    if (before !== undefined) this.counts[before.class] -= 1;
    if (after !== undefined) this.counts[after.class] += 1;
    const c = this.candidates.get(key);
    const problems = Array.isArray(c) && after !== undefined ? collisionProblems(c, after) : [];
    if (problems.length > 0) this.collisions.set(key, problems);
    else this.collisions.delete(key);
  }

  private indexStart(block: IpamBlock): void {
    if (familyOf(block.cidr) !== 4) return;
    const length = prefixLength(block.cidr);
    let byStart = this.starts.get(length);
    if (byStart === undefined) this.starts.set(length, (byStart = new Map()));
    byStart.set(ipv4ToNumber(addressOf(block.cidr)), block.name);
  }

  private unindexStart(block: IpamBlock): void {
    if (familyOf(block.cidr) !== 4) return;
    const byStart = this.starts.get(prefixLength(block.cidr));
    const start = ipv4ToNumber(addressOf(block.cidr));
    if (byStart?.get(start) === block.name) byStart.delete(start);
  }

  /** Whether an IPv4 CIDR overlaps a block already held (or cannot cheaply be told). */
  private overlaps(cidr: Cidr): boolean {
    const length = prefixLength(cidr);
    const start = ipv4ToNumber(addressOf(cidr));
    for (const [other, byStart] of this.starts) {
      if (byStart.size === 0) continue;
      if (other <= length) {
        const size = 2 ** (32 - other);
        if (byStart.has(Math.floor(start / size) * size)) return true;
        continue;
      }
      const probes = 2 ** (other - length);
      if (probes > MAX_CONTAINED_PROBES) return true;
      const step = 2 ** (32 - other);
      for (let i = 0; i < probes; i++) if (byStart.has(start + i * step)) return true;
    }
    return false;
  }
}

function routesOf(unit: DesiredRoute | readonly DesiredRoute[] | undefined): readonly DesiredRoute[] {
  if (unit === undefined) return [];
  return Array.isArray(unit) ? unit : [unit as DesiredRoute];
}
