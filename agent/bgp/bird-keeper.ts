// Keeps this node's BIRD at what the passes want (dataplane/bgp-manager.ts): after a pass whose
// BIRD configuration differs from the one loaded, the new one is written and loaded — BIRD
// started, or a running one taken over, the first time (kernel/bird/). It runs beside the loop,
// never in a pass: a slow or dead BIRD cannot hold up the node's routes, and what arrives while
// BIRD loads is coalesced into one more load. BIRD dead (its socket silent) is started again, as
// a graceful restart; a failed load is retried with backoff.
//
// The sessions' state is read every few seconds, and for each /status, into metrics and status.
//
// Leaving: when the node is gone from the cluster (the datastore in sync and its Node missing),
// BIRD is told `down`: every session ends with a Cease and the peers drop the node's routes at
// once, rather than waiting for a hold timer. Nothing starts it again until the node is back. A
// SIGTERM otherwise leaves BIRD running: its routes stay at the peers, the next agent takes it
// over; in a container that ends with the agent, BIRD dies without a word and the peers keep the
// routes through BGP graceful restart.
import type { Logger } from 'pino';
import { BirdDaemon, birdPaths, type BirdPaths, type StartedHow } from '../../kernel/bird/bird-daemon.js';
import { BirdUnreachableError } from '../../kernel/bird/bird-socket.js';
import type { BgpSessionState } from '../../kernel/bird/protocols.js';
import { Backoff } from '../../util/backoff.js';
import type { WantedBgp } from '../dataplane/bgp-manager.js';
import type { BgpMetrics } from './bgp-metrics.js';
import { bgpStatus, type BgpStatus } from './bgp-status.js';

export interface BirdKeeperOptions {
  readonly dir: string;
  /** The namespace BIRD runs in (the agent's own when absent). */
  readonly netns?: string;
  readonly log: Logger;
  readonly metrics: BgpMetrics;
  /** Whether the node has left the cluster: BIRD withdraws, and is not started again while it holds. */
  readonly leaving: () => boolean;
  readonly pollMs?: number;
}

export class BirdKeeper {
  readonly paths: BirdPaths;
  private wanted: WantedBgp | undefined;
  private loaded: string | undefined;
  private daemon: BirdDaemon | undefined;
  private started: StartedHow | undefined;
  private sessions: BgpSessionState[] = [];
  private answering = false;
  private left = false;
  private stopped = false;
  private lastError: string | undefined;
  private lastConfiguredAt: number | undefined;
  private lastConfigureMs: number | undefined;
  private dirty = false;
  private running: Promise<void> | undefined;
  private readonly retries = new Backoff({ initialMs: 200, maxMs: 30_000 });
  private retryTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: BirdKeeperOptions) {
    // Refused here, at the agent's start, rather than at its first pass.
    this.paths = birdPaths(options.dir);
  }

  start(): void {
    this.pollTimer = setInterval(() => void this.poll(), this.options.pollMs ?? 2000);
    this.pollTimer.unref();
    // A BIRD left by an agent before this one is shown from the start; the first pass configures it.
    void BirdDaemon.find(this.paths).then((found) => {
      if (found === undefined || this.daemon !== undefined || this.left) return;
      this.daemon = found;
      this.started = 'took-over';
      this.options.log.info({ how: 'took-over', birdPid: found.pid, socket: this.paths.socket }, 'BIRD running');
      return this.poll();
    }, () => undefined);
  }

  /** A pass's wanted BGP: loaded into BIRD when its configuration is not the one BIRD has. */
  want(wanted: WantedBgp | undefined): void {
    this.wanted = wanted;
    if (wanted?.config !== undefined && (wanted.config !== this.loaded || this.daemon === undefined)) this.kick();
  }

  /** The node left the cluster: every session closed with a Cease, BIRD ended. */
  async leave(): Promise<void> {
    if (this.left) return;
    this.left = true;
    await this.running;
    const daemon = this.daemon ?? (await BirdDaemon.find(this.paths).catch(() => undefined));
    this.daemon = undefined;
    this.loaded = undefined;
    this.sessions = [];
    this.answering = false;
    if (daemon === undefined) return;
    await daemon.shutdown('withdraw');
    this.options.log.info({ socket: this.paths.socket }, 'node left the cluster: BGP sessions shut down, routes withdrawn');
    this.report();
  }

  /** SIGTERM: BIRD is left running (routes in place), unless the node is leaving. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pollTimer);
    clearTimeout(this.retryTimer);
    await this.running;
    if (this.options.leaving()) await this.leave();
  }

  /** As last read (every few seconds). */
  status(): BgpStatus {
    const bird = {
      dir: this.paths.dir,
      socket: this.paths.socket,
      pid: this.daemon?.pid ?? null,
      started: this.started ?? null,
      answering: this.answering,
      lastConfiguredAt: this.lastConfiguredAt === undefined ? null : new Date(this.lastConfiguredAt).toISOString(),
      lastConfigureMs: this.lastConfigureMs === undefined ? null : Math.round(this.lastConfigureMs * 100) / 100,
      lastError: this.lastError ?? null,
      left: this.left,
    };
    return bgpStatus(bird, this.wanted, this.sessions);
  }

  /** Read now, for /status. */
  async freshStatus(): Promise<BgpStatus> {
    await this.poll();
    return this.status();
  }

  private kick(): void {
    this.dirty = true;
    this.running ??= this.drain();
  }

  private async drain(): Promise<void> {
    while (this.dirty && !this.stopped) {
      this.dirty = false;
      await this.load();
    }
    this.running = undefined;
  }

  private async load(): Promise<void> {
    const config = this.wanted?.config;
    if (config === undefined) return;
    if (this.left) {
      // A pass ran, so the node is in the cluster again — unless that pass raced its leaving.
      if (this.options.leaving()) return;
      this.left = false;
    }
    const log = this.options.log;
    try {
      if (this.daemon === undefined) {
        const { bird, how } = await BirdDaemon.takeOverOrStart(this.paths, config, { netns: this.options.netns });
        this.daemon = bird;
        this.started = how;
        log.info({ how, birdPid: bird.pid, socket: this.paths.socket }, 'BIRD running');
      } else {
        const { ms } = await this.daemon.configure(config);
        this.lastConfigureMs = ms;
        this.options.metrics.configured(ms);
        log.debug({ ms: Math.round(ms * 100) / 100, exports: this.wanted?.exports.length }, 'BIRD configured');
      }
      this.loaded = config;
      this.lastConfiguredAt = Date.now();
      this.lastError = undefined;
      this.retries.reset();
      await this.poll();
    } catch (error) {
      // BIRD gone: the next try starts one (restarting, so its peers keep its routes meanwhile).
      if (error instanceof BirdUnreachableError) this.daemon = undefined;
      this.lastError = error instanceof Error ? error.message : String(error);
      const retryInMs = this.retries.next();
      log.warn({ err: error, retryInMs }, 'BIRD configuration not loaded');
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => this.kick(), retryInMs);
      this.retryTimer.unref();
      this.report();
    }
  }

  private async poll(): Promise<void> {
    const daemon = this.daemon;
    if (daemon !== undefined) {
      try {
        this.sessions = await daemon.sessions();
        this.answering = true;
      } catch (error) {
        this.answering = false;
        this.sessions = [];
        if (error instanceof BirdUnreachableError && this.daemon === daemon && !this.stopped) {
          this.options.log.warn({ socket: this.paths.socket }, 'BIRD stopped answering; starting it again');
          this.daemon = undefined;
          this.kick();
        }
      }
    }
    this.report();
  }

  private report(): void {
    this.options.metrics.set(this.status());
  }
}
