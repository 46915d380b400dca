import { randomFillSync } from 'node:crypto';
import { VigilError } from '../errors.js';
import { MerkleFrontier } from './frontier.js';
import { leafHash } from './tree-hash.js';

/**
 * A micro-benchmark of the Merkle log's two costs, for `npm run bench`: hashing leaf data, and
 * rebuilding a tree root from stored leaf hashes (what `vigil verify` does for every leaf).
 */

/** Bytes of data per leaf, about the size of one canonical audit entry. */
export const BENCH_LEAF_BYTES = 500;

/** Results of one run. */
export interface MerkleBenchResult {
  readonly leaves: number;
  /** Leaf hashes of ~500-byte entries per second. */
  readonly leafHashesPerSecond: number;
  /** Leaf hashes appended to a frontier, and its root taken, per second. */
  readonly rebuildLeavesPerSecond: number;
  readonly leafHashMs: number;
  readonly rebuildMs: number;
}

/**
 * Times (a) hashing `leaves` entries of ~500 bytes and (b) rebuilding the root from their hashes.
 * Entry bytes come from a random pool, so no two consecutive entries are equal; the pool keeps
 * memory flat at any leaf count.
 *
 * @example
 * const r = merkleBench(1_000_000);
 * console.log(`${Math.round(r.rebuildLeavesPerSecond)} leaves/s`);
 */
export function merkleBench(leaves: number, now: () => number = () => performance.now()): MerkleBenchResult {
  if (!Number.isSafeInteger(leaves) || leaves < 1) throw new VigilError('ERR_INTERNAL', 'merkleBench needs at least one leaf');
  const pool = randomFillSync(Buffer.alloc(64 * 1024 + BENCH_LEAF_BYTES));
  const hashes: Buffer[] = new Array<Buffer>(leaves);
  const t0 = now();
  for (let i = 0; i < leaves; i += 1) {
    const at = (i * 997) % (pool.length - BENCH_LEAF_BYTES);
    hashes[i] = leafHash(pool.subarray(at, at + BENCH_LEAF_BYTES));
  }
  const t1 = now();
  const frontier = new MerkleFrontier();
  for (const h of hashes) frontier.append(h);
  frontier.root();
  const t2 = now();
  const leafHashMs = t1 - t0;
  const rebuildMs = t2 - t1;
  return {
    leaves,
    leafHashesPerSecond: leaves / (Math.max(leafHashMs, 1e-3) / 1000),
    rebuildLeavesPerSecond: leaves / (Math.max(rebuildMs, 1e-3) / 1000),
    leafHashMs,
    rebuildMs,
  };
}
