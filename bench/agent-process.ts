// One `wren agent` confined to a node namespace (`ip netns exec`, as `wren lab` runs them),
// reading etcd across the underlay, answering /metrics on a unix socket in its own temporary
// directory, logging at debug level (every pass, with its duration) to a file there. Not
// detached: it ends with this process if the benchmark dies.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { httpGet } from '../util/index.js';
import { spawn, type Spawned } from '../kernel/index.js';
import { wrenMain } from '../lab/index.js';
import { loggedPass, PassLogTail, type LoggedPass } from './pass-log.js';

export type { LoggedPass } from './pass-log.js';

export const AGENT_RESYNC_S = 90;

export interface AgentMetricsView {
  readonly passes: number;
  readonly passSecondsSum: number;
  readonly programmed: number;
  readonly held: number;
  readonly kernelChanges: number;
}

export class AgentProcess {
  readonly socket: string;
  readonly log: string;
  private child: Spawned | undefined;
  /** Set when the process has ended (a crash during start-up shows here, not as a timeout). */
  exited: string | undefined;

  /** `extraEnv`: more of the agent's settings (the BGP scenario's WREN_BGP and WREN_BGP_DIR). */
  constructor(readonly netns: string, readonly node: string, readonly dir: string, etcdEndpoint: string, extraArgs: readonly string[] = [], extraEnv: Readonly<Record<string, string>> = {}) {
    this.socket = join(dir, 'agent.sock');
    this.log = join(dir, 'agent.log');
    this.child = spawn('ip', ['netns', 'exec', netns, process.execPath, ...extraArgs, wrenMain(), 'agent'], {
      stdout: { file: this.log },
      stderr: { file: this.log },
      env: {
        PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
        NODENAME: node,
        DATASTORE_TYPE: 'etcdv3',
        ETCD_ENDPOINTS: etcdEndpoint,
        WREN_HTTP_LISTEN: `unix:${this.socket}`,
        WREN_MTU_FILE: join(dir, 'mtu'),
        WREN_LOG_LEVEL: 'debug',
        // Its default, said out loud: the idle cost is computed per resync period.
        WREN_RESYNC_INTERVAL: String(AGENT_RESYNC_S),
        ...extraEnv,
      },
    });
    this.child.process.then(
      (r) => (this.exited = `exit ${r.exitCode ?? r.signal}`),
      (e: unknown) => (this.exited = (e as Error).message),
    );
  }

  /** The agent's own pid: `ip netns exec` execs it, so it is the pid spawned. */
  get pid(): number {
    const pid = this.child?.pid;
    if (pid === undefined) throw new Error('agent is not running');
    return pid;
  }

  async metrics(): Promise<AgentMetricsView> {
    const { status, body } = await httpGet({ path: this.socket }, '/metrics', 5000);
    if (status !== 200) throw new Error(`agent /metrics answered ${status}`);
    return parseMetrics(body);
  }

  /** Metrics, or undefined while the agent is not answering yet. */
  async tryMetrics(): Promise<AgentMetricsView | undefined> {
    return this.metrics().catch(() => undefined);
  }

  /**
   * Waits until no pass has completed for a while: twice the longest pass seen while waiting
   * (a pass under way finishes within one pass time), and at least `minQuietMs`. Watches the
   * agent's log, not its /metrics: see pass-log.ts for what polling cost the agent.
   */
  async idle(minQuietMs = 150, timeoutMs = 120_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    const tail = await PassLogTail.fromEnd(this.log);
    try {
      let lastChange = performance.now();
      let longestMs = 0;
      for (;;) {
        await sleep(20);
        const passes = await tail.read();
        if (passes.length > 0) {
          longestMs = passes.reduce((longest, p) => Math.max(longest, p.ms), longestMs);
          lastChange = performance.now();
        } else if (performance.now() - lastChange >= Math.max(minQuietMs, 2 * longestMs)) {
          return;
        }
        if (performance.now() > deadline) throw new Error(`agent in ${this.netns} never went idle`);
      }
    } finally {
      await tail.close();
    }
  }

  /** The passes the agent has logged (debug level logs every one) that ended at or after `sinceEpochMs`. */
  async passesLogged(sinceEpochMs: number): Promise<LoggedPass[]> {
    const text = await readFile(this.log, 'utf8');
    return text.split('\n').map(loggedPass).filter((p): p is LoggedPass => p !== undefined && p.endedAt >= sinceEpochMs);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    this.child = undefined;
    const exited = child.process.catch(() => undefined);
    child.process.kill('SIGTERM');
    const timer = setTimeout(() => child.process.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

export function parseMetrics(text: string): AgentMetricsView {
  let passes = 0;
  let passSecondsSum = 0;
  let programmed = 0;
  let held = 0;
  let kernelChanges = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (line.startsWith('wren_passes_total{')) passes += value;
    else if (line.startsWith('wren_pass_duration_seconds_sum')) passSecondsSum = value;
    else if (line.startsWith('wren_routes_programmed{')) programmed += value;
    else if (line.startsWith('wren_routes_held ')) held = value;
    else if (line.startsWith('wren_kernel_changes_total{')) kernelChanges += value;
  }
  return { passes, passSecondsSum, programmed, held, kernelChanges };
}
