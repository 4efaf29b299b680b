// Validated values: the only strings that may reach an `ip -batch` line.
//
// Everything wren writes to the kernel (interface names, addresses, prefixes, MACs) comes from
// the datastore, which wren does not trust. Each value here is a branded string produced only by
// a parser below, which accepts the canonical form and nothing else, so a hostile object can never
// smuggle a space, a newline or a second command into a batch. The parsers return `undefined` on
// bad input; callers turn that into an error naming the object and field.
import { Address6 } from 'ip-address';

declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

/** A Linux interface name: 1–15 characters of [A-Za-z0-9_.-], not starting with '-' or '.'. */
export type IfaceName = Brand<string, 'IfaceName'>;
/** An IPv4 or IPv6 address in canonical form (dotted quad without leading zeros; RFC 5952). */
export type IpAddr = Brand<string, 'IpAddr'>;
/** A network prefix in canonical form, host bits zero: `10.244.0.0/16`, `fd00:10::/64`. */
export type Cidr = Brand<string, 'Cidr'>;
/** An Ethernet MAC address, six lower-case hex octets joined by ':'. */
export type Mac = Brand<string, 'Mac'>;

/**
 * A BGP autonomous system number that may be configured on a session: 1–4294967294 without
 * AS_TRANS (23456, RFC 6793) and the reserved 65535 (RFC 7300). A number: it reaches BIRD's
 * configuration as decimal digits and nothing else.
 */
export type AsNumber = Brand<number, 'AsNumber'>;

export type Family = 4 | 6;

const IFACE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/;
const OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const IPV4 = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);
const IPV6_CHARS = /^[0-9a-fA-F:.]{2,45}$/;
const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

export function parseIfaceName(text: unknown): IfaceName | undefined {
  return typeof text === 'string' && IFACE.test(text) ? (text as IfaceName) : undefined;
}

const AS_RESERVED: ReadonlySet<number> = new Set([0, 23456, 65535, 4294967295]);
const AS_PLAIN = /^(0|[1-9][0-9]{0,9})$/;
const AS_DOT = /^(0|[1-9][0-9]{0,4})\.(0|[1-9][0-9]{0,4})$/;

/**
 * An AS number as Calico writes it: a JSON integer, or a string in asplain (`64512`) or asdot
 * (`1.10` = 65546) notation. Anything else — a sign, leading zeros, a fraction, more than 32 bits,
 * a reserved number — is refused.
 */
/** What parseAsNumber takes, for problems that refuse a value. */
export const AS_NUMBER_RULE = 'must be an AS number, 1-4294967294 (asplain or asdot), not 23456 or 65535';

export function parseAsNumber(value: unknown): AsNumber | undefined {
  let n: number | undefined;
  if (typeof value === 'number') n = Number.isSafeInteger(value) ? value : undefined;
  else if (typeof value === 'string' && AS_PLAIN.test(value)) n = Number(value);
  else if (typeof value === 'string' && AS_DOT.test(value)) {
    const [high = 0, low = 0] = value.split('.').map(Number);
    n = high <= 65535 && low <= 65535 ? high * 65536 + low : undefined;
  }
  return n === undefined || n < 0 || n > 4294967295 || AS_RESERVED.has(n) ? undefined : (n as AsNumber);
}

export function familyOf(addr: IpAddr | Cidr): Family {
  return addr.includes(':') ? 6 : 4;
}

export function parseIp(text: unknown): IpAddr | undefined {
  if (typeof text !== 'string') return undefined;
  if (IPV4.test(text)) return text as IpAddr;
  if (!IPV6_CHARS.test(text) || !text.includes(':') || !Address6.isValid(text)) return undefined;
  return new Address6(text).correctForm() as IpAddr;
}

/**
 * Parses a prefix. With `strict`, host bits must be zero (a route destination or a pool); without,
 * the address part is kept as given (a node address with its subnet length, `172.16.30.7/24`).
 */
export function parseCidr(text: unknown, strict = true): Cidr | undefined {
  if (typeof text !== 'string') return undefined;
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIp(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  if (ip === undefined || !/^(0|[1-9][0-9]{0,2})$/.test(lenText)) return undefined;
  const len = Number(lenText);
  if (len > (familyOf(ip) === 4 ? 32 : 128)) return undefined;
  const cidr = `${ip}/${len}` as Cidr;
  if (strict && networkOf(cidr) !== ip) return undefined;
  return cidr;
}

/** A host address as a prefix of full length: 10.0.0.1 → 10.0.0.1/32. */
export function hostCidr(ip: IpAddr): Cidr {
  return `${ip}/${familyOf(ip) === 4 ? 32 : 128}` as Cidr;
}

export function parseMac(text: unknown): Mac | undefined {
  return typeof text === 'string' && MAC.test(text) ? (text.toLowerCase() as Mac) : undefined;
}

export function prefixLength(cidr: Cidr): number {
  return Number(cidr.slice(cidr.indexOf('/') + 1));
}

export function addressOf(cidr: Cidr): IpAddr {
  return cidr.slice(0, cidr.indexOf('/')) as IpAddr;
}

/** The network address of a prefix: 172.16.30.7/24 → 172.16.30.0. */
export function networkOf(cidr: Cidr): IpAddr {
  const ip = addressOf(cidr);
  const len = prefixLength(cidr);
  if (familyOf(ip) === 4) return numberToIp4(ip4ToNumber(ip) & maskOf4(len));
  return new Address6(`${ip}/${len}`).startAddress().correctForm() as IpAddr;
}

/** The address as a non-negative integer (IPv4 fits a number; IPv6 needs a bigint). */
export function ipToBigInt(ip: IpAddr): bigint {
  return familyOf(ip) === 4 ? BigInt(ip4ToNumber(ip)) : new Address6(ip).bigInt();
}

export function bigIntToIp(value: bigint, family: Family): IpAddr {
  if (family === 4) return numberToIp4(Number(value));
  return Address6.fromBigInt(value).correctForm() as IpAddr;
}

/** Does `cidr` contain `ip`? Families must match. */
export function cidrContains(cidr: Cidr, ip: IpAddr): boolean {
  const net = addressOf(cidr);
  if (familyOf(net) !== familyOf(ip)) return false;
  const len = prefixLength(cidr);
  if (familyOf(ip) === 4) {
    const mask = maskOf4(len);
    return ((ip4ToNumber(ip) & mask) >>> 0) === ((ip4ToNumber(net) & mask) >>> 0);
  }
  const shift = BigInt(128 - len);
  return ipToBigInt(ip) >> shift === ipToBigInt(net) >> shift;
}

/** Do two prefixes share any address? */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  const shorter = prefixLength(a) <= prefixLength(b) ? a : b;
  const longer = shorter === a ? b : a;
  return cidrContains(shorter, addressOf(longer));
}

/** Number of addresses in a prefix (for IPAM blocks, 2^(bits − length)). */
export function cidrSize(cidr: Cidr): bigint {
  return 1n << BigInt((familyOf(cidr) === 4 ? 32 : 128) - prefixLength(cidr));
}

/** The n-th address of a prefix (ordinal 0 is the network address). */
export function nthAddress(cidr: Cidr, n: number | bigint): IpAddr {
  return bigIntToIp(ipToBigInt(addressOf(cidr)) + BigInt(n), familyOf(cidr));
}

/** Orders addresses numerically (IPv4 before IPv6). */
export function compareIps(a: IpAddr, b: IpAddr): number {
  const fa = familyOf(a);
  const fb = familyOf(b);
  if (fa !== fb) return fa - fb;
  const x = ipToBigInt(a);
  const y = ipToBigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Orders prefixes by address, then by length (shorter first). */
export function compareCidrs(a: Cidr, b: Cidr): number {
  return compareIps(addressOf(a), addressOf(b)) || prefixLength(a) - prefixLength(b);
}

/** An IPv4 address as an unsigned 32-bit number. */
export function ipv4ToNumber(ip: IpAddr): number {
  return ip4ToNumber(ip);
}

function ip4ToNumber(ip: string): number {
  // Hand-rolled: called for every block of every pass, where split() and Number() show up.
  let n = 0;
  let octet = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 46) {
      n = n * 256 + octet;
      octet = 0;
    } else {
      octet = octet * 10 + (c - 48);
    }
  }
  return (n * 256 + octet) >>> 0;
}

function numberToIp4(n: number): IpAddr {
  const u = n >>> 0;
  return `${u >>> 24}.${(u >>> 16) & 255}.${(u >>> 8) & 255}.${u & 255}` as IpAddr;
}

function maskOf4(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}
