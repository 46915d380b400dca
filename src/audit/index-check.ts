import type { CurrentIndexRow, Store } from '../store/index.js';
import { indexDigestOf } from './leaf.js';
import { sameHash } from './tree-hash.js';
import { startVerifyPool } from './verify-pool.js';

/**
 * Step 5 of `vigil verify`: the search index rows of every current, not deleted resource must
 * hash to the index digest held by the version its pointer names, and no other index row may
 * exist (a deleted resource has none; search totals count the index alone). The leaf walk proves that
 * digest is the one the log committed to, and that the pointer names the newest version.
 */

/**
 * The rid of the first resource in a page whose index rows do not match, if any: a deleted
 * resource has none (its delete removed them), and rows of no resource have no digest at all.
 */
export function firstIndexMismatch(page: readonly CurrentIndexRow[]): number | undefined {
  for (const r of page) {
    if (r.deleted) {
      if (r.hashesJson !== '[]' || r.ranges.length > 0) return r.rid;
      continue;
    }
    if (r.committed === null || !sameHash(indexDigestOf(r.hashesJson, r.ranges), r.committed)) return r.rid;
  }
  return undefined;
}

/** What the index check found, and over which state of the store. */
export interface IndexCheckResult {
  /** The number of log leaves in the snapshot the check read: it is valid only for that state. */
  readonly leaves: number;
  readonly brokenRid: number | null;
  readonly ms: number;
  readonly inWorker: boolean;
}

/** Runs the index check on this thread, inside the caller's snapshot. */
export async function checkIndexHere(store: Store, leaves: number): Promise<IndexCheckResult> {
  const started = performance.now();
  for await (const page of store.scanCurrentIndex()) {
    const rid = firstIndexMismatch(page);
    if (rid !== undefined) return { leaves, brokenRid: rid, ms: performance.now() - started, inWorker: false };
  }
  return { leaves, brokenRid: null, ms: performance.now() - started, inWorker: false };
}

/**
 * Starts the index check in a worker thread with its own read-only connection, so it runs on the
 * second core while this thread walks the leaves. Resolves undefined when the worker fails or read
 * another state than the caller's `leaves`; the caller then checks on its own thread.
 */
export function startIndexWorker(store: Store, leaves: number): { result: Promise<IndexCheckResult | undefined>; stop: () => Promise<void> } {
  const pool = startVerifyPool(store.readerSpec(), '', 1, [{ type: 'index' }], leaves);
  const result = pool.done.then((r) => (r?.index === undefined ? undefined : { leaves, brokenRid: r.index.brokenRid, ms: r.index.ms, inWorker: true }));
  return { result, stop: pool.stop };
}
