// The prefix of an IPAM block or block affinity. Calico makes blocks only in the pool block sizes
// it allows (/20–/32, /116–/128), so anything larger is refused here: that also bounds a block's
// `allocations` array to 4096 entries, whatever a hostile object claims.
import type { Cidr } from '../../kernel/values.js';
import { familyOf, parseCidr, prefixLength } from '../../kernel/values.js';
import { BLOCK_SIZE } from './ippool.js';
import { describeValue } from './results.js';

export function parseBlockCidr(text: unknown): { readonly cidr: Cidr } | { readonly message: string } {
  const cidr = parseCidr(text);
  if (cidr === undefined) return { message: `must be a network prefix with no host bits set, got ${describeValue(text)}` };
  const family = familyOf(cidr);
  const { min, max } = BLOCK_SIZE[family];
  const length = prefixLength(cidr);
  if (length < min || length > max) return { message: `is a /${length}; an IPv${family} block is /${min} to /${max}` };
  // The text itself when it is already canonical (Calico writes it so): parseCidr builds the
  // canonical form as a chain of cons strings, 32 bytes each, and snapshots keep every CIDR.
  return { cidr: cidr === text ? (text as Cidr) : cidr };
}
