// JSON patch (RFC 6902, application/json-patch+json), the generated client-node API's default
// patch type: add, remove, replace, move, copy and test over RFC 6901 pointers.
import { isPlainObject, jsonEqual } from './json.js';

/** A patch that cannot be applied to the document (the apiserver answers 422). */
export class JsonPatchError extends Error {}

type Container = Record<string, unknown> | unknown[];

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new JsonPatchError(`invalid JSON pointer ${JSON.stringify(pointer)}`);
  return pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function child(container: unknown, token: string, pointer: string): unknown {
  if (Array.isArray(container) && /^(0|[1-9]\d*)$/.test(token) && Number(token) < container.length) return container[Number(token)];
  if (isPlainObject(container) && Object.hasOwn(container, token)) return container[token];
  throw new JsonPatchError(`doc is missing path: "${pointer}": missing value`);
}

function get(doc: unknown, pointer: string): unknown {
  return parsePointer(pointer).reduce((cur, token) => child(cur, token, pointer), doc);
}

/** The container holding the pointer's last token, and that token. */
function parentOf(doc: unknown, pointer: string): [Container, string] {
  const tokens = parsePointer(pointer);
  const last = tokens.pop();
  if (last === undefined) throw new JsonPatchError('cannot address the document root here');
  const parent = tokens.reduce((cur, token) => child(cur, token, pointer), doc);
  if (!Array.isArray(parent) && !isPlainObject(parent)) throw new JsonPatchError(`doc is missing path: "${pointer}": missing value`);
  return [parent, last];
}

function arrayIndex(arr: unknown[], token: string, pointer: string, forInsert: boolean): number {
  if (forInsert && token === '-') return arr.length;
  const max = forInsert ? arr.length : arr.length - 1;
  if (!/^(0|[1-9]\d*)$/.test(token) || Number(token) > max) throw new JsonPatchError(`index out of bounds at "${pointer}"`);
  return Number(token);
}

function add(doc: unknown, pointer: string, value: unknown): unknown {
  if (pointer === '') return value;
  const [parent, token] = parentOf(doc, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, token, pointer, true), 0, value);
  else parent[token] = value;
  return doc;
}

function remove(doc: unknown, pointer: string): unknown {
  const [parent, token] = parentOf(doc, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, token, pointer, false), 1);
  else if (Object.hasOwn(parent, token)) delete parent[token];
  else throw new JsonPatchError(`doc is missing path: "${pointer}": missing value`);
  return doc;
}

export function applyJsonPatch(document: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw new TypeError('json patch must be an array of operations');
  let doc = structuredClone(document);
  for (const raw of ops) {
    if (!isPlainObject(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') throw new TypeError('invalid json patch operation');
    const { op, path } = raw;
    const from = typeof raw.from === 'string' ? raw.from : undefined;
    switch (op) {
      case 'add': doc = add(doc, path, structuredClone(raw.value)); break;
      case 'remove': doc = remove(doc, path); break;
      case 'replace': get(doc, path); doc = add(path === '' ? doc : remove(doc, path), path, structuredClone(raw.value)); break;
      case 'move': {
        if (from === undefined) throw new TypeError('move operation needs "from"');
        const value = get(doc, from);
        doc = add(remove(doc, from), path, value);
        break;
      }
      case 'copy': {
        if (from === undefined) throw new TypeError('copy operation needs "from"');
        doc = add(doc, path, structuredClone(get(doc, from)));
        break;
      }
      case 'test':
        if (!jsonEqual(get(doc, path), raw.value)) throw new JsonPatchError(`testing value ${path} failed: test failed`);
        break;
      default: throw new TypeError(`unexpected json patch op ${JSON.stringify(op)}`);
    }
  }
  return doc;
}
