import { parentPort, workerData } from 'node:worker_threads';
import { MerkleFrontier } from './frontier.js';
import { HASH_SIZE } from './tree-hash.js';

/**
 * Worker of `rebuildRoot`: hashes perfect, aligned subtrees of a shared array of leaf hashes.
 * It reads `workerData.leaves` (a SharedArrayBuffer of n * 32 bytes) and answers each
 * `{ id, start, end }` message with `{ id, hash }`, the subtree's root.
 */

interface Task {
  readonly id: number;
  readonly start: number;
  readonly end: number;
}

const leaves = new Uint8Array((workerData as { leaves: SharedArrayBuffer }).leaves);

parentPort?.on('message', (task: Task) => {
  const frontier = new MerkleFrontier();
  for (let i = task.start; i < task.end; i += 1) {
    frontier.append(leaves.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE));
  }
  parentPort?.postMessage({ id: task.id, hash: frontier.root() });
});
