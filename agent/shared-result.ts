// One computation shared by every caller that asks while it runs, and its result reused for a
// short while after: thirty /status requests at once cost one dry-run pass, not thirty (each
// holds the whole desired node while it runs: 30 at 20,000 blocks doubled the agent's RSS).
// A failed computation is not reused: the next caller starts a new one.

export class SharedResult<T> {
  private running: Promise<T> | undefined;
  private last: { readonly value: T; readonly at: number } | undefined;
  /** Computations started so far (the /status test counts them). */
  computations = 0;

  constructor(
    private readonly compute: () => Promise<T>,
    private readonly maxAgeMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get(): Promise<T> {
    if (this.running !== undefined) return this.running;
    if (this.last !== undefined && this.now() - this.last.at <= this.maxAgeMs) return Promise.resolve(this.last.value);
    this.computations += 1;
    const running = this.compute().then(
      (value) => {
        this.last = { value, at: this.now() };
        return value;
      },
    ).finally(() => {
      if (this.running === running) this.running = undefined;
    });
    this.running = running;
    return running;
  }
}
