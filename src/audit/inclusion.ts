import { VigilError } from '../errors.js';
import { resolveProof, type ProofPlan, type SubtreeHasher } from './subtree.js';
import { isTreeHash, nodeHash, sameHash } from './tree-hash.js';
import { isTreeSize, perfectRanges, splitPoint, type LeafRange } from './tree-math.js';

/**
 * Inclusion proofs (RFC 9162 section 2.1.3): the audit path that shows one leaf is in a tree of a
 * given size, without the rest of the tree.
 */

/** Longer paths than this cannot occur for a safe-integer tree size; refusing them bounds the work. */
const MAX_PATH = 64;

function inclusionFailed(): VigilError {
  // One message for every way a proof can fail: the verifier must not hint which part was wrong.
  return new VigilError('ERR_INTEGRITY', 'The inclusion proof does not verify');
}

/**
 * Which subtrees the audit path PATH(index, D[size]) consists of, leaf end first: at each split
 * the proof carries the hash of the side the leaf is not on.
 */
export function inclusionProofPlan(index: number, size: number): ProofPlan {
  if (!isTreeSize(index) || !isTreeSize(size) || index >= size) {
    throw new VigilError('ERR_BAD_REQUEST', 'The leaf index is not inside the tree');
  }
  const fromRoot: LeafRange[][] = [];
  let start = 0;
  let end = size;
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (index - start < k) {
      fromRoot.push(perfectRanges(start + k, end));
      end = start + k;
    } else {
      fromRoot.push([{ start, end: start + k }]);
      start += k;
    }
  }
  return fromRoot.reverse();
}

/**
 * The inclusion proof of leaf `index` in the tree of the first `size` leaves.
 *
 * @example
 * const proof = inclusionProof(5, 8, memorySubtreeHasher(leafHashes));
 * verifyInclusion(5, 8, leafHashes[5], proof, root8);
 */
export function inclusionProof(index: number, size: number, subtreeHash: SubtreeHasher): Buffer[] {
  return resolveProof(inclusionProofPlan(index, size), subtreeHash);
}

/**
 * The root that an inclusion proof leads to from a leaf hash (RFC 9162 section 2.1.3.2, steps 1
 * to 4); throws the generic verification error when the proof's shape does not fit the size.
 */
export function rootFromInclusionProof(index: number, size: number, leafHash: Uint8Array, proof: readonly Uint8Array[]): Buffer {
  if (!isTreeSize(index) || !isTreeSize(size) || index >= size) throw inclusionFailed();
  if (!isTreeHash(leafHash) || proof.length > MAX_PATH || !proof.every(isTreeHash)) throw inclusionFailed();
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leafHash);
  for (const p of proof) {
    if (sn === 0) throw inclusionFailed(); // more hashes than the path has levels
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      // A right-edge node with no sibling at this level: climb until the node is a right child.
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw inclusionFailed(); // fewer hashes than the path has levels
  return r;
}

/**
 * Checks that `leafHash` is leaf `index` of the tree of `size` leaves whose root is `root`.
 * Returns normally when it is; throws `ERR_INTEGRITY` with one generic message otherwise.
 *
 * `root` and `size` must come together from one verified checkpoint: a root alone does not fix
 * the size (the proof of leaf 0 in 3 leaves also fits a 4-leaf tree with the same root).
 */
export function verifyInclusion(index: number, size: number, leafHash: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): void {
  if (!sameHash(rootFromInclusionProof(index, size, leafHash, proof), root)) throw inclusionFailed();
}
