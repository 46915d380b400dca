import { parentPort, workerData } from 'node:worker_threads';
import { openStoreReader, type RewrapRow } from '../store/index.js';
import { firstIndexMismatch } from './index-check.js';
import { readRewrapChains } from './leaf-check.js';
import { checkLeafRange } from './leaf-range.js';
import type { PoolAnswer, PoolTask, PoolWorkerData } from './verify-pool.js';

/**
 * Worker of `startVerifyPool`: opens its own read transaction, says how many leaves it sees
 * (`ready`), then answers each task it is given (a range of leaves, or the index check) in that
 * one snapshot, until the pool ends it.
 */

const data = workerData as PoolWorkerData;
const reader = openStoreReader(data.spec);
const port = parentPort;
let rewraps: Map<number, RewrapRow[]> | undefined;

async function answer(task: PoolTask): Promise<PoolAnswer> {
  const started = performance.now();
  if (task.type === 'leaves') {
    rewraps ??= await readRewrapChains((from, limit) => reader.readRewraps(from, limit));
    return { type: 'leaves', report: await checkLeafRange(reader, task.from, task.to, data.tenant, rewraps, task.sizes), ms: performance.now() - started };
  }
  let brokenRid: number | null = null;
  for (const page of reader.scanCurrentIndex()) {
    brokenRid = firstIndexMismatch(page) ?? null;
    if (brokenRid !== null) break;
  }
  return { type: 'index', brokenRid, ms: performance.now() - started };
}

port?.on('message', (task: PoolTask) => {
  answer(task).then(
    (a) => port.postMessage(a),
    () => port.postMessage({ type: 'failed' } satisfies PoolAnswer),
  );
});
port?.postMessage({ type: 'ready', leaves: reader.lastLeaf() } satisfies PoolAnswer);
