// Contender 3: BIRD 2 (`/usr/sbin/bird`), inside the benchmark's namespace, its config, control
// socket, pid file and log in a temporary directory of its own, in the foreground (`-f`) so the
// pid started is BIRD's and it ends with this process.
//
// "Converged" is the moment the last of its routes reaches the kernel: a `ip monitor route`
// started (and proven subscribed) before BIRD counts the `proto bird` additions; the time is
// from spawning BIRD to receiving the line that completes the count. The count is checked
// against the kernel afterwards, and a netlink overrun (dropped monitor events) is reported.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandExists, runOk, spawn, type Spawned } from '../../kernel/index.js';
import type { DesiredRoute } from '../../routing/index.js';
import { memory, type Memory } from '../proc.js';
import type { RouteMonitor } from '../route-monitor.js';
import type { PlannedPhase } from '../wren-lines.js';
import { birdConfig } from './bird-config.js';

export const BIRD = '/usr/sbin/bird';

export async function birdInstalled(): Promise<boolean> {
  return commandExists(BIRD);
}

export interface RunningBird {
  readonly pid: number;
  /** Spawn to the last route seen in the kernel. */
  readonly convergedMs: number;
  readonly memory: Memory | undefined;
  stop(): Promise<void>;
}

/**
 * What wren writes besides routes (the VXLAN device, its address, FDB and neighbour entries,
 * pod MTUs), set up untimed before BIRD starts: BIRD programs routes only, and needs the
 * devices they go through.
 */
export async function setUpNonRoutes(netns: string, phases: readonly PlannedPhase[]): Promise<void> {
  for (const phase of phases) {
    const lines = phase.lines.filter((l) => !l.startsWith('route '));
    if (lines.length > 0) await runOk(phase.tool, ['-n', netns, '-batch', '-'], `${lines.join('\n')}\n`);
  }
}

/** The monitor dropped events while BIRD ran: its count cannot complete, and the run says nothing. */
export class MonitorOverrun extends Error {
  override readonly name = 'MonitorOverrun';
  constructor(netns: string, line: string) {
    super(`ip monitor in ${netns} overran while BIRD ran (${line}): its count of BIRD's routes is short`);
  }
}

export const isBirdAdd = (line: string) => !line.startsWith('Deleted') && line.includes(' proto bird');

export async function startBird(netns: string, routerId: string, routes: readonly DesiredRoute[], monitor: RouteMonitor, timeoutMs: number): Promise<RunningBird> {
  const dir = await mkdtemp(join(tmpdir(), 'wren-b-bird-'));
  let child: Spawned | undefined;
  const stop = async () => {
    if (child !== undefined) {
      const exited = child.process.catch(() => undefined);
      child.process.kill('SIGTERM');
      const timer = setTimeout(() => child?.process.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      child = undefined;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const conf = join(dir, 'bird.conf');
    await writeFile(conf, birdConfig(routerId, routes));
    const expected = routes.filter((r) => !r.dst.includes(':')).length;
    const converged = monitor.count(isBirdAdd, expected, timeoutMs);
    const log = join(dir, 'bird.log');
    const started = performance.now();
    child = spawn('ip', ['netns', 'exec', netns, BIRD, '-f', '-c', conf, '-s', join(dir, 'bird.ctl'), '-P', join(dir, 'bird.pid')], { stdout: 'ignore', stderr: { file: log } });
    const pid = child.pid;
    if (pid === undefined) throw new Error('bird did not start');
    const died = child.process.then(async (r) => {
      const tail = (await readFile(log, 'utf8').catch(() => '')).trim().split('\n').slice(-3).join('; ');
      throw new Error(`bird exited (${r.exitCode ?? r.signal}) before converging: ${tail}`);
    });
    const overran = monitor.overran.then((line) => {
      throw new MonitorOverrun(netns, line);
    });
    const last = await Promise.race([converged, died, overran]);
    return { pid, convergedMs: last.at - started, memory: await memory(pid), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
