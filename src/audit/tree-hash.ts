import * as nodeCrypto from 'node:crypto';
import { VigilError } from '../errors.js';

/**
 * The two hash functions of an RFC 9162 Merkle tree (section 2.1.1), with SHA-256. The one-byte
 * prefixes keep leaves and interior nodes in separate domains, so no leaf can pose as a node
 * (the second-preimage attack on unprefixed Merkle trees).
 */

/** Size in bytes of every tree hash (SHA-256). */
export const HASH_SIZE = 32;

const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;

/**
 * SHA-256 in one call. crypto.hash() (Node >= 20.12) makes no Hash object, which is most of the
 * cost of hashing 65 bytes; older runtimes fall back to createHash. Its digest is taken as a binary
 * (latin1) string and copied into a pooled Buffer: asked for a Buffer, crypto.hash gives each digest a
 * backing store of its own, which costs more than hashing a node (0.80 against 0.43 µs a node).
 */
const digest: (data: Uint8Array | string) => Buffer =
  typeof (nodeCrypto as { hash?: unknown }).hash === 'function'
    ? (data) => Buffer.from(nodeCrypto.hash('sha256', data, 'binary'), 'binary')
    : (data) => nodeCrypto.createHash('sha256').update(data).digest();

/**
 * SHA-256 of bytes or of a string's UTF-8, in one call (no Hash object: it is most of the cost for
 * short inputs). A string goes in as it is, encoded natively, with no Buffer made for it.
 */
export function sha256Once(data: Uint8Array | string): Buffer {
  return digest(data);
}

const nodeInput = Buffer.alloc(1 + 2 * HASH_SIZE);
nodeInput[0] = NODE_PREFIX;

/** Leaves up to this size are prefixed in a reused buffer; bigger ones get a buffer of their own. */
const SCRATCH_LIMIT = 64 * 1024;
let leafInput = Buffer.alloc(1024);

/**
 * The hash of one leaf: SHA-256(0x00 || data).
 *
 * @example
 * leafHash(Buffer.alloc(0)).toString('hex'); // '6e340b9c...' (the CT reference tree's first leaf)
 */
export function leafHash(data: Uint8Array): Buffer {
  const size = data.length + 1;
  if (size > leafInput.length) {
    if (size > SCRATCH_LIMIT) return digest(Buffer.concat([Buffer.of(LEAF_PREFIX), data]));
    leafInput = Buffer.alloc(Math.max(size, leafInput.length * 2));
  }
  leafInput[0] = LEAF_PREFIX;
  leafInput.set(data, 1);
  return digest(leafInput.subarray(0, size));
}

/**
 * `leafHash(Buffer.from(text))` without the Buffer: the prefix byte 0x00 is U+0000 in UTF-8, so
 * the text goes to the hash behind it as a string, encoded natively (the verifier hashes every
 * leaf of the log this way).
 */
export function leafHashOfText(text: string): Buffer {
  return digest(`\0${text}`);
}

/**
 * The hash of an interior node: SHA-256(0x01 || left || right). Both children must be tree hashes
 * (32 bytes); anything else is a programming error, not data to hash.
 */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) {
    throw new VigilError('ERR_INTERNAL', 'A Merkle node hashes two 32-byte child hashes');
  }
  nodeInput.set(left, 1);
  nodeInput.set(right, 1 + HASH_SIZE);
  return digest(nodeInput);
}

/** The root of the empty tree: SHA-256 of no bytes (a fresh copy, so callers cannot change it). */
export function emptyRoot(): Buffer {
  return digest(new Uint8Array(0));
}

/** True when `value` is a byte string of exactly one tree hash. */
export function isTreeHash(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length === HASH_SIZE;
}

/** Compares two tree hashes; false for anything that is not a pair of 32-byte values. */
export function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  if (!isTreeHash(a) || !isTreeHash(b)) return false;
  // Tree hashes are public, so a constant-time compare is not needed; this one is, and it costs
  // less than a call into C++ (timingSafeEqual or Buffer.equals: about 55 against 23 ns; the
  // verifier compares every leaf twice).
  let diff = 0;
  for (let i = 0; i < HASH_SIZE; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}
