// A JSON List read item by item answers exactly what JSON.parse of the whole text answers, for
// any items and any formatting; malformed JSON is never accepted; and what is not a List with
// one `items` array is left to the whole-text parser.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonListItems } from '../calico/objects/json-list-items.js';

const FORMATS = [undefined, 0, 1, 2, 4, '\t'] as const;
const json = fc.jsonValue({ maxDepth: 4 });
const list = fc.record({
  head: fc.dictionary(fc.string().filter((k) => k !== 'items'), json, { maxKeys: 4 }),
  items: fc.array(json, { maxLength: 8 }),
  format: fc.constantFrom(...FORMATS),
  itemsFirst: fc.boolean(),
});

/** Everything the reader hands over, read to the end (the items are parsed as they are asked for). */
function readAll(text: string): { head: Record<string, unknown>; items: unknown[] } | undefined {
  const read = jsonListItems(text);
  if (read === undefined) return undefined;
  const items = [...read.items];
  const head = read.head();
  return head === undefined ? undefined : { head, items };
}

describe('JSON List items', () => {
  it('gives the members and the items JSON.parse gives, whatever they hold and however it is laid out', () => {
    fc.assert(
      fc.property(list, ({ head, items, format, itemsFirst }) => {
        const object = itemsFirst ? { items, ...head } : { ...head, items };
        const text = JSON.stringify(object, null, format);
        const read = readAll(text);
        expect(read).toBeDefined();
        expect(read?.items).toEqual((JSON.parse(text) as { items: unknown[] }).items);
        expect(read?.head).toEqual({ ...(JSON.parse(text) as object), items: [] });
      }),
      { numRuns: 300 },
    );
  });

  it('never accepts what JSON.parse refuses (it throws, or leaves it to the whole-text parser): a character cut out or put in anywhere', () => {
    const mutated = fc.tuple(list, fc.nat(), fc.constantFrom('', ',', '"', '{', '}', '[', ']', ':', '\\', 'x', ' ')).map(([l, at, put]) => {
      const text = JSON.stringify({ ...l.head, items: l.items }, null, l.format);
      const i = at % (text.length + 1);
      return put === '' ? text.slice(0, i) + text.slice(i + 1) : text.slice(0, i) + put + text.slice(i);
    });
    fc.assert(
      fc.property(mutated, (text) => {
        let whole: unknown;
        try {
          whole = JSON.parse(text);
        } catch {
          let read: ReturnType<typeof readAll>;
          try {
            read = readAll(text);
          } catch (error) {
            expect(error).toBeInstanceOf(SyntaxError);
            return;
          }
          expect(read).toBeUndefined();
          return;
        }
        const read = readAll(text);
        if (read !== undefined) expect(read.items).toEqual((whole as { items: unknown[] }).items);
      }),
      { numRuns: 600 },
    );
  });

  it.each([
    { name: 'a top-level array', text: '[{"kind":"Node"}]' },
    { name: 'a scalar', text: '"List"' },
    { name: 'no items', text: '{"kind":"List"}' },
    { name: 'items that are not an array', text: '{"kind":"List","items":{"a":1}}' },
    { name: 'two items arrays (JSON.parse keeps the last)', text: '{"items":[1],"kind":"List","items":[2]}' },
    { name: 'YAML', text: 'kind: List\nitems: []\n' },
  ])('leaves $name to the whole-text parser', ({ text }) => {
    expect(readAll(text)).toBeUndefined();
  });

  it('knows the head only once the items have been read', () => {
    const read = jsonListItems('{"items":[1,2],"kind":"List"}');
    expect(() => read?.head()).toThrow(/once its items have been read/);
    expect([...(read?.items ?? [])]).toEqual([1, 2]);
    expect(read?.head()).toEqual({ items: [], kind: 'List' });
  });

  it('reads an empty List, and a key spelled with escapes', () => {
    expect(readAll(' { "kind" : "List" , "items" : [ ] } \n')).toEqual({ head: { kind: 'List', items: [] }, items: [] });
    expect(readAll('{"\\u0069tems":[{"a":"]}\\""}],"kind":"List"}')?.items).toEqual([{ a: ']}"' }]);
  });
});
