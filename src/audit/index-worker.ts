import { parentPort, workerData } from 'node:worker_threads';
import { openStoreReader, type StoreReaderSpec } from '../store/index.js';
import { firstIndexMismatch } from './index-check.js';

/**
 * Worker of `startIndexWorker`: opens its own read transaction, checks every current resource's
 * index rows, and answers `{ leaves, brokenRid, ms }` once. `leaves` tells the caller which state
 * was read; a result over another state than the caller's is thrown away.
 */

const reader = openStoreReader((workerData as { spec: StoreReaderSpec }).spec);
try {
  const started = performance.now();
  const leaves = reader.countLeaves();
  let brokenRid: number | null = null;
  for (const page of reader.scanCurrentIndex()) {
    brokenRid = firstIndexMismatch(page) ?? null;
    if (brokenRid !== null) break;
  }
  parentPort?.postMessage({ leaves, brokenRid, ms: performance.now() - started });
} finally {
  reader.close();
}
