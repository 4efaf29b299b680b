// Calico's label selectors as BGPPeer.nodeSelector uses them: what matches which labels, and
// what is refused (never read as matching more than meant).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matches, parseSelector, type Labels } from '../routing/bgp/selector.js';

const R1: Labels = { rack: 'r1', 'topology.kubernetes.io/zone': 'eu-1a', edge: '' };
const R2: Labels = { rack: 'r2' };
const NONE: Labels = {};

describe('nodeSelector', () => {
  it.each([
    { text: 'all()', want: [true, true, true] },
    { text: 'has(rack)', want: [true, true, false] },
    { text: '!has(rack)', want: [false, false, true] },
    { text: "rack == 'r1'", want: [true, false, false] },
    { text: 'rack == "r2"', want: [false, true, false] },
    { text: "rack != 'r1'", want: [false, true, true] },
    { text: "rack in {'r1', 'r3'}", want: [true, false, false] },
    { text: "rack not in {'r1'}", want: [false, true, true] },
    { text: 'rack in {}', want: [false, false, false] },
    { text: "topology.kubernetes.io/zone starts with 'eu-'", want: [true, false, false] },
    { text: "topology.kubernetes.io/zone ends with '1a'", want: [true, false, false] },
    { text: "rack contains '2'", want: [false, true, false] },
    { text: "has(edge) || rack == 'r2'", want: [true, true, false] },
    { text: "has(rack) && !(rack == 'r1')", want: [false, true, false] },
    { text: "  ( rack=='r1' )  ", want: [true, false, false] },
    { text: "hasty == 'x'", want: [false, false, false] },
    { text: "rack == 'r1' || rack == 'r2' && has(edge)", want: [true, false, false] },
  ])('$text', ({ text, want }) => {
    const selector = parseSelector(text);
    if ('error' in selector) throw new Error(selector.error);
    expect([R1, R2, NONE].map((labels) => matches(selector, labels))).toEqual(want);
  });

  it.each([
    { text: '' },
    { text: 'rack = r1' },
    { text: "rack == r1" },
    { text: "rack == 'r1" },
    { text: 'global()' },
    { text: 'all(' },
    { text: "rack == 'r1' &&" },
    { text: "rack == 'r1' ; protocol" },
    { text: "rack not 'r1'" },
    { text: '('.repeat(40) + 'all()' + ')'.repeat(40) },
    { text: `rack == '${'x'.repeat(2000)}'` },
  ])('refuses $text', ({ text }) => {
    expect(parseSelector(text)).toEqual({ error: expect.any(String) });
  });

  it('never throws, whatever the text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (text) => {
        const parsed = parseSelector(text);
        if (!('error' in parsed)) expect(typeof matches(parsed, R1)).toBe('boolean');
      }),
    );
  });
});
