// `nft -j list table ip|ip6 wren-nat` → the table as plain data (nat-state.ts): the prefixes of
// its two sets, and whether everything else is exactly what wren writes. Anything else — a chain
// or rule changed or added by hand, a set of another type, an element that is not a prefix — makes
// the table misshapen, and the diff rewrites it whole rather than guess what a hand meant.
//
// nft's JSON (libnftables-json(5), schema 1): `{"nftables": [{"metainfo": …}, {"table": …},
// {"set": …}, {"chain": …}, {"rule": …}]}`; a set's elements are an address string, a
// `{"prefix": {"addr", "len"}}`, or forms wren never writes (ranges, elements with timeouts).
import type { Cidr, Family } from '../values.js';
import { compareCidrs, hostCidr, parseCidr, parseIp } from '../values.js';
import { natRule } from './nat-render.js';
import { ALL_SET, MASQ_SET, NAT_CHAIN, nftFamily, type NatTableRead } from './nat-state.js';

type Json = Record<string, unknown>;

export class NatReadError extends Error {
  override readonly name = 'NatReadError';
}

export function parseNatTable(text: string, family: Family): NatTableRead {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new NatReadError(`nft -j list table ${nftFamily(family)} printed no JSON`, { cause: error });
  }
  const items = isObject(parsed) && Array.isArray(parsed.nftables) ? (parsed.nftables as unknown[]) : undefined;
  if (items === undefined) throw new NatReadError(`nft -j list table ${nftFamily(family)} printed no "nftables" list`);
  const sets = new Map<string, readonly Cidr[] | undefined>();
  const odd: string[] = [];
  let chain = false;
  const rules: string[] = [];
  for (const item of items) {
    if (!isObject(item)) continue;
    const [kind, body] = Object.entries(item)[0] ?? [];
    if (kind === 'metainfo' || kind === 'table' || !isObject(body)) continue;
    if (kind === 'set' && (body.name === MASQ_SET || body.name === ALL_SET)) sets.set(body.name, setElements(body, family));
    else if (kind === 'chain' && body.name === NAT_CHAIN && isWrensChain(body)) chain = true;
    else if (kind === 'rule' && body.chain === NAT_CHAIN && Array.isArray(body.expr)) rules.push(ruleText(body.expr));
    else odd.push(`${kind} ${typeof body.name === 'string' ? body.name : '?'}`);
  }
  const misshapen = !chain
    ? `chain ${NAT_CHAIN} is missing or not a nat postrouting chain at priority 100`
    : rules.length !== 1 || rules[0] !== natRule(family).replace(/ counter /, ' ')
      ? `chain ${NAT_CHAIN} holds ${rules.length === 1 ? `another rule: ${rules[0] ?? ''}` : `${rules.length} rules`}`
      : odd.length > 0
        ? `it holds what wren did not write: ${odd.join(', ')}`
        : undefined;
  return { family, masquerade: sets.get(MASQ_SET), pools: sets.get(ALL_SET), ...(misshapen === undefined ? {} : { misshapen }) };
}

/** The set's prefixes in address order, or undefined when it is not an interval set of the family's addresses or holds other elements. */
function setElements(set: Json, family: Family): readonly Cidr[] | undefined {
  const flags = Array.isArray(set.flags) ? set.flags : [set.flags];
  if (set.type !== (family === 4 ? 'ipv4_addr' : 'ipv6_addr') || !flags.includes('interval')) return undefined;
  const out: Cidr[] = [];
  for (const elem of Array.isArray(set.elem) ? (set.elem as unknown[]) : []) {
    const cidr = elementCidr(elem);
    if (cidr === undefined) return undefined;
    out.push(cidr);
  }
  return out.sort(compareCidrs);
}

function elementCidr(elem: unknown): Cidr | undefined {
  if (typeof elem === 'string') {
    const ip = parseIp(elem);
    return ip === undefined ? undefined : hostCidr(ip);
  }
  if (!isObject(elem) || !isObject(elem.prefix)) return undefined;
  return parseCidr(`${String(elem.prefix.addr)}/${String(elem.prefix.len)}`);
}

function isWrensChain(chain: Json): boolean {
  return chain.type === 'nat' && chain.hook === 'postrouting' && chain.prio === 100 && chain.policy === 'accept';
}

/**
 * A rule's statements as nft's text would say them, for the forms wren writes, without counter
 * values (and without the counter, which is only for people): equal to natRule() exactly when the
 * rule is wren's. A form wren never writes stays JSON, and is never equal.
 */
function ruleText(expr: unknown[]): string {
  const words: string[] = [];
  for (const e of expr) {
    if (!isObject(e)) return JSON.stringify(expr);
    if (isObject(e.match) && isObject(e.match.left) && isObject(e.match.left.payload) && typeof e.match.right === 'string') {
      const { protocol, field } = e.match.left.payload;
      words.push(`${String(protocol)} ${String(field)} ${e.match.op === '==' ? '' : `${String(e.match.op)} `}${e.match.right}`);
    } else if ('counter' in e) {
      continue;
    } else if ('masquerade' in e) {
      const m = e.masquerade;
      const flags = isObject(m) ? (Array.isArray(m.flags) ? m.flags : [m.flags]).filter((f) => f !== undefined) : [];
      words.push(['masquerade', ...flags.map(String).sort()].join(' '));
    } else {
      words.push(JSON.stringify(e));
    }
  }
  return words.join(' ');
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
