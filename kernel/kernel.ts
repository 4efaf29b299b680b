// The kernel adapter: reads a namespace's state with `ip -j` and applies a plan with one
// `ip -batch` (and, for VXLAN FDB entries, one `bridge -batch`) per phase — in the order the
// kernel takes fastest, and a long phase split over a few processes at once (batches.ts).
//
// Batches run with `-force`: a failing line (a device that vanished, a route someone else added)
// does not stop the lines after it. iproute2 reports each failure as "Command failed -:N" after
// the kernel's message (batch-failures.ts reads them); those are mapped back to the plan's
// operations so the caller can tell exactly what did not happen and re-read the kernel.
//
// wren's NAT tables are read with `nft -j list table` and written with one `nft -f -` per plan:
// one transaction (kernel/nat/).
import type { BatchLineFailure } from './batch-failures.js';
import { runBatchLines } from './batch-run.js';
import type { BatchSession } from './batch-session.js';
import { DEFAULT_LAYOUT, layoutPhase, type LayoutOptions } from './batches.js';
import { CommandError, run, runBytes, runLarge, runLargeBytes } from './command.js';
import { KernelError, kernelErrorCode, type KernelErrorCode } from './kernel-error.js';
import type { NatRead } from './nat/nat-state.js';
import { readNatTables, runNftTransaction } from './nat/nft.js';
import { parseFdb, parseLinks, parseNeighbors, parseRoutes } from './parse.js';
import type { BatchTool, Op, Phase, Plan } from './plan.js';
import { renderOp } from './plan.js';
import type { FdbEntry, Link, Neighbor, Route } from './state.js';
import type { IfaceName } from './values.js';

export interface OpFailure {
  readonly phase: Phase['name'];
  readonly op: Op;
  readonly line: string;
  /** iproute2's messages for the line, as printed. */
  readonly error: string;
  /** What they mean (kernel-error.ts): 'ESRCH' for a route already gone, 'EEXIST', 'ENODEV'… */
  readonly code: KernelErrorCode;
}

export interface ApplyResult {
  /** Operations the kernel accepted. */
  readonly applied: number;
  readonly failures: readonly OpFailure[];
  /** Batches run: each a process, or a stream into a persistent one (0 for an empty plan). */
  readonly processes: number;
}

export interface Kernel {
  readRoutes(table: number): Promise<Route[]>;
  readLinks(): Promise<readonly Link[]>;
  /**
   * The route table as `ip -N route show` lists it, one line a route (IPv4, then IPv6), as bytes:
   * what a periodic check compares with the previous listing (usually equal, and then never
   * decoded), parsing only lines it does not know. Optional: a kernel without it is checked by full reads.
   */
  readRouteListing?(table: number): Promise<Buffer>;
  readNeighbors(dev: IfaceName): Promise<readonly Neighbor[]>;
  readFdb(dev: IfaceName): Promise<readonly FdbEntry[]>;
  /**
   * wren's NAT tables (`ip wren-nat`, `ip6 wren-nat`) as plain data, or why this node can have
   * none (no nft, no nf_tables). Optional: a kernel without it has no NAT, and none is planned.
   */
  readNat?(): Promise<NatRead>;
  apply(plan: Plan): Promise<ApplyResult>;
  /**
   * Whether this kernel can have an IPIP device. Loading the ipip module puts a `tunl0` in every
   * namespace; without it, creating one fails with "Unknown device type". Asking creates tunl0
   * when it is possible, which is what a node with an IPIP pool needs anyway.
   */
  supportsIpip(): Promise<boolean>;
}

export const NO_IPIP_SUPPORT = 'the kernel has no IPIP support (module ipip, CONFIG_NET_IPIP)';

/**
 * The real kernel, through iproute2; `netns` confines every command to that namespace. With
 * `persistent`, batches stream into long-lived `ip`/`bridge` processes (the agent: a change
 * lands in a fraction of a millisecond instead of a process start); `close()` ends them.
 */
export class IpKernel implements Kernel {
  private readonly nsArgs: readonly string[];
  /** Persistent processes by tool and slot (`ip 0`, `ip 1`, …: see runBatch). */
  private readonly sessions = new Map<string, BatchSession>();
  private linkIndexes = new Map<string, number>();
  /** The last output of each read (by its arguments) and what it parsed to: see readParsed. */
  private readonly parsed = new Map<string, { bytes: Buffer; value: unknown }>();

  private readonly layout: LayoutOptions;

  constructor(readonly netns?: string, private readonly options: { persistent?: boolean; layout?: LayoutOptions } = {}) {
    this.nsArgs = netns === undefined ? [] : ['-n', netns];
    this.layout = options.layout ?? DEFAULT_LAYOUT;
  }

  close(): void {
    this.closeSessions();
  }

  private closeSessions(): void {
    for (const session of this.sessions.values()) session.close();
    this.sessions.clear();
  }

  async readRoutes(table: number): Promise<Route[]> {
    const [v4, v6] = await Promise.all(
      (['-4', '-6'] as const).map((f) => runLarge('ip', [...this.nsArgs, '-N', '-j', f, 'route', 'show', 'table', String(table)])),
    );
    return [...parseRoutes(v4 ?? '', 4, table), ...parseRoutes(v6 ?? '', 6, table)];
  }

  async readRouteListing(table: number): Promise<Buffer> {
    const parts = await Promise.all((['-4', '-6'] as const).map((f) => runLargeBytes('ip', [...this.nsArgs, '-N', f, 'route', 'show', 'table', String(table)])));
    return Buffer.concat(parts);
  }

  async readLinks(): Promise<readonly Link[]> {
    const links = await this.readParsed('ip', [...this.nsArgs, '-N', '-d', '-j', 'addr', 'show'], parseLinks, 'throw');
    this.noteLinkIndexes(links);
    return links;
  }

  /**
   * Runs a read and parses its output — or, when the output is byte for byte the previous one of
   * the same command, returns what that parsed to. An idle node's periodic check reads the same
   * devices, neighbours and FDB every time, and parsing them afresh was most of the garbage it
   * made. What is returned is shared between calls, hence read-only. `failed`: what a non-zero
   * exit returns, or 'throw'.
   */
  private async readParsed<T>(file: string, args: readonly string[], parse: (text: string) => T, failed: T | 'throw'): Promise<T> {
    const result = await runBytes(file, args);
    const what = [file, ...args].join(' ');
    if (result.exitCode !== 0) {
      this.parsed.delete(what);
      if (failed === 'throw') throw new CommandError([file, ...args], result.exitCode, result.stderr);
      return failed;
    }
    const last = this.parsed.get(what);
    if (last !== undefined && last.bytes.equals(result.stdout)) return last.value as T;
    const value = parse(result.stdout.toString('utf8'));
    this.parsed.set(what, { bytes: result.stdout, value });
    return value;
  }

  /**
   * iproute2 caches interface name → index for the life of the process. A device re-created
   * under the same name (a pod's veth after a restart, a re-created vxlan.calico) gets a new
   * index the cached entry does not know, so long-lived batch processes are restarted whenever
   * a name they may have resolved now has another index, or is gone.
   */
  private noteLinkIndexes(links: readonly Link[]): void {
    const now = new Map(links.map((l) => [l.name as string, l.index]));
    for (const [name, index] of this.linkIndexes) {
      if (now.get(name) !== index) {
        this.closeSessions();
        break;
      }
    }
    this.linkIndexes = now;
  }

  async readNeighbors(dev: IfaceName): Promise<readonly Neighbor[]> {
    return this.readParsed('ip', [...this.nsArgs, '-j', 'neigh', 'show', 'dev', dev], (text) => parseNeighbors(text, dev), []);
  }

  async readFdb(dev: IfaceName): Promise<readonly FdbEntry[]> {
    return this.readParsed('bridge', [...this.nsArgs, '-j', 'fdb', 'show', 'dev', dev], (text) => parseFdb(text, dev), []);
  }

  async readNat(): Promise<NatRead> {
    return readNatTables(this.netns);
  }

  async supportsIpip(): Promise<boolean> {
    if ((await run('ip', [...this.nsArgs, 'link', 'show', 'dev', 'tunl0'])).exitCode === 0) return true;
    const result = await run('ip', [...this.nsArgs, 'link', 'add', 'name', 'tunl0', 'type', 'ipip']);
    const code = result.exitCode === 0 ? undefined : kernelErrorCode(result.stderr);
    if (code === undefined || code === 'EEXIST') return true;
    if (code === 'EOPNOTSUPP') return false;
    throw new KernelError(['ip', ...this.nsArgs, 'link', 'add', 'name', 'tunl0', 'type', 'ipip'], result.exitCode, result.stderr);
  }

  async apply(plan: Plan): Promise<ApplyResult> {
    let applied = 0;
    let processes = 0;
    const failures: OpFailure[] = [];
    for (const phase of plan) {
      const tool = phase.tool;
      if (tool === 'nft') {
        // One transaction: all of it applied, or all of it refused.
        const lines = phase.ops.map(renderOp);
        const refused = await runNftTransaction(this.netns, lines);
        processes += lines.length === 0 ? 0 : 1;
        if (refused === undefined) applied += lines.length;
        else for (const [i, op] of phase.ops.entries()) failures.push({ phase: phase.name, op, line: lines[i] ?? '', error: refused, code: kernelErrorCode(refused) });
        continue;
      }
      for (const round of layoutPhase(phase.ops, this.layout)) {
        // Settled, not Promise.all: no batch of the round may still be running when this throws.
        const results = await Promise.allSettled(
          round.map(async (ops, slot) => {
            const lines = ops.map(renderOp);
            const failed = await this.runBatch(tool, lines, slot).catch((error: unknown) => (ops.every(isNeighborOp) ? this.runLineByLine(tool, lines) : Promise.reject(error)));
            return { ops, lines, failed };
          }),
        );
        processes += round.length;
        for (const result of results) {
          if (result.status === 'rejected') throw result.reason;
          const { ops, lines, failed } = result.value;
          for (const { lineNumber, error, code } of failed) {
            const op = ops[lineNumber - 1];
            if (op !== undefined) failures.push({ phase: phase.name, op, line: lines[lineNumber - 1] ?? '', error, code });
          }
          applied += ops.length - failed.length;
        }
      }
      // Devices created or deleted: later phases must resolve their names afresh.
      if (phase.ops.some((op) => op.op === 'vxlan-add' || op.op === 'ipip-add' || op.op === 'link-delete')) this.closeSessions();
    }
    return { applied, failures, processes };
  }

  /**
   * A neighbour batch that died, again, each line in a process of its own. `ip neigh` is the one
   * command that ends a batch (even with -force) when the kernel refuses an entry, so which lines
   * ran is unknown; its lines are replaces and flushes, which are safe to run twice, and there
   * are few of them (one per remote VTEP that changed). Each refusal is then a line's own, and
   * the rest of the pass goes on.
   */
  private async runLineByLine(tool: BatchTool, lines: readonly string[]): Promise<BatchLineFailure[]> {
    const failed: BatchLineFailure[] = [];
    for (const [index, line] of lines.entries()) {
      try {
        const [own] = await runBatchLines(tool, this.netns, [line], { force: true });
        if (own !== undefined) failed.push({ ...own, lineNumber: index + 1 });
      } catch (error) {
        // The process died on this line: the refusal is this line's alone.
        if (!(error instanceof KernelError)) throw error;
        failed.push({ lineNumber: index + 1, error: error.stderr.trim().split('\n').join('; ') || `exit ${error.exitCode}`, code: error.code });
      }
    }
    return failed;
  }

  /** `slot`: which of a round's parallel batches this is; each slot has its own persistent process. */
  private async runBatch(tool: BatchTool, lines: readonly string[], slot: number): Promise<BatchLineFailure[]> {
    if (this.options.persistent) {
      // Loaded here: it runs on execa, whose import `wren apply` (never persistent) need not pay.
      const { BatchSession } = await import('./batch-session.js');
      const key = `${tool} ${slot}`;
      let session = this.sessions.get(key);
      if (session === undefined) {
        session = new BatchSession(tool, this.nsArgs);
        this.sessions.set(key, session);
      }
      return session.run(lines);
    }
    // A process that died before the end line throws: which lines ran is unknown.
    return runBatchLines(tool, this.netns, lines, { force: true });
  }
}

function isNeighborOp(op: Op): boolean {
  return op.op === 'neigh-replace' || op.op === 'neigh-delete';
}
