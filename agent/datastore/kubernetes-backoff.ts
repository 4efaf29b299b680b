// Capped exponential backoff with jitter, for restarting informers. The jitter keeps a fleet of
// agents from reconnecting in lock-step after an API server outage; the cap keeps a node that
// lost the API server for an hour from waiting long once it is back.
export interface Backoff {
  /** The delay before the next attempt; each call doubles it, up to the cap. */
  next(): number;
  /** The server answered: the next failure starts again from the initial delay. */
  reset(): void;
}

export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  /** Fraction by which a delay is spread either way. Default 0.2. */
  readonly jitter?: number;
  readonly random?: () => number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 200, maxMs: 30_000 };

export class ExponentialBackoff implements Backoff {
  #delay: number;

  constructor(private readonly options: BackoffOptions = DEFAULT_BACKOFF) {
    if (!(options.initialMs > 0 && options.maxMs >= options.initialMs)) {
      throw new RangeError(`backoff needs 0 < initialMs <= maxMs, got ${options.initialMs} and ${options.maxMs}`);
    }
    this.#delay = options.initialMs;
  }

  next(): number {
    const base = this.#delay;
    this.#delay = Math.min(this.#delay * 2, this.options.maxMs);
    const jitter = this.options.jitter ?? 0.2;
    const spread = 1 - jitter + 2 * jitter * (this.options.random ?? Math.random)();
    return Math.round(Math.min(this.options.maxMs, base * spread));
  }

  reset(): void {
    this.#delay = this.options.initialMs;
  }
}
