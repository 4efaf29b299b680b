// An order-independent digest of a set of lines: two 32-bit hashes of each line, summed. The
// kernel view keeps the digest of the lines it knows the kernel prints, adding and taking away one
// line at a time; the periodic check digests a 6.6 MB listing in one pass over its bytes, without
// turning it into strings. Equal digests and counts mean the same lines, with a chance of a false
// match of about 2^-64 per check (these are not a defence against someone who can write the
// routing table: such a writer is root on the node already).
export interface LinesDigest {
  readonly a: number;
  readonly b: number;
  readonly lines: number;
}

export const EMPTY_DIGEST: LinesDigest = { a: 0, b: 0, lines: 0 };

const FNV_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const MURMUR_SEED = 0x9747b28c;
const MURMUR_M = 0x5bd1e995;

/** One line's pair of hashes, over the bytes a listing prints it as. */
export function lineDigest(line: string): LinesDigest {
  return bytesDigest(Buffer.from(line, 'utf8'));
}

/** The digest of every non-empty line of a listing, straight from its bytes. */
export function bytesDigest(bytes: Uint8Array): LinesDigest {
  const sum = new DigestSum();
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i < bytes.length && bytes[i] !== 10) continue;
    sum.add(bytes, start, i);
    start = i + 1;
  }
  return sum.digest();
}

/** A digest summed one line at a time, each line a range of bytes: no string, no allocation. */
export class DigestSum {
  private a = 0;
  private b = 0;
  private lines = 0;

  /** Adds the line `bytes[start, end)`; an empty one is not a line. */
  add(bytes: Uint8Array, start: number, end: number): void {
    if (end <= start) return;
    let a = FNV_BASIS;
    let b = MURMUR_SEED;
    for (let i = start; i < end; i++) {
      const c = bytes[i] as number;
      a = Math.imul(a ^ c, FNV_PRIME);
      b = Math.imul(b ^ c, MURMUR_M);
      b ^= b >>> 24;
    }
    this.a = (this.a + (a >>> 0)) >>> 0;
    this.b = (this.b + finish(b)) >>> 0;
    this.lines += 1;
  }

  digest(): LinesDigest {
    return { a: this.a, b: this.b, lines: this.lines };
  }
}

function finish(h: number): number {
  let b = h ^ (h >>> 13);
  b = Math.imul(b, MURMUR_M);
  return (b ^ (b >>> 15)) >>> 0;
}

export function addDigest(x: LinesDigest, y: LinesDigest): LinesDigest {
  return { a: (x.a + y.a) >>> 0, b: (x.b + y.b) >>> 0, lines: x.lines + y.lines };
}

export function subtractDigest(x: LinesDigest, y: LinesDigest): LinesDigest {
  return { a: (x.a - y.a) >>> 0, b: (x.b - y.b) >>> 0, lines: x.lines - y.lines };
}

export function sameDigest(x: LinesDigest, y: LinesDigest): boolean {
  return x.a === y.a && x.b === y.b && x.lines === y.lines;
}
