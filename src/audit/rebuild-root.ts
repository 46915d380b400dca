import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { VigilError } from '../errors.js';
import { MerkleFrontier } from './frontier.js';
import { HASH_SIZE } from './tree-hash.js';
import { largestPowerOfTwoAtMost, perfectRanges, type LeafRange } from './tree-math.js';

/**
 * Rebuilds the root of a large tree from its leaf hashes on several cores. The leaves are cut
 * into aligned perfect subtrees; worker threads hash those, and the main thread joins their roots
 * in order on a frontier, so the result is the MTH whatever the cut.
 */

/** Below this many leaves, starting threads costs more than it saves. */
const PARALLEL_THRESHOLD = 1 << 16;

/** Options of `rebuildRoot`. */
export interface RebuildOptions {
  /** Worker threads to use; default: the machine's parallelism. 0 or 1 hashes on this thread. */
  readonly workers?: number;
}

/** The aligned perfect subtrees a tree of `size` leaves is cut into, about `parts` of them. */
export function rebuildTasks(size: number, parts: number): LeafRange[] {
  const chunk = largestPowerOfTwoAtMost(Math.max(1, Math.floor(size / Math.max(1, parts))));
  const whole = Math.floor(size / chunk) * chunk;
  const tasks: LeafRange[] = [];
  for (let start = 0; start < whole; start += chunk) tasks.push({ start, end: start + chunk });
  return tasks.concat(perfectRanges(whole, size));
}

function heightOf(leaves: number): number {
  let h = 0;
  for (let n = leaves; n > 1; n /= 2) h += 1;
  return h;
}

/**
 * The root (MTH) of the leaf hashes packed back to back in `leafHashes` (n * 32 bytes).
 *
 * @example
 * const root = await rebuildRoot(Buffer.concat(storedLeafHashes));
 */
export async function rebuildRoot(leafHashes: Uint8Array, options: RebuildOptions = {}): Promise<Buffer> {
  if (leafHashes.length % HASH_SIZE !== 0) throw new VigilError('ERR_INTERNAL', 'Leaf hashes are packed 32 bytes each');
  const size = leafHashes.length / HASH_SIZE;
  const workers = Math.min(options.workers ?? availableParallelism(), 16);
  if (workers <= 1 || size < PARALLEL_THRESHOLD) {
    const frontier = new MerkleFrontier();
    for (let i = 0; i < size; i += 1) frontier.append(leafHashes.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE));
    return frontier.root();
  }
  const shared = new SharedArrayBuffer(leafHashes.length);
  new Uint8Array(shared).set(leafHashes);
  // A few tasks per worker, so one slow thread does not hold up the others at the end.
  const tasks = rebuildTasks(size, workers * 4);
  const results = new Array<Buffer | undefined>(tasks.length);
  const pool = Array.from({ length: workers }, () => new Worker(new URL('./root-worker.js', import.meta.url), { workerData: { leaves: shared } }));
  try {
    let next = 0;
    await Promise.all(
      pool.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const feed = (): void => {
              if (next >= tasks.length) return resolve();
              const id = next;
              next += 1;
              worker.postMessage({ id, ...tasks[id] });
            };
            worker.on('message', (msg: { id: number; hash: Uint8Array }) => {
              results[msg.id] = Buffer.from(msg.hash);
              feed();
            });
            worker.once('error', reject);
            // A thread that dies without an error event must not leave the rebuild waiting forever.
            worker.once('exit', () => reject(new VigilError('ERR_INTERNAL', 'A Merkle rebuild worker stopped early')));
            feed();
          }),
      ),
    );
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
  const frontier = new MerkleFrontier();
  tasks.forEach((t, i) => frontier.appendSubtree(heightOf(t.end - t.start), results[i] as Buffer));
  return frontier.root();
}
