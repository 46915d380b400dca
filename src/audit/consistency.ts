import { VigilError } from '../errors.js';
import { resolveProof, type ProofPlan, type SubtreeHasher } from './subtree.js';
import { emptyRoot, isTreeHash, nodeHash, sameHash } from './tree-hash.js';
import { isPowerOfTwo, isTreeSize, perfectRanges, splitPoint, type LeafRange } from './tree-math.js';

/**
 * Consistency proofs (RFC 9162 section 2.1.4): a tree of `size2` leaves extends the tree of
 * `size1` leaves, every earlier leaf unchanged. This is what catches a rewritten history.
 */

const MAX_PROOF = 64;

function consistencyFailed(): VigilError {
  // One message for every failure, so the verifier is no oracle for which hash was wrong.
  return new VigilError('ERR_INTEGRITY', 'The consistency proof does not verify');
}

/**
 * Which subtrees PROOF(size1, D[size2]) consists of (SUBPROOF of the RFC, walked from the root).
 * Equal sizes and size1 = 0 need no hashes: the plan is empty.
 */
export function consistencyProofPlan(size1: number, size2: number): ProofPlan {
  if (!isTreeSize(size1) || !isTreeSize(size2) || size1 > size2) {
    throw new VigilError('ERR_BAD_REQUEST', 'A consistency proof goes from a smaller tree to a larger one');
  }
  if (size1 === 0 || size1 === size2) return [];
  const fromRoot: LeafRange[][] = [];
  let start = 0;
  let end = size2;
  let m = size1;
  // `whole` is the RFC's b: still on the left edge, where the old tree's root is already known.
  let whole = true;
  while (m !== end - start) {
    const k = splitPoint(end - start);
    if (m <= k) {
      fromRoot.push(perfectRanges(start + k, end));
      end = start + k;
    } else {
      fromRoot.push([{ start, end: start + k }]);
      start += k;
      m -= k;
      whole = false;
    }
  }
  if (!whole) fromRoot.push(perfectRanges(start, end));
  return fromRoot.reverse();
}

/**
 * The consistency proof from the tree of `size1` leaves to the tree of `size2` leaves.
 *
 * @example
 * const proof = consistencyProof(5, 8, memorySubtreeHasher(leafHashes));
 * verifyConsistency(5, 8, root5, root8, proof);
 */
export function consistencyProof(size1: number, size2: number, subtreeHash: SubtreeHasher): Buffer[] {
  return resolveProof(consistencyProofPlan(size1, size2), subtreeHash);
}

function rfcVerify(size1: number, size2: number, root1: Uint8Array, root2: Uint8Array, proof: readonly Uint8Array[]): boolean {
  // RFC 9162 section 2.1.4.2, for 0 < size1 < size2.
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : proof;
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr: Buffer = Buffer.from(path[0] as Uint8Array);
  let sr = fr;
  for (let i = 1; i < path.length; i += 1) {
    const c = path[i] as Uint8Array;
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && sameHash(fr, root1) && sameHash(sr, root2);
}

/**
 * Checks that the tree of `size2` leaves with root `root2` extends the tree of `size1` leaves with
 * root `root1`. Equal sizes need equal roots and an empty proof; size1 = 0 needs the empty-tree root.
 * Returns normally when consistent; throws `ERR_INTEGRITY` with one generic message otherwise.
 */
export function verifyConsistency(size1: number, size2: number, root1: Uint8Array, root2: Uint8Array, proof: readonly Uint8Array[]): void {
  if (!isTreeSize(size1) || !isTreeSize(size2) || size1 > size2) throw consistencyFailed();
  if (!isTreeHash(root1) || !isTreeHash(root2) || proof.length > MAX_PROOF || !proof.every(isTreeHash)) throw consistencyFailed();
  let ok: boolean;
  if (size1 === size2) ok = proof.length === 0 && sameHash(root1, root2);
  else if (size1 === 0) ok = proof.length === 0 && sameHash(root1, emptyRoot());
  else ok = rfcVerify(size1, size2, root1, root2, proof);
  if (!ok) throw consistencyFailed();
}
