/**
 * Index arithmetic of RFC 9162 trees. Sizes and indexes are JavaScript numbers, valid up to
 * 2^53 - 1 leaves; the code divides instead of shifting, because bit operators stop at 2^31.
 */

/** A range of leaves, `start` included and `end` excluded, as in the RFC's D[start:end]. */
export interface LeafRange {
  readonly start: number;
  readonly end: number;
}

/** True for a tree size or leaf index this code can address: a safe integer, zero or more. */
export function isTreeSize(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** True when `n` is 1, 2, 4, 8, ... */
export function isPowerOfTwo(n: number): boolean {
  let k = 1;
  while (k < n) k *= 2;
  return k === n;
}

/** The largest power of two that is at most `n` (n >= 1). */
export function largestPowerOfTwoAtMost(n: number): number {
  let k = 1;
  while (k * 2 <= n) k *= 2;
  return k;
}

/**
 * Where MTH splits a tree of `n` leaves (n >= 2): the largest power of two smaller than n, so the
 * left subtree is always perfect (RFC 9162 section 2.1.1).
 */
export function splitPoint(n: number): number {
  return largestPowerOfTwoAtMost(n - 1);
}

/**
 * The perfect subtrees that make up the RFC subtree D[start:end], largest (leftmost) first. The
 * subtree's hash is these hashes folded from the right: MTH splits off a perfect left part of the
 * largest power-of-two size and recurses on the rest, which is exactly this decomposition.
 */
export function perfectRanges(start: number, end: number): LeafRange[] {
  const out: LeafRange[] = [];
  let at = start;
  while (at < end) {
    const size = largestPowerOfTwoAtMost(end - at);
    out.push({ start: at, end: at + size });
    at += size;
  }
  return out;
}

/** The number of one bits of a tree size: how many perfect subtrees its compact range holds. */
export function onesIn(n: number): number {
  let count = 0;
  for (let rest = n; rest > 0; rest = Math.floor(rest / 2)) count += rest % 2;
  return count;
}
