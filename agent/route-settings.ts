// `--proto` and `--table` (WREN_ROUTE_PROTOCOL, WREN_ROUTE_TABLE): the two settings that decide
// which routes wren takes for its own, read the same way by the agent's configuration and by the
// one-shot commands.
//
// Plain decimal only. iproute2 reads numbers with strtoul(…, 0): `0x10` is 16 and `010` is 8
// there, while JavaScript's Number() reads `010` as 10, `1e2` as 100 and `0x10` as 16 — so any
// other spelling is refused rather than guessed, and a refusal is one line naming the value and
// what is allowed.
import { namedRouteProtocols, type ProtoOwner } from './rt-protos.js';

export type RouteSetting = 'proto' | 'table';

export type ParsedSetting = { readonly value: number; readonly refused?: undefined } | { readonly refused: string; readonly value?: undefined };

const MAX_TABLE = 4_294_967_295;

/** Tables wren never uses, and why: each is the kernel's. */
const KERNEL_TABLES: ReadonlyMap<number, string> = new Map([
  [0, 'is unspec: `ip route show table 0` lists every table, so every table\'s routes would look like wren\'s'],
  [253, 'is the kernel\'s default table (the fallback rule\'s)'],
  [255, 'is the kernel\'s local table (the host\'s own and broadcast addresses)'],
]);

export function parseRouteSetting(setting: RouteSetting, text: string, owners?: ReadonlyMap<number, ProtoOwner>): ParsedSetting {
  return setting === 'proto' ? parseRouteProtocol(text, owners ?? namedRouteProtocols()) : parseRouteTable(text);
}

/** A protocol number from 1 to 255 that no routing program owns (`owners`: rt-protos.ts). */
export function parseRouteProtocol(text: string, owners: ReadonlyMap<number, ProtoOwner>): ParsedSetting {
  const allowed = `allowed: a decimal integer from 1 to 255 that no other routing program uses (not ${ranges([...owners.keys()])}), e.g. 199, the default`;
  const value = decimal(text);
  if (value === undefined) return { refused: `${notDecimal(text)}; ${allowed}` };
  const owner = owners.get(value);
  if (owner !== undefined) return { refused: `${JSON.stringify(text)} is the protocol of ${owner.name} (${owner.from}), whose routes wren would take for its own; ${allowed}` };
  if (value > 255) return { refused: `${JSON.stringify(text)} is above 255; ${allowed}` };
  return { value };
}

export function parseRouteTable(text: string): ParsedSetting {
  const allowed = `allowed: a decimal integer from 1 to ${MAX_TABLE} other than 253 and 255, e.g. 254, the main table`;
  const value = decimal(text);
  if (value === undefined) return { refused: `${notDecimal(text)}; ${allowed}` };
  const why = KERNEL_TABLES.get(value);
  if (why !== undefined) return { refused: `${JSON.stringify(text)} ${why}; ${allowed}` };
  if (value > MAX_TABLE) return { refused: `${JSON.stringify(text)} is above ${MAX_TABLE}; ${allowed}` };
  return { value };
}

/** `0` or digits without a leading zero; nothing else (no sign, space, fraction, exponent, hex). */
function decimal(text: string): number | undefined {
  return /^(0|[1-9][0-9]*)$/.test(text) ? Number(text) : undefined;
}

function notDecimal(text: string): string {
  const why = /^0[0-9]/.test(text) ? ' (a leading 0 is octal to iproute2)' : /^0x/i.test(text) ? ' (hex)' : '';
  return `${JSON.stringify(text)} is not a decimal integer${why}`;
}

/** 0-4, 8-18, 42: the numbers as a short list of runs. */
function ranges(numbers: readonly number[]): string {
  const runs: [number, number][] = [];
  for (const n of [...new Set(numbers)].sort((a, b) => a - b)) {
    const last = runs.at(-1);
    if (last !== undefined && last[1] === n - 1) last[1] = n;
    else runs.push([n, n]);
  }
  return runs.map(([from, to]) => (from === to ? String(from) : `${from}-${to}`)).join(', ');
}
