// util/backoff.ts: the one capped exponential backoff every retry in wren waits through.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Backoff, type BackoffOptions } from '../util/backoff.js';

/** `calls` delays from one backoff; 'reset' between them starts it over. */
function delays(options: BackoffOptions, calls: readonly (number | 'reset')[]): number[] {
  const backoff = new Backoff(options);
  const out: number[] = [];
  for (const call of calls) {
    if (call === 'reset') backoff.reset();
    else out.push(backoff.next(call === 0 ? undefined : call));
  }
  return out;
}

describe('Backoff', () => {
  it.each([
    { name: 'doubles up to the cap', options: { initialMs: 100, maxMs: 1_000 }, calls: [0, 0, 0, 0, 0, 0], expected: [100, 200, 400, 800, 1_000, 1_000] },
    { name: 'another factor', options: { initialMs: 10, maxMs: 1_000, factor: 3 }, calls: [0, 0, 0, 0, 0], expected: [10, 30, 90, 270, 810] },
    { name: 'factor 1 is a fixed delay', options: { initialMs: 50, maxMs: 1_000, factor: 1 }, calls: [0, 0, 0], expected: [50, 50, 50] },
    { name: 'initial equal to the cap', options: { initialMs: 500, maxMs: 500 }, calls: [0, 0], expected: [500, 500] },
    { name: 'reset starts over from the initial delay', options: { initialMs: 100, maxMs: 1_000 }, calls: [0, 0, 0, 'reset', 0, 0], expected: [100, 200, 400, 100, 200] },
    { name: 'growTo lets one growth pass the cap', options: { initialMs: 400, maxMs: 1_000 }, calls: [0, 0, 5_000, 0], expected: [400, 800, 1_000, 2_000] },
    { name: 'a lower growTo brings a long delay back down', options: { initialMs: 100, maxMs: 1_000 }, calls: [10_000, 10_000, 200, 0], expected: [100, 200, 400, 200] },
    { name: 'jitter with random 0: the delay shortened by the whole fraction', options: { initialMs: 200, maxMs: 1_000, jitter: 0.2, random: () => 0 }, calls: [0, 0, 0, 0], expected: [160, 320, 640, 800] },
    { name: 'jitter with random near 1: the full delay, never above it', options: { initialMs: 200, maxMs: 1_000, jitter: 0.5, random: () => 0.999_999 }, calls: [0, 0, 0, 0], expected: [200, 400, 800, 1_000] },
    { name: 'jitter with random 0.5: halfway', options: { initialMs: 100, maxMs: 1_000, jitter: 0.5, random: () => 0.5 }, calls: [0, 0], expected: [75, 150] },
  ] as { name: string; options: BackoffOptions; calls: (number | 'reset')[]; expected: number[] }[])('$name', ({ options, calls, expected }) => {
    expect(delays(options, calls)).toEqual(expected);
  });

  it('current is the delay the next call is drawn from', () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 300 });
    expect(backoff.current).toBe(100);
    backoff.next();
    expect(backoff.current).toBe(200);
    backoff.next();
    expect(backoff.current).toBe(300);
    backoff.reset();
    expect(backoff.current).toBe(100);
  });

  it.each([
    { name: 'a zero initial delay', options: { initialMs: 0, maxMs: 10 } },
    { name: 'a cap below the initial delay', options: { initialMs: 100, maxMs: 10 } },
    { name: 'a NaN cap', options: { initialMs: 100, maxMs: Number.NaN } },
    { name: 'a shrinking factor', options: { initialMs: 10, maxMs: 100, factor: 0.5 } },
    { name: 'a jitter over 1', options: { initialMs: 10, maxMs: 100, jitter: 1.5 } },
    { name: 'a negative jitter', options: { initialMs: 10, maxMs: 100, jitter: -0.1 } },
  ] as { name: string; options: BackoffOptions }[])('refuses $name', ({ options }) => {
    expect(() => new Backoff(options)).toThrow(RangeError);
  });

  it('for any settings: every delay lies within [(1 - jitter) x initial, max] and the delay never shrinks', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.double({ min: 1, max: 4, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.infiniteStream(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })),
        (initialMs, extra, factor, jitter, randoms) => {
          const maxMs = initialMs + extra;
          const backoff = new Backoff({ initialMs, maxMs, factor, jitter, random: () => randoms.next().value as number });
          let last = 0;
          for (let i = 0; i < 40; i += 1) {
            const base = backoff.current;
            expect(base).toBeGreaterThanOrEqual(last);
            expect(base).toBeLessThanOrEqual(maxMs);
            const wait = backoff.next();
            expect(wait).toBeLessThanOrEqual(Math.round(base));
            expect(wait).toBeGreaterThanOrEqual(Math.round(base * (1 - jitter)) - 1);
            last = base;
          }
        },
      ),
    );
  });
});
