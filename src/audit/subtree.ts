import { VigilError } from '../errors.js';
import { isTreeHash, nodeHash } from './tree-hash.js';
import { isPowerOfTwo, type LeafRange } from './tree-math.js';

/**
 * Where proofs get their hashes. A proof is planned as pure index arithmetic first (which subtrees
 * it needs), then filled in from a source of perfect-subtree hashes, so a store can serve the
 * hashes however it keeps them: computed from leaf hashes, cached per level, or fetched in one
 * query for the whole plan.
 */

/**
 * Returns MTH(D[start:end]) for a perfect, aligned subtree: `end - start` is a power of two and
 * `start` a multiple of it. Proof code asks for nothing else.
 */
export type SubtreeHasher = (start: number, end: number) => Uint8Array;

/** The batched, asynchronous form of `SubtreeHasher`: one hash per range, in the order asked. */
export type AsyncSubtreeHasher = (ranges: readonly LeafRange[]) => Promise<readonly Uint8Array[]>;

/**
 * A proof before its hashes are known: one entry per proof element, each the perfect subtrees
 * (largest first) whose right-to-left fold is that element's hash.
 */
export type ProofPlan = readonly (readonly LeafRange[])[];

/** True when D[start:end] is a perfect subtree at an aligned position. */
export function isPerfectRange(start: number, end: number): boolean {
  const size = end - start;
  return Number.isSafeInteger(start) && start >= 0 && Number.isSafeInteger(end) && size >= 1 && isPowerOfTwo(size) && start % size === 0;
}

function checked(hash: Uint8Array | undefined): Uint8Array {
  // Hashes come from storage here, so a wrong shape is corruption, not a programming error.
  if (!isTreeHash(hash)) throw new VigilError('ERR_INTEGRITY', 'A stored Merkle subtree hash is malformed');
  return hash;
}

function fold(hashes: readonly Uint8Array[]): Buffer {
  let i = hashes.length - 1;
  let acc: Buffer = Buffer.from(checked(hashes[i]));
  while (i > 0) {
    i -= 1;
    acc = nodeHash(checked(hashes[i]), acc);
  }
  return acc;
}

/** Fills in a plan from a synchronous hash source. */
export function resolveProof(plan: ProofPlan, subtreeHash: SubtreeHasher): Buffer[] {
  return plan.map((ranges) => fold(ranges.map((r) => subtreeHash(r.start, r.end))));
}

/** Fills in a plan with a single batched request to an asynchronous hash source (e.g. a database). */
export async function resolveProofAsync(plan: ProofPlan, subtreeHashes: AsyncSubtreeHasher): Promise<Buffer[]> {
  const ranges = plan.flat();
  const hashes = await subtreeHashes(ranges);
  if (hashes.length !== ranges.length) throw new VigilError('ERR_INTEGRITY', 'A stored Merkle subtree hash is missing');
  let at = 0;
  return plan.map((element) => {
    const part = hashes.slice(at, at + element.length);
    at += element.length;
    return fold(part);
  });
}

/**
 * An in-memory `SubtreeHasher` over a list of leaf hashes (taken as they are now; later pushes to
 * the array are not seen). It hashes every level once, on first use, then answers in O(1).
 *
 * @example
 * const proof = inclusionProof(3, leaves.length, memorySubtreeHasher(leaves));
 */
export function memorySubtreeHasher(leafHashes: readonly Uint8Array[]): SubtreeHasher {
  const leaves: Buffer[] = leafHashes.map((h) => Buffer.from(checked(h)));
  let levels: Buffer[][] | undefined;
  const build = (): Buffer[][] => {
    const out = [leaves];
    for (let below = leaves; below.length >= 2; ) {
      const level: Buffer[] = [];
      for (let i = 0; i + 1 < below.length; i += 2) level.push(nodeHash(below[i] as Buffer, below[i + 1] as Buffer));
      out.push(level);
      below = level;
    }
    return out;
  };
  return (start, end) => {
    if (!isPerfectRange(start, end) || end > leaves.length) {
      throw new VigilError('ERR_INTERNAL', 'Only perfect subtrees inside the tree have a stored hash');
    }
    levels ??= build();
    const size = end - start;
    let height = 0;
    for (let s = size; s > 1; s /= 2) height += 1;
    return Buffer.from((levels[height] as Buffer[])[start / size] as Buffer);
  };
}
