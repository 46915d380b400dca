import { Worker } from 'node:worker_threads';
import type { StoreReaderSpec } from '../store/index.js';
import type { RangeReport } from './leaf-range.js';

/**
 * Worker threads for `vigil verify`, each with a read-only connection and read transaction of its
 * own, taking tasks from one queue (whichever is free takes the next): ranges of leaves to
 * recompute, and the search index check. A worker whose snapshot holds another number of leaves
 * than the caller's read another state (a write landed between the two): the pool then gives up,
 * and the caller checks on its own thread.
 */

/** `sizes`: the tree sizes within a range of leaves whose roots the caller compares with signed ones. */
export type PoolTask = { readonly type: 'leaves'; readonly from: number; readonly to: number; readonly sizes: readonly number[] } | { readonly type: 'index' };

export type PoolAnswer =
  /** `leaves`: the worker's `lastLeaf()`, which must equal the caller's leaf count. */
  | { readonly type: 'ready'; readonly leaves: number }
  | { readonly type: 'leaves'; readonly report: RangeReport; readonly ms: number }
  | { readonly type: 'index'; readonly brokenRid: number | null; readonly ms: number }
  | { readonly type: 'failed' };

export interface PoolWorkerData {
  readonly spec: StoreReaderSpec;
  readonly tenant: string;
}

/** What the pool found: every leaf range (in position order, all ok), and the index check if it was a task. */
export interface PoolResult {
  readonly ranges: readonly Extract<RangeReport, { ok: true }>[];
  readonly index: { readonly brokenRid: number | null; readonly ms: number } | undefined;
}

export interface VerifyPool {
  /** All leaf ranges checked and ok; undefined when one was not, a worker failed, or read another state. */
  readonly ranges: Promise<PoolResult['ranges'] | undefined>;
  /** Every task done; undefined as for `ranges`. */
  readonly done: Promise<PoolResult | undefined>;
  stop(): Promise<void>;
}

/**
 * Starts `workers` threads over the store of `spec` and hands them `tasks` in order. `leaves` is
 * the caller's leaf count: the workers must see the same. `onRange` is called as each range is found ok.
 */
export function startVerifyPool(spec: StoreReaderSpec, tenant: string, workers: number, tasks: readonly PoolTask[], leaves: number, onRange?: (done: number) => void): VerifyPool {
  const queue = [...tasks];
  let leafTasks = tasks.filter((t) => t.type === 'leaves').length;
  let pending = tasks.length;
  const ranges: Extract<RangeReport, { ok: true }>[] = [];
  let index: PoolResult['index'];
  let settle: (r: PoolResult | undefined) => void = () => undefined;
  let settleRanges: (r: PoolResult['ranges'] | undefined) => void = () => undefined;
  const done = new Promise<PoolResult | undefined>((resolve) => (settle = resolve));
  const rangesDone = new Promise<PoolResult['ranges'] | undefined>((resolve) => (settleRanges = resolve));
  const fail = (): void => {
    settleRanges(undefined);
    settle(undefined);
  };
  const threads: Worker[] = [];
  for (let i = 0; i < Math.min(workers, Math.max(tasks.length, 1)); i++) {
    const worker = new Worker(new URL('./verify-worker.js', import.meta.url), { workerData: { spec, tenant } satisfies PoolWorkerData });
    threads.push(worker);
    worker.on('message', (m: PoolAnswer) => {
      if (m.type === 'failed' || (m.type === 'ready' && m.leaves !== leaves) || (m.type === 'leaves' && !m.report.ok)) return fail();
      if (m.type === 'leaves' && m.report.ok) {
        ranges.push(m.report);
        leafTasks -= 1;
        onRange?.(ranges.reduce((n, r) => n + r.to - r.from + 1, 0));
        if (leafTasks === 0) settleRanges(ranges.sort((a, b) => a.from - b.from));
      }
      if (m.type === 'index') index = { brokenRid: m.brokenRid, ms: m.ms };
      if (m.type === 'ready') return undefined;
      pending -= 1;
      if (pending === 0) return settle({ ranges, index });
      const next = queue.shift();
      if (next !== undefined) worker.postMessage(next);
    });
    worker.once('error', fail);
    // Before every task is answered, a worker that ends has failed (they are ended only after, by stop).
    worker.once('exit', fail);
    // Its first task now: it starts on it as soon as it is up, even while this thread is busy.
    const first = queue.shift();
    if (first !== undefined) worker.postMessage(first);
  }
  if (leafTasks === 0) settleRanges(ranges);
  if (pending === 0) settle({ ranges, index });
  return {
    ranges: rangesDone,
    done,
    stop: async () => {
      fail();
      await Promise.all(threads.map((w) => w.terminate()));
    },
  };
}
