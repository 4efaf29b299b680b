// A long-lived `ip -n NS monitor route`, read line by line. It is the benchmark's one clock for
// "the kernel has it": the kernel announces each route change to the monitor after committing it.
// Each line carries the time `ip` itself printed it (`-ts`, microseconds), on this process's
// performance.now() scale: the time this process gets round to reading the line also holds its
// own pauses (a garbage collection, another scenario's callback), which are not wren's. `ip`
// stamps with the wall clock, which NTP may slew against the monotonic one over a long run, so
// the offset between the two is measured again whenever a wait begins.
//
// ready() proves the monitor is subscribed before anything is timed against it: it adds and
// removes a probe route (TEST-NET-1, its own protocol number) until it sees both lines.
import { createInterface } from 'node:readline';
import { MONITOR_RCVBUF, runOk, spawn } from '../kernel/index.js';

export interface MonitorLine {
  /** The line as `ip monitor` prints it, without its timestamp. */
  readonly line: string;
  /** When `ip` printed it, in performance.now() milliseconds. */
  readonly at: number;
}

interface Waiter {
  readonly match: (line: string) => boolean;
  readonly resolve: (hit: MonitorLine) => void;
}

/** Probes are 192.0.2.206–255 (TEST-NET-1), one per attempt. */
const PROBE_NET = '192.0.2';
const PROBE_PROTO = '251';

export class RouteMonitor {
  private readonly waiters = new Set<Waiter>();
  private readonly listeners = new Set<(hit: MonitorLine) => void>();
  private readonly child;
  /** Lines on stderr about dropped events (netlink overrun): counts would be wrong. */
  readonly overruns: string[] = [];
  /** Resolves with the first such line: a count waited on will never complete. */
  readonly overran: Promise<string>;
  lines = 0;
  /** Wall-clock milliseconds minus performance.now(), as last measured. */
  private clockOffset = wallClockOffset();

  /** `rcvbuf`: the agent's socket buffer by default (BIRD's burst of 10,000 routes once overran iproute2's 1 MiB). */
  constructor(readonly netns: string, rcvbuf = MONITOR_RCVBUF) {
    this.child = spawn('ip', ['-n', netns, '-ts', '-rcvbuf', String(rcvbuf), 'monitor', 'route'], { stdout: 'pipe', stderr: 'pipe' });
    const stdout = this.child.process.stdout;
    if (stdout !== null) createInterface({ input: stdout }).on('line', (line) => this.receive(line));
    let overran: (line: string) => void = () => undefined;
    this.overran = new Promise((resolve) => (overran = resolve));
    const stderr = this.child.process.stderr;
    if (stderr !== null) {
      createInterface({ input: stderr }).on('line', (line) => {
        this.overruns.push(line);
        overran(line);
      });
    }
    // Ending it is how it stops: its exit status means nothing here.
    this.child.process.catch(() => undefined);
  }

  /**
   * Resolves once the monitor has reported a probe route it was shown. The probe is written again
   * every 200 ms until then: the monitor may subscribe after the first write, and with a tiny
   * socket buffer a probe line can be lost to an overrun (the namespace's own IPv6 routes arrive
   * in a burst after its links come up). Bounded by elapsed time, not by attempts: on a loaded
   * machine each attempt's two `ip` runs take longer than the wait between them.
   */
  async ready(timeoutMs = 15_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    // Each attempt has a probe of its own, and ends only on both of its own lines: netlink keeps
    // order, so every earlier attempt's lines are in by then and none trails into what is timed.
    let current = '';
    let added = false;
    let seen = false;
    const unsubscribe = this.subscribe((hit) => {
      if (hit.line.startsWith(`blackhole ${current} `)) added = true;
      else if (added && hit.line.startsWith(`Deleted blackhole ${current} `)) seen = true;
    });
    try {
      for (let attempt = 0; !seen; attempt++) {
        // iproute2 6.1 may exit after an overrun ("Dump terminated"): no probe will ever come.
        if (this.exited || performance.now() > deadline) throw new Error(`ip monitor in ${this.netns} never reported its probe route within ${timeoutMs} ms${this.exitReason()}`);
        current = `${PROBE_NET}.${255 - (attempt % 50)}`;
        added = false;
        await runOk('ip', ['-n', this.netns, 'route', 'replace', 'blackhole', `${current}/32`, 'proto', PROBE_PROTO]);
        await runOk('ip', ['-n', this.netns, 'route', 'del', 'blackhole', `${current}/32`, 'proto', PROBE_PROTO]);
        for (let waited = 0; !seen && waited < 200; waited += 10) await new Promise((r) => setTimeout(r, 10));
      }
    } finally {
      unsubscribe();
    }
  }

  get exited(): boolean {
    return this.child.process.exitCode !== null || this.child.process.signalCode !== null;
  }

  /** Why the monitor may have gone quiet, for an error: it exited, or said something on stderr. */
  private exitReason(): string {
    const { exitCode, signalCode } = this.child.process;
    const exited = this.exited ? `; ip exited (${exitCode ?? signalCode})` : '';
    const said = this.overruns.length > 0 ? `; stderr: ${this.overruns.slice(-3).join(' | ')}` : '';
    return exited + said;
  }

  /**
   * The next line matching, received after this call. A caller that gives up on it (its write
   * failed) may drop the promise: its timeout then rejects nobody.
   */
  next(match: (line: string) => boolean, timeoutMs: number): Promise<MonitorLine> {
    this.clockOffset = wallClockOffset();
    return quietIfDropped(new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`ip monitor in ${this.netns}: no matching line within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter: Waiter = {
        match,
        resolve: (hit) => {
          clearTimeout(timer);
          resolve(hit);
        },
      };
      this.waiters.add(waiter);
    }));
  }

  /** Resolves when `count` lines matching have arrived (counting from now). */
  count(match: (line: string) => boolean, count: number, timeoutMs: number): Promise<MonitorLine> {
    this.clockOffset = wallClockOffset();
    let seen = 0;
    return quietIfDropped(new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        reject(new Error(`ip monitor in ${this.netns}: ${seen} of ${count} lines within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener = (hit: MonitorLine) => {
        if (!match(hit.line)) return;
        seen += 1;
        if (seen < count) return;
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve(hit);
      };
      this.listeners.add(listener);
    }));
  }

  /** Every line from now on, until the returned function is called. */
  subscribe(listener: (hit: MonitorLine) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private receive(stamped: string): void {
    const hit = unstamp(stamped, this.clockOffset);
    this.lines += 1;
    for (const listener of [...this.listeners]) listener(hit);
    for (const waiter of [...this.waiters]) {
      if (waiter.match(hit.line)) {
        this.waiters.delete(waiter);
        waiter.resolve(hit);
      }
    }
  }

  stop(): void {
    this.child.process.kill('SIGTERM');
  }
}

// `ip -ts` prefixes each line with its local time: [2026-11-24T20:39:10.163776].
const STAMP = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)\] /;

/** A line without its stamp, timed by it; a line without one (never, from `-ts`) is timed now. */
function unstamp(stamped: string, clockOffset: number): MonitorLine {
  const m = STAMP.exec(stamped);
  if (m === null) return { line: stamped, at: performance.now() };
  // Date reads a date-time without an offset as local time, as `ip` prints it.
  const wallMs = new Date(m[1] as string).getTime() + Number(m[2]) * 1000;
  return { line: stamped.slice(m[0].length), at: wallMs - clockOffset };
}

/**
 * Date.now() counts whole milliseconds; read at the moment it ticks over, it is exact to a few
 * microseconds. A tick is only trusted when the reads on either side of it were close together
 * (no compilation or preemption between them), else the next one is awaited. Spins for a few
 * milliseconds at most.
 */
function wallClockOffset(): number {
  let lastMono = performance.now();
  let lastWall = Date.now();
  for (;;) {
    const mono = performance.now();
    const wall = Date.now();
    if (wall !== lastWall && wall === lastWall + 1 && mono - lastMono < 0.02) return wall - (lastMono + mono) / 2;
    lastMono = mono;
    lastWall = wall;
  }
}

/** Marks a rejection as handled for whoever drops the promise; awaiting it still throws. */
function quietIfDropped<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}
