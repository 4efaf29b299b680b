// The one capped exponential backoff: every retry in wren (informers, etcd watches and listings,
// node registration, the reconcile loop's retries) waits through one of these. Delays grow by a
// factor up to a cap, so a node that lost its datastore for an hour does not wait long once it is
// back; reset() after a success starts again from the initial delay. Optional jitter draws each
// delay from [(1 − jitter) × delay, delay], never above it, so a fleet of agents does not
// reconnect in lock-step after an outage and the cap stays a real ceiling.

export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  /** How much each delay grows over the last. Default 2. */
  readonly factor?: number;
  /** Fraction by which a delay may be shortened at random, 0 to 1. Default 0: exact delays. */
  readonly jitter?: number;
  /** Source of randomness for the jitter, [0, 1); injectable so tests get exact delays. */
  readonly random?: () => number;
}

export class Backoff {
  readonly #options: BackoffOptions;
  #current: number;

  constructor(options: BackoffOptions) {
    const { initialMs, maxMs, factor = 2, jitter = 0 } = options;
    if (!(initialMs > 0 && maxMs >= initialMs)) throw new RangeError(`backoff needs 0 < initialMs <= maxMs, got ${initialMs} and ${maxMs}`);
    if (!(factor >= 1)) throw new RangeError(`backoff needs factor >= 1, got ${factor}`);
    if (!(jitter >= 0 && jitter <= 1)) throw new RangeError(`backoff needs 0 <= jitter <= 1, got ${jitter}`);
    this.#options = options;
    this.#current = initialMs;
  }

  /** The delay the next call to next() is drawn from (before jitter). */
  get current(): number {
    return this.#current;
  }

  /**
   * The delay to wait now; then the delay grows by the factor, up to maxMs. `growTo` caps this
   * one growth at another ceiling instead (a retry that may slow down further than usual).
   */
  next(growTo: number = this.#options.maxMs): number {
    const base = this.#current;
    this.#current = Math.min(base * (this.#options.factor ?? 2), growTo);
    const jitter = this.#options.jitter ?? 0;
    // Whole milliseconds: a fractional factor makes fractional delays.
    if (jitter === 0) return Math.round(base);
    return Math.round(base * (1 - jitter + jitter * (this.#options.random ?? Math.random)()));
  }

  /** The last attempt succeeded: the next failure waits the initial delay again. */
  reset(): void {
    this.#current = this.#options.initialMs;
  }
}
