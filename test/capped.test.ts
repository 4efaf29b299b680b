// "First N plus count" (agent/capped.ts) and the shared computation behind /status
// (agent/shared-result.ts): the two pieces that keep /status the same size and cost at any
// cluster size and any number of concurrent requests.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { capped } from '../agent/capped.js';
import { SharedResult } from '../agent/shared-result.js';

describe('capped', () => {
  it.each([
    { name: 'empty', items: [], n: 3, expected: { total: 0, first: [] } },
    { name: 'shorter than the cap', items: ['a', 'b'], n: 3, expected: { total: 2, first: ['a', 'b'] } },
    { name: 'exactly the cap', items: ['a', 'b', 'c'], n: 3, expected: { total: 3, first: ['a', 'b', 'c'] } },
    { name: 'longer than the cap', items: ['a', 'b', 'c', 'd', 'e'], n: 2, expected: { total: 5, first: ['a', 'b'] } },
    { name: 'a cap of zero counts only', items: ['a', 'b'], n: 0, expected: { total: 2, first: [] } },
  ])('$name', ({ items, n, expected }) => {
    expect(capped(items, n)).toEqual(expected);
  });

  it('for any list and cap: the total is its length and the first are its head, also from a generator', () => {
    fc.assert(
      fc.property(fc.array(fc.integer()), fc.nat(50), (items, n) => {
        const fromGenerator = capped((function* () {
          yield* items;
        })(), n);
        expect(capped(items, n)).toEqual({ total: items.length, first: items.slice(0, n) });
        expect(fromGenerator).toEqual({ total: items.length, first: items.slice(0, n) });
      }),
    );
  });

  it('walks 300,000 items keeping only the first few', () => {
    const result = capped(Array.from({ length: 300_000 }, (_, i) => i), 100);
    expect(result.total).toBe(300_000);
    expect(result.first).toHaveLength(100);
  });
});

describe('SharedResult', () => {
  /** A computation the test finishes by hand, counting how often it was started. */
  function gate() {
    let started = 0;
    let release: (value: number) => void = () => undefined;
    const compute = () => {
      started += 1;
      return new Promise<number>((resolve) => (release = resolve));
    };
    return { compute, started: () => started, release: (v: number) => release(v) };
  }

  it('callers that arrive while it runs share one computation and its value', async () => {
    const g = gate();
    const shared = new SharedResult(g.compute, 1000);
    const answers = Array.from({ length: 30 }, () => shared.get());
    g.release(7);
    expect(await Promise.all(answers)).toEqual(Array(30).fill(7));
    expect(g.started()).toBe(1);
    expect(shared.computations).toBe(1);
  });

  it('a value is reused up to its maximum age, then computed again', async () => {
    let now = 0;
    const g = gate();
    const shared = new SharedResult(g.compute, 1000, () => now);
    const first = shared.get();
    g.release(1);
    expect(await first).toBe(1);
    now = 1000;
    expect(await shared.get()).toBe(1);
    now = 1001;
    const second = shared.get();
    g.release(2);
    expect(await second).toBe(2);
    expect(g.started()).toBe(2);
  });

  it('a failed computation is not reused: the next caller starts a new one', async () => {
    let calls = 0;
    const shared = new SharedResult(async () => {
      calls += 1;
      if (calls === 1) throw new Error('kernel read failed');
      return 'ok';
    }, 1000);
    await expect(shared.get()).rejects.toThrow('kernel read failed');
    expect(await shared.get()).toBe('ok');
    expect(calls).toBe(2);
  });
});
