import { createHash } from 'node:crypto';

/**
 * Test support only: the RFC 9162 definitions of MTH, PATH and PROOF written as literally as
 * possible (recursion over sliced lists, fresh hashing), with no code shared with the real
 * implementation, so the tests can check it against an independent reading of the RFC.
 */

function sha256(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** k: the largest power of two smaller than n (n > 1). */
function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH(D[n]) from section 2.1.1. */
export function referenceRoot(entries: readonly Uint8Array[]): Buffer {
  const n = entries.length;
  if (n === 0) return sha256();
  if (n === 1) return sha256(Buffer.of(0x00), entries[0] as Uint8Array);
  const k = largestPowerOfTwoBelow(n);
  return sha256(Buffer.of(0x01), referenceRoot(entries.slice(0, k)), referenceRoot(entries.slice(k)));
}

/** The leaf hash of one entry, as MTH of a one-entry list. */
export function referenceLeaf(entry: Uint8Array): Buffer {
  return referenceRoot([entry]);
}

/** PATH(m, D[n]) from section 2.1.3.1. */
export function referencePath(m: number, entries: readonly Uint8Array[]): Buffer[] {
  const n = entries.length;
  if (n === 1 && m === 0) return [];
  const k = largestPowerOfTwoBelow(n);
  if (m < k) return [...referencePath(m, entries.slice(0, k)), referenceRoot(entries.slice(k))];
  return [...referencePath(m - k, entries.slice(k)), referenceRoot(entries.slice(0, k))];
}

function subproof(m: number, entries: readonly Uint8Array[], b: boolean): Buffer[] {
  const n = entries.length;
  if (m === n) return b ? [] : [referenceRoot(entries)];
  const k = largestPowerOfTwoBelow(n);
  if (m <= k) return [...subproof(m, entries.slice(0, k), b), referenceRoot(entries.slice(k))];
  return [...subproof(m - k, entries.slice(k), false), referenceRoot(entries.slice(0, k))];
}

/** PROOF(m, D[n]) from section 2.1.4.1 (0 < m <= n). */
export function referenceProof(m: number, entries: readonly Uint8Array[]): Buffer[] {
  return subproof(m, entries, true);
}
