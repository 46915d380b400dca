import { VigilError } from '../errors.js';
import { emptyRoot, isTreeHash, nodeHash } from './tree-hash.js';
import { isTreeSize, onesIn } from './tree-math.js';

/**
 * The right-hand frontier of an RFC 9162 tree (a "compact range" over [0, size)): one hash per
 * one bit of the size, the roots of the perfect subtrees the leaves fill so far, largest first.
 *
 * It is all a log writer needs to keep in memory: appending a leaf merges equal-sized subtrees
 * (one node hash on average, at most log2(size)), and the root folds O(log n) hashes. The verifier
 * replays every leaf hash through it to rebuild a tree and compare roots with signed checkpoints.
 *
 * @example
 * const f = new MerkleFrontier();
 * for (const data of entries) f.append(leafHash(data));
 * f.root(); // MTH of all entries
 */
export class MerkleFrontier {
  #size = 0;
  readonly #hashes: Buffer[] = [];

  /**
   * Rebuilds a frontier from a persisted size and its `hashes()`. The count of hashes must match the
   * size, so a truncated or padded state fails here instead of giving a wrong root later. The
   * hashes themselves cannot be checked here: compare `root()` with the last signed checkpoint
   * before appending to a restored frontier.
   */
  static restore(size: number, hashes: readonly Uint8Array[]): MerkleFrontier {
    if (!isTreeSize(size) || hashes.length !== onesIn(size) || !hashes.every(isTreeHash)) {
      throw new VigilError('ERR_INTEGRITY', 'The stored Merkle frontier is malformed');
    }
    const frontier = new MerkleFrontier();
    frontier.#size = size;
    for (const h of hashes) frontier.#hashes.push(Buffer.from(h));
    return frontier;
  }

  /** Number of leaves appended so far. */
  get size(): number {
    return this.#size;
  }

  /** Appends one leaf hash and returns the leaf's index. */
  append(leafHash: Uint8Array): number {
    if (!isTreeHash(leafHash)) throw new VigilError('ERR_INTERNAL', 'A leaf hash is 32 bytes');
    const index = this.#size;
    this.#push(leafHash, index);
    this.#size = index + 1;
    return index;
  }

  /**
   * Appends a whole perfect subtree of 2^height leaves at once, given its root. The tree must be at
   * a multiple of 2^height, so the subtree is aligned; parallel rebuilds hash aligned chunks apart
   * and join them here in order.
   */
  appendSubtree(height: number, hash: Uint8Array): void {
    const leaves = 2 ** height;
    if (!Number.isInteger(height) || height < 0 || height > 52 || !isTreeHash(hash)) {
      throw new VigilError('ERR_INTERNAL', 'A subtree is a 32-byte hash of 2^height leaves');
    }
    if (this.#size % leaves !== 0 || !isTreeSize(this.#size + leaves)) {
      throw new VigilError('ERR_INTERNAL', 'A subtree must start at a multiple of its own size');
    }
    this.#push(hash, this.#size / leaves);
    this.#size += leaves;
  }

  /** The root (MTH) of the leaves so far; the hash of the empty string when there are none. */
  root(): Buffer {
    const hashes = this.#hashes;
    let i = hashes.length - 1;
    if (i < 0) return emptyRoot();
    let root = hashes[i] as Buffer;
    while (i > 0) {
      i -= 1;
      root = nodeHash(hashes[i] as Buffer, root);
    }
    return Buffer.from(root);
  }

  /**
   * The root of these leaves followed by more, given the root (MTH) of the ones that follow. Valid
   * when they are no more than the smallest subtree here (the size is a multiple of a power of two
   * at least their number): their perfect subtrees are then perfect subtrees of the whole tree, and
   * MTH folds those from the right (RFC 9162, 2.1.1). For the verifier's leaf ranges, hashed apart.
   */
  rootWith(rest: Uint8Array): Buffer {
    if (!isTreeHash(rest)) throw new VigilError('ERR_INTERNAL', 'A subtree root is 32 bytes');
    const hashes = this.#hashes;
    let root: Uint8Array = rest;
    for (let i = hashes.length - 1; i >= 0; i -= 1) root = nodeHash(hashes[i] as Buffer, root);
    return Buffer.from(root);
  }

  /** Copies of the frontier hashes, largest subtree first, for `restore`. */
  hashes(): Buffer[] {
    return this.#hashes.map((h) => Buffer.from(h));
  }

  /** Adds a subtree root at `position` (its index among subtrees of its size), merging equal sizes. */
  #push(hash: Uint8Array, position: number): void {
    // Each trailing one bit of the position is a same-sized left sibling already on the frontier.
    if (position % 2 === 0) {
      this.#hashes.push(Buffer.from(hash)); // a copy: the caller may reuse its buffer
      return;
    }
    let node = nodeHash(this.#hashes.pop() as Buffer, hash);
    for (let at = (position - 1) / 2; at % 2 === 1; at = (at - 1) / 2) {
      node = nodeHash(this.#hashes.pop() as Buffer, node);
    }
    this.#hashes.push(node);
  }
}

/**
 * The root of a whole list of leaf hashes (MTH, RFC 9162 section 2.1.1) in one pass.
 *
 * @example
 * merkleRoot(entries.map(leafHash));
 */
export function merkleRoot(leafHashes: Iterable<Uint8Array>): Buffer {
  const frontier = new MerkleFrontier();
  for (const h of leafHashes) frontier.append(h);
  return frontier.root();
}
