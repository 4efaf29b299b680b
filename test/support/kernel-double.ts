// A kernel double: the Kernel interface of kernel/kernel.ts over plain data, for the paths a real
// kernel will not take on demand — a line refused mid-pass, a batch process that dies, a read that
// fails — and for counting what each pass wrote (idempotency). Real-kernel tests remain the truth
// for what the kernel accepts; kernel-double.test.ts holds this double to the real adapter, plan
// for plan.
//
// It answers as the real adapter does with persistent batch sessions (the agent's IpKernel):
//   - a plan runs phase by phase, each phase laid out into rounds of batches by the same
//     layoutPhase, and `processes` counts those batches;
//   - a refused line is an OpFailure with the adapter's phase, op, rendered line and iproute2's
//     text (kernel-double-ops.ts), and the lines after it still run (-force);
//   - a batch whose process dies rejects with the session's error, "ip -batch ended (exit N)
//     before finishing a batch": the lines before it are applied, no later line or phase runs;
//   - a failed read of routes or links throws a CommandError; of neighbours or FDB, reads as none.
// Every accepted change is echoed as an `ip -o -N monitor` line to `onMonitorLine` listeners,
// after the batch (a real echo may come before or after the acknowledgement; the loop takes both).
// Fault switches: kernel-double-faults.ts. wren's NAT tables, and nodes without nft or
// nf_tables: kernel-double-nat.ts (`nat`).
import { layoutPhase, DEFAULT_LAYOUT, type LayoutOptions } from '../../kernel/batches.js';
import { CommandError } from '../../kernel/command.js';
import type { ApplyResult, Kernel, OpFailure } from '../../kernel/kernel.js';
import { kernelErrorCode } from '../../kernel/kernel-error.js';
import { renderOp, type BatchTool, type Op, type Plan } from '../../kernel/plan.js';
import type { FdbEntry, KernelState, Link, Neighbor, Route } from '../../kernel/state.js';
import { fdbKey, neighborKey, routeKey } from '../../kernel/state.js';
import type { IfaceName } from '../../kernel/values.js';
import { DoubleFaults, type Fault, type ReadKind } from './kernel-double-faults.js';
import { applyLine, dropRoutesOf, removeLink, routeLine, type DoubleState } from './kernel-double-ops.js';
import { NatDouble, type NatSupport } from './kernel-double-nat.js';
import type { NatRead } from '../../kernel/nat/nat-state.js';
import type { NatOp } from '../../kernel/nat/nat-render.js';

/** Delta counters since the last resetCounts(): what was written, refused and read. */
export interface DoubleCounts {
  /** Lines the kernel accepted, by operation. */
  readonly applied: Partial<Record<Op['op'], number>>;
  readonly refused: number;
  /** apply() calls that ran at least one line. */
  readonly applies: number;
  readonly processes: number;
  readonly reads: number;
}

class BatchDied extends Error {}

export class KernelDouble implements Kernel {
  private readonly state: DoubleState;
  private readonly faults = new DoubleFaults();
  private readonly listeners: ((line: string) => void)[] = [];
  private tally = { applied: {} as Partial<Record<Op['op'], number>>, refused: 0, applies: 0, processes: 0, reads: 0 };
  /** wren's NAT tables, and whether this node can have them (`nat` option). */
  readonly nat: NatDouble;

  /** `peers`: veth pairs among the initial links, each end naming the other. */
  constructor(initial: Partial<KernelState> = {}, private readonly options: { layout?: LayoutOptions; ipip?: boolean; peers?: Record<string, string>; nat?: NatSupport } = {}) {
    this.nat = new NatDouble(options.nat);
    const links = initial.links ?? [];
    this.state = {
      routes: new Map((initial.routes ?? []).map((r) => [routeKey(r), r])),
      links: new Map(links.map((l) => [l.name as string, l])),
      neighbors: new Map((initial.neighbors ?? []).map((n) => [neighborKey(n), n])),
      fdb: new Map((initial.fdb ?? []).map((f) => [fdbKey(f), f])),
      peers: new Map(Object.entries(options.peers ?? {}).flatMap(([a, b]) => [[a, b], [b, a]])),
      nextIndex: links.reduce((max, l) => Math.max(max, l.index), 1) + 1,
      ipip: options.ipip ?? false,
    };
  }

  // --- fault switches ---

  /** The next `count` lines matching `match` are refused with `error` (a kernel's text). */
  failNext(match: (op: Op, line: string) => boolean, error: string, count = 1): Fault {
    return this.faults.failNext(match, error, count);
  }

  /** The next `count` reads of `what` fail with `error`. */
  failNextRead(what: ReadKind | 'any' = 'any', error = 'Dump was interrupted and may be inconsistent.', count = 1): Fault {
    return this.faults.failNextRead(what, error, count);
  }

  /** In the next apply that runs more than `afterLine` lines, the batch process dies after line `afterLine` (counted from 1 in that apply). */
  killMidBatch(afterLine: number): Fault {
    return this.faults.killMidBatch(afterLine);
  }

  // --- counters and what tests look at ---

  counts(): DoubleCounts {
    return { ...this.tally, applied: { ...this.tally.applied } };
  }

  /** Lines accepted since the last reset, all operations together. */
  appliedTotal(): number {
    return Object.values(this.tally.applied).reduce((n, v) => n + v, 0);
  }

  resetCounts(): void {
    this.tally = { applied: {}, refused: 0, applies: 0, processes: 0, reads: 0 };
  }

  /** `ip monitor` as the agent follows it: one call per line, as the real monitor prints it. */
  onMonitorLine(listener: (line: string) => void): void {
    this.listeners.push(listener);
  }

  routes(table?: number): Route[] {
    return [...this.state.routes.values()].filter((r) => table === undefined || r.table === table);
  }

  link(name: string): Link | undefined {
    return this.state.links.get(name);
  }

  neighbors(): Neighbor[] {
    return [...this.state.neighbors.values()];
  }

  fdbEntries(): FdbEntry[] {
    return [...this.state.fdb.values()];
  }

  // --- changes made by someone else (a CNI plugin, an operator) ---

  addLink(link: Omit<Link, 'index'>): Link {
    const added = { ...link, index: this.state.nextIndex++ };
    this.state.links.set(link.name, added);
    this.emit([`[LINK]${added.index}: ${added.name}`]);
    return added;
  }

  /** A pod's veth pair as Calico's CNI plugin leaves it: the host end up, with no address. */
  addVeth(name: IfaceName, peer: IfaceName, mtu = 1500): Link {
    this.addLink({ name: peer, kind: 'veth', mtu, up: true, addresses: [] });
    this.state.peers.set(name, peer).set(peer, name);
    return this.addLink({ name, kind: 'veth', mtu, up: true, addresses: [] });
  }

  deleteLink(name: IfaceName): void {
    removeLink(this.state, name);
    this.emit([`[LINK]Deleted ${name}`]);
  }

  setLinkUp(name: IfaceName, up: boolean): void {
    const link = this.state.links.get(name);
    if (link === undefined) return;
    this.state.links.set(name, { ...link, up });
    if (!up) dropRoutesOf(this.state, name);
    this.emit([`[LINK]${link.index}: ${name}`]);
  }

  // --- the Kernel interface ---

  async readRoutes(table: number): Promise<Route[]> {
    this.read('routes', ['ip', '-N', '-j', '-4', 'route', 'show', 'table', String(table)]);
    return this.routes(table).sort((a, b) => Number(a.dst.includes(':')) - Number(b.dst.includes(':')));
  }

  async readRouteListing(table: number): Promise<Buffer> {
    this.read('listing', ['ip', '-N', '-4', 'route', 'show', 'table', String(table)]);
    return Buffer.from(this.routes(table).map((r) => `${routeLine(r)}\n`).join(''));
  }

  async readLinks(): Promise<readonly Link[]> {
    this.read('links', ['ip', '-N', '-d', '-j', 'addr', 'show']);
    return [...this.state.links.values()].sort((a, b) => a.index - b.index);
  }

  async readNeighbors(dev: IfaceName): Promise<readonly Neighbor[]> {
    if (this.readFailed('neighbors') !== undefined) return [];
    return this.neighbors().filter((n) => n.dev === dev);
  }

  async readFdb(dev: IfaceName): Promise<readonly FdbEntry[]> {
    if (this.readFailed('fdb') !== undefined) return [];
    return this.fdbEntries().filter((f) => f.dev === dev);
  }

  async readNat(): Promise<NatRead> {
    this.tally.reads += 1;
    return this.nat.read();
  }

  async supportsIpip(): Promise<boolean> {
    if (this.state.links.has('tunl0')) return true;
    if (!this.state.ipip) return false;
    applyLine(this.state, { op: 'ipip-add', name: 'tunl0' as IfaceName });
    return true;
  }

  async apply(plan: Plan): Promise<ApplyResult> {
    let applied = 0;
    let processes = 0;
    const failures: OpFailure[] = [];
    const events: string[] = [];
    const counter = { line: 0 };
    try {
      for (const phase of plan) {
        const tool = phase.tool;
        if (tool === 'nft') {
          if (phase.ops.length === 0) continue;
          this.natTransaction(phase.name, phase.ops as readonly NatOp[], failures);
          processes += 1;
          applied += phase.ops.length - failures.filter((f) => f.phase === phase.name).length;
          continue;
        }
        for (const round of layoutPhase(phase.ops, this.options.layout ?? DEFAULT_LAYOUT)) {
          processes += round.length;
          this.tally.processes += round.length;
          let died: Error | undefined;
          // The batches of a round run at once in the real adapter; each runs to its end (or death).
          for (const ops of round) {
            try {
              const failed = this.runBatch(phase.name, tool, ops, counter, events);
              for (const f of failed) failures.push(f);
              applied += ops.length - failed.length;
            } catch (error) {
              if (!(error instanceof BatchDied)) throw error;
              died ??= new Error(error.message);
            }
          }
          if (died !== undefined) throw died;
        }
      }
    } finally {
      if (counter.line > 0) this.tally.applies += 1;
      this.emit(events);
    }
    return { applied, failures, processes };
  }

  /** A NAT phase: one transaction, every operation applied or every one refused with nft's error. */
  private natTransaction(phase: Plan[number]['name'], ops: readonly NatOp[], failures: OpFailure[]): void {
    this.tally.processes += 1;
    const error = this.nat.apply(ops);
    for (const op of ops) {
      if (error === undefined) this.tally.applied[op.op] = (this.tally.applied[op.op] ?? 0) + 1;
      else failures.push({ phase, op, line: renderOp(op), error, code: kernelErrorCode(error) });
    }
    if (error !== undefined) this.tally.refused += ops.length;
  }

  private runBatch(phase: Plan[number]['name'], tool: BatchTool, ops: readonly Op[], counter: { line: number }, events: string[]): OpFailure[] {
    const failed: OpFailure[] = [];
    for (const op of ops) {
      if (this.faults.dies(counter.line)) throw new BatchDied(`${tool} -batch ended (exit SIGKILL) before finishing a batch`);
      counter.line += 1;
      const line = renderOp(op);
      const injected = this.faults.line(op, line);
      const outcome = injected === undefined ? applyLine(this.state, op) : { ok: false as const, error: injected };
      if (outcome.ok) {
        this.tally.applied[op.op] = (this.tally.applied[op.op] ?? 0) + 1;
        for (const e of outcome.events) events.push(e);
        continue;
      }
      this.tally.refused += 1;
      if (outcome.dies === true) throw new BatchDied(`${tool} -batch ended (exit 2) before finishing a batch`);
      failed.push({ phase, op, line, error: outcome.error, code: kernelErrorCode(outcome.error) });
    }
    return failed;
  }

  /** A read that fails throws as the adapter's does (a non-zero exit of `ip … show`). */
  private read(what: ReadKind, argv: string[]): void {
    const error = this.readFailed(what);
    if (error !== undefined) throw new CommandError(argv, 1, error);
  }

  private readFailed(what: ReadKind): string | undefined {
    this.tally.reads += 1;
    return this.faults.read(what);
  }

  private emit(lines: readonly string[]): void {
    if (lines.length === 0 || this.listeners.length === 0) return;
    const copy = [...lines];
    setImmediate(() => {
      for (const line of copy) for (const listener of this.listeners) listener(line);
    });
  }
}
