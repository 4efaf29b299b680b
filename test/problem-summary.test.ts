// Problems counted per reason with the first few listed: what stderr, the agent's log, /status
// and the metric show instead of one line per problem.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sameSummary, summariseProblems, summaryLines } from '../agent/problem-summary.js';
import { PROBLEM_REASONS, type ObjectProblem, type ProblemReason } from '../routing/cluster.js';

const problem = (name: string, reason?: ProblemReason, field = 'spec.cidr'): ObjectProblem => ({ kind: 'IPAMBlock', name, field, message: `${name} is wrong`, reason });

describe('summariseProblems', () => {
  it.each([
    { what: 'no problems', problems: [], lines: [] },
    {
      what: 'fewer than the listed few: each one, no count',
      problems: [problem('b', 'overlap'), problem('a', 'overlap')],
      lines: ['IPAMBlock/a spec.cidr: a is wrong', 'IPAMBlock/b spec.cidr: b is wrong'],
    },
    {
      what: 'more than three of a reason: the three smallest, then how many more',
      problems: ['e', 'c', 'a', 'd', 'b'].map((n) => problem(n, 'unknown-node')),
      lines: ['IPAMBlock/a spec.cidr: a is wrong', 'IPAMBlock/b spec.cidr: b is wrong', 'IPAMBlock/c spec.cidr: c is wrong', '… and 2 more unknown-node'],
    },
    {
      what: 'reasons in PROBLEM_REASONS order whatever the input order; no reason counts as other',
      problems: [problem('z'), problem('y', 'vtep'), problem('x', 'invalid')],
      lines: ['IPAMBlock/x spec.cidr: x is wrong', 'IPAMBlock/y spec.cidr: y is wrong', 'IPAMBlock/z spec.cidr: z is wrong'],
    },
    {
      what: 'same name: ordered by field, then message',
      problems: [problem('a', 'invalid', 'spec.b'), problem('a', 'invalid', 'spec.a')],
      lines: ['IPAMBlock/a spec.a: a is wrong', 'IPAMBlock/a spec.b: a is wrong'],
    },
  ])('$what', ({ problems, lines }) => {
    expect(summaryLines(summariseProblems(problems))).toEqual(lines);
  });

  it('counts per reason in the shape /status shows', () => {
    const summary = summariseProblems([problem('a', 'vtep'), problem('b', 'vtep'), problem('c')]);
    expect(JSON.parse(JSON.stringify(summary))).toEqual({
      total: 3,
      byReason: {
        vtep: { count: 2, first: [{ kind: 'IPAMBlock', name: 'a', field: 'spec.cidr', message: 'a is wrong' }, { kind: 'IPAMBlock', name: 'b', field: 'spec.cidr', message: 'b is wrong' }] },
        other: { count: 1, first: [{ kind: 'IPAMBlock', name: 'c', field: 'spec.cidr', message: 'c is wrong' }] },
      },
    });
    expect(Object.keys(summary.byReason)).toEqual(['vtep', 'other']);
  });

  it('summarises 200,000 problems of one reason into four lines', () => {
    const many = Array.from({ length: 200_000 }, (_, i) => problem(`b-${String(i).padStart(6, '0')}`, 'unknown-node'));
    const started = performance.now();
    const lines = summaryLines(summariseProblems(many));
    expect(performance.now() - started).toBeLessThan(2000);
    expect(lines).toEqual(['IPAMBlock/b-000000 spec.cidr: b-000000 is wrong', 'IPAMBlock/b-000001 spec.cidr: b-000001 is wrong', 'IPAMBlock/b-000002 spec.cidr: b-000002 is wrong', '… and 199997 more unknown-node']);
  });

  it('the same problems in any order give the same summary (the agent logs only a changed one)', () => {
    const arbitrary = fc.array(
      fc.record({ name: fc.string({ maxLength: 4 }), reason: fc.constantFrom(...PROBLEM_REASONS), field: fc.constantFrom('spec.a', 'spec.b') }),
      { maxLength: 30 },
    );
    fc.assert(
      fc.property(arbitrary, fc.integer(), (entries, seed) => {
        const problems = entries.map((e) => problem(e.name, e.reason, e.field));
        const shuffled = [...problems].sort((a, b) => ((a.name.length * 31 + seed) % 7) - ((b.name.length * 31 + seed) % 7));
        expect(sameSummary(summariseProblems(problems), summariseProblems(shuffled))).toBe(true);
        expect(summariseProblems(problems).total).toBe(problems.length);
      }),
    );
  });

  it('sameSummary tells a changed count or a changed listed problem', () => {
    const base = summariseProblems([problem('a', 'vtep')]);
    expect(sameSummary(base, summariseProblems([problem('a', 'vtep'), problem('b', 'vtep')]))).toBe(false);
    expect(sameSummary(base, summariseProblems([problem('b', 'vtep')]))).toBe(false);
    expect(sameSummary(base, summariseProblems([problem('a', 'overlap')]))).toBe(false);
    expect(sameSummary(base, summariseProblems([problem('a', 'vtep')]))).toBe(true);
  });
});
