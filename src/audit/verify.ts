import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { AuditLeafRow, LeafRow, RewrapRow, Store, VersionRow } from '../store/index.js';
import { openCheckpoint } from './checkpoint.js';
import { MerkleFrontier } from './frontier.js';
import { VigilError } from '../errors.js';
import { checkIndexHere, startIndexWorker, type IndexCheckResult } from './index-check.js';
import { BATCH, checkLeaf, readRewrapChains, Stream, streamOf, type Broken, type Newest, type Streams } from './leaf-check.js';
import { appendRange, type RangeReport } from './leaf-range.js';
import type { NoteVerifier } from './note-key.js';
import { sameHash } from './tree-hash.js';
import { largestPowerOfTwoAtMost } from './tree-math.js';
import { startVerifyPool, type PoolTask } from './verify-pool.js';
import { fetchWitnessCheckpoint } from './witness-fetch.js';

export type { Broken } from './leaf-check.js';

/** What `vigil verify --json` prints. */
export interface VerifyResult {
  readonly ok: boolean;
  readonly leaves: number;
  readonly checkpoints: number;
  readonly firstBroken: Broken | null;
  /** Leaves per second over the whole run. */
  readonly leavesPerSecond: number;
  /**
   * Where the time went: the leaf walk (wall time, with the tree and the pointers; on `leafWorkers`
   * worker threads beside this one, 0 when it ran here alone), and the index check (on a worker
   * thread when `indexInWorker`).
   */
  readonly phases: { readonly leafMs: number; readonly leafLeavesPerSecond: number; readonly indexMs: number; readonly indexInWorker: boolean; readonly totalMs: number; readonly leafWorkers: number };
}

export interface VerifyOptions {
  readonly store: Store;
  readonly tenant: string;
  readonly origin: string;
  /** The log key, derived from the master key: never taken from the database being checked. */
  readonly verifier: NoteVerifier;
  readonly witnessFile?: string;
  /** A remote witness whose newest checkpoint (GET, JSON `{ origin, size, note }`) is checked too. */
  readonly witnessUrl?: string;
  readonly onProgress?: (done: number, total: number) => void;
  /** Check the search index on a worker thread beside the leaf walk; default: when the log has 20,000 leaves or more. */
  readonly indexWorker?: boolean;
  /**
   * Worker threads that recompute ranges of leaves while this thread rebuilds the tree (and take
   * the index check too, unless `indexWorker` is false); 0 for the sequential walk on this thread.
   * Default: one per core, at most 4, when the log has 20,000 leaves or more.
   */
  readonly leafWorkers?: number;
}

/** No signed roots at this size (shared, so the walk allocates nothing per leaf for it). */
const NONE: readonly { root: Uint8Array; source: 'checkpoint' | 'witness' }[] = [];
/** Below this many leaves, starting worker threads costs more than the work they would take over. */
const WORKER_THRESHOLD = 20_000;
/** Leaf workers at most: more cores than this gain little, the main thread's tree rebuild and SQLite reads bound it. */
const MAX_LEAF_WORKERS = 4;
/** Leaf ranges per worker: small enough that no thread is left with a long last one. */
const RANGES_PER_WORKER = 8;

/**
 * Recomputes every leaf from the rows it commits to, rebuilds the tree, and checks it against
 * every signed checkpoint (and the witness file): the verifier is separate from the writer and
 * trusts nothing in the database but what it can recompute. Stops at the first broken leaf.
 */
export async function verifyLog(o: VerifyOptions): Promise<VerifyResult> {
  // The network is asked before the read transaction starts, so a slow witness does not hold it open.
  let remote: string[] | undefined = [];
  if (o.witnessUrl !== undefined) {
    try {
      remote = [await fetchWitnessCheckpoint(o.witnessUrl)];
    } catch (err) {
      if (err instanceof VigilError && err.code === 'ERR_CONFIG') throw err;
      remote = undefined;
    }
  }
  return o.store.snapshot(() => verifySnapshot(o, remote));
}

async function verifySnapshot(o: VerifyOptions, remote: string[] | undefined): Promise<VerifyResult> {
  const started = performance.now();
  const store = o.store;
  const total = await store.countLeaves();
  const checkpoints = await store.listCheckpoints();
  const fromFile = readWitness(o.witnessFile);
  const witnessed = fromFile === undefined ? undefined : [...fromFile, ...(remote ?? [])];
  let leafPhaseMs = 0;
  let index: IndexCheckResult | undefined;
  let workersUsed = 0;
  const result = (firstBroken: Broken | null, leaves: number): VerifyResult => {
    const elapsed = performance.now() - started;
    return {
      ok: firstBroken === null,
      leaves,
      checkpoints: checkpoints.length,
      firstBroken,
      leavesPerSecond: perSecond(leaves, elapsed),
      phases: { leafMs: Math.round(leafPhaseMs), leafLeavesPerSecond: perSecond(leaves, leafPhaseMs), indexMs: Math.round(index?.ms ?? 0), indexInWorker: index?.inWorker ?? false, totalMs: Math.round(elapsed), leafWorkers: workersUsed },
    };
  };
  if (witnessed === undefined) return result({ position: 0, kind: 'witness', detail: 'the witness file is missing or unreadable' }, 0);
  if (remote === undefined) return result({ position: 0, kind: 'witness', detail: 'the remote witness could not be read' }, 0);

  // Without any signed checkpoint nothing proves the leaves were not all recomputed.
  if (total > 0 && checkpoints.length === 0 && witnessed.length === 0) {
    return result({ position: 0, kind: 'checkpoint', detail: 'no signed checkpoint covers the log (deleted checkpoints?)' }, 0);
  }
  // Signed statements first: each must carry the log's own key; the roots are compared as the tree grows.
  const expected = new Map<number, { root: Uint8Array; source: 'checkpoint' | 'witness' }[]>();
  for (const [source, list] of [['checkpoint', checkpoints.map((c) => c.note)], ['witness', witnessed]] as const) {
    for (const note of list) {
      let cp;
      try {
        cp = openCheckpoint(note, { verifier: o.verifier, origin: o.origin });
      } catch {
        return result({ position: 0, kind: source, detail: 'a checkpoint is not signed by this log\'s key' }, 0);
      }
      if (cp.size > total) return result({ position: total, kind: source, detail: `the log has ${total} leaves but a checkpoint signed ${cp.size} (truncated or rolled back)` }, 0);
      const at = expected.get(cp.size) ?? [];
      at.push({ root: cp.rootHash, source });
      expected.set(cp.size, at);
    }
  }

  const leafWorkers = o.leafWorkers ?? (total >= WORKER_THRESHOLD ? Math.min(availableParallelism(), MAX_LEAF_WORKERS) : 0);
  if (leafWorkers > 0 && total > 0) {
    const fast = await verifyInParallel(o, total, expected, leafWorkers, started);
    if (fast !== undefined) {
      leafPhaseMs = fast.leafMs;
      index = fast.index;
      workersUsed = leafWorkers;
      return result(fast.broken, total);
    }
    // Something is wrong somewhere (or a worker failed, or read another state): the walk below says exactly where.
  }

  // The index check (step 5) reads other tables than the walk: on a large log it runs on the other core meanwhile.
  const worker = (o.indexWorker ?? total >= WORKER_THRESHOLD) ? startIndexWorker(store, total) : undefined;
  try {
    const rewraps = await readRewrapChains((from, limit) => store.readRewraps(from, limit));
    const streams: Streams = {
      version: new Stream<VersionRow>((from, limit) => store.readVersionsBySeq(from, limit)),
      audit: new Stream<AuditLeafRow>((from, limit) => store.readAuditLeavesBySeq(from, limit)),
      rewrap: new Stream<RewrapRow>((from, limit) => store.readRewraps(from, limit)),
    };
    /** The newest version of each resource, in log order: what its current pointer must name. */
    const newest = new Map<string, Newest>();
    const check = (leaf: LeafRow): Omit<Broken, 'position'> | undefined | Promise<Omit<Broken, 'position'> | undefined> => {
      const stream = streamOf(streams, leaf.kind) as Stream<{ seq: number }>;
      const run = () => checkLeaf(leaf.kind, leaf.ref, leaf.hash, o.tenant, stream, rewraps, newest);
      return stream.empty ? stream.fill().then(run) : run();
    };
    const walked = await walkTree(store, total, expected, { check, onProgress: o.onProgress });
    // Set now, so a problem found by the walk (or just after) reports how long the walk took, not 0.
    leafPhaseMs = performance.now() - started;
    if (walked !== undefined) return result(walked.broken, walked.leaves);
    let extra: Broken | undefined;
    for (const [kind, stream] of Object.entries(streams) as [string, Stream<{ seq: number }>][]) {
      if (stream.empty) await stream.fill();
      const row = stream.head;
      if (row === undefined) continue;
      extra = { position: total + 1, kind: 'extra-row', detail: `a ${kind} row (sequence ${row.seq}) is in no leaf (inserted row)` };
      break;
    }
    const walkBroken = extra ?? (await checkCurrent(store, newest, total));
    // The walk's phase ends here, whatever it found: leaves, rows, tree, checkpoints and current pointers.
    leafPhaseMs = performance.now() - started;
    if (walkBroken !== undefined) return result(walkBroken, total);

    // The search index of every current version must still be the one its leaf committed to.
    // A worker that read another state (a write landed between the two snapshots) is not trusted: check here.
    const fromWorker = await worker?.result;
    index = fromWorker !== undefined && fromWorker.leaves === total ? fromWorker : await checkIndexHere(store, total);
    return result(indexBroken(index, total), total);
  } finally {
    await worker?.stop();
  }
}

type Expected = ReadonlyMap<number, readonly { root: Uint8Array; source: 'checkpoint' | 'witness' }[]>;

/**
 * The fast path of a large log: worker threads recompute ranges of leaves from their rows, hash
 * their part of the tree and check the search index; this thread then joins the ranges' subtrees
 * into the tree, checks every signed root, checks that the ranges join into one walk, and that the
 * current pointers name the newest versions the ranges saw. Undefined when anything is wrong or
 * uncertain: the caller then runs the sequential walk, which reports the first broken leaf
 * exactly. What it returns is what the sequential walk would have found (a pointer or index
 * problem, or none).
 */
async function verifyInParallel(o: VerifyOptions, total: number, expected: Expected, workers: number, started: number): Promise<{ broken: Broken | null; leafMs: number; index: IndexCheckResult } | undefined> {
  const withIndex = o.indexWorker !== false;
  // The index check first, whole (the longest task: in parts on two threads at once it cost more
  // CPU than whole on one, see docs/audit.md); the ranges go to whichever thread is free.
  // The signed sizes in order: each range answers for those within it, and the join walks them.
  const signed = [...expected.keys()].filter((n) => n >= 1).sort((a, b) => a - b);
  const tasks: PoolTask[] = [...(withIndex ? [{ type: 'index' } as const] : []), ...leafRanges(total, workers, signed)];
  const pool = startVerifyPool(o.store.readerSpec(), o.tenant, workers, tasks, total, (done) => o.onProgress?.(done, total));
  try {
    const ranges = await pool.ranges;
    if (ranges === undefined || !joinTree(ranges, total, expected, signed) || !(await rangesJoin(o.store, ranges, total))) return undefined;
    o.onProgress?.(total, total);
    const newest = new Map<string, Newest>();
    // Later ranges overwrite earlier ones: the newest version in log order, as the sequential walk keeps it.
    for (const r of ranges) for (const [key, n] of r.newest) newest.set(key, n);
    const current = await checkCurrent(o.store, newest, total);
    const leafMs = performance.now() - started;
    if (current !== undefined) return { broken: current, leafMs, index: { leaves: total, brokenRid: null, ms: 0, inWorker: false } };
    const done = withIndex ? await pool.done : undefined;
    const index = done?.index === undefined ? await checkIndexHere(o.store, total) : { leaves: total, ...done.index, inWorker: true };
    return { broken: indexBroken(index, total), leafMs, index };
  } finally {
    await pool.stop();
  }
}

/**
 * Positions 1 to `total` in ranges small enough that the threads finish close together, each of a
 * power of two of leaves (the last may be shorter), so each range's subtrees are subtrees of the
 * whole tree; each carries the signed sizes that fall within it.
 */
function leafRanges(total: number, workers: number, signed: readonly number[]): PoolTask[] {
  const size = largestPowerOfTwoAtMost(Math.max(1, Math.floor(total / (workers * RANGES_PER_WORKER))));
  const ranges: PoolTask[] = [];
  for (let from = 1; from <= total; from += size) {
    const to = Math.min(from + size - 1, total);
    ranges.push({ type: 'leaves', from, to, sizes: signed.filter((n) => n >= from && n <= to) });
  }
  return ranges;
}

/**
 * Joins the ranges' subtrees, in order, into the tree of `total` leaves, comparing the root at
 * every signed size (`signed`: the sizes of `expected`, ascending) with every signed root for it;
 * false when one differs (or a range's report does not fit): the sequential walk then says where.
 */
function joinTree(ranges: readonly Extract<RangeReport, { ok: true }>[], total: number, expected: Expected, signed: readonly number[]): boolean {
  let next = 0;
  const tree = new MerkleFrontier();
  for (const r of ranges) {
    if (r.from !== tree.size + 1) return false;
    // The range answers for exactly the signed sizes within it, in order.
    for (const [size, rangeRoot] of r.roots) {
      if (size !== signed[next]) return false;
      next += 1;
      const root = tree.rootWith(rangeRoot);
      if (!(expected.get(size) ?? NONE).every((e) => sameHash(e.root, root))) return false;
    }
    if ((signed[next] ?? Infinity) <= r.to) return false;
    if (!appendRange(tree, r.to - r.from + 1, r.subtrees)) return false;
  }
  return tree.size === total && next === signed.length;
}

/**
 * True when ranges checked apart join into the sequential walk: they cover positions 1 to `total`
 * in order, and for each kind the rows they name follow one another with no row before the first,
 * between two ranges, or after the last (a skipped, inserted or reordered row breaks the chain).
 */
async function rangesJoin(store: Store, ranges: readonly Extract<RangeReport, { ok: true }>[], total: number): Promise<boolean> {
  let to = 0;
  for (const r of ranges) {
    if (r.from !== to + 1) return false;
    to = r.to;
  }
  if (to !== total) return false;
  const firstRow = { version: store.readVersionsBySeq(1, 1), audit: store.readAuditLeavesBySeq(1, 1), rewrap: store.readRewraps(1, 1) };
  for (const kind of ['version', 'audit', 'rewrap'] as const) {
    let next: number | null = (await firstRow[kind])[0]?.seq ?? null;
    for (const r of ranges) {
      const span = r.spans[kind];
      if (span === undefined) continue;
      if (span.first !== next) return false;
      next = span.next;
    }
    if (next !== null) return false;
  }
  return true;
}

/**
 * Reads the stored leaf hashes in position order, rebuilds the tree and compares it with every
 * signed root as it grows; `check` (the sequential walk) also checks each leaf against its row
 * first. Returns where it first broke and how many leaves held, or undefined.
 */
async function walkTree(
  store: Store,
  total: number,
  expected: Expected,
  opts: {
    readonly check?: (leaf: LeafRow) => Omit<Broken, 'position'> | undefined | Promise<Omit<Broken, 'position'> | undefined>;
    readonly onProgress?: ((done: number, total: number) => void) | undefined;
  },
): Promise<{ broken: Broken; leaves: number } | undefined> {
  const frontier = new MerkleFrontier();
  for (let from = 1; from <= total; from += BATCH) {
    const leaves = await store.readLeaves(from, BATCH);
    for (const leaf of leaves) {
      const position = frontier.size + 1;
      if (leaf.position !== position) return { broken: { position, kind: 'log', detail: 'a leaf is missing from the log' }, leaves: position - 1 };
      if (leaf.kind !== 'version' && leaf.kind !== 'audit' && leaf.kind !== 'rewrap') return { broken: { position, kind: 'log', detail: 'a leaf has an unknown kind' }, leaves: position - 1 };
      let broken = opts.check?.(leaf);
      if (broken instanceof Promise) broken = await broken;
      if (broken !== undefined) return { broken: { position, ...broken }, leaves: position - 1 };
      frontier.append(leaf.hash);
      for (const e of expected.get(frontier.size) ?? NONE) {
        if (!sameHash(e.root, frontier.root())) {
          return { broken: { position, kind: e.source, detail: `the tree of ${frontier.size} leaves does not match its signed root (edited, reordered or forked log)` }, leaves: position };
        }
      }
      if (position % 5000 === 0) opts.onProgress?.(position, total);
    }
    if (leaves.length < Math.min(BATCH, total - from + 1)) return { broken: { position: frontier.size + 1, kind: 'log', detail: 'a leaf is missing from the log' }, leaves: frontier.size };
  }
  opts.onProgress?.(total, total);
  return undefined;
}

/** Every current pointer must name the newest version the log recorded for its resource (`newest` is emptied). */
async function checkCurrent(store: Store, newest: Map<string, Newest>, total: number): Promise<Broken | undefined> {
  for (let from = 1; ; ) {
    const rows = await store.listCurrent(from, BATCH);
    for (const r of rows) {
      const key = `${r.tenant}/${r.type}/${r.id}`;
      const n = newest.get(key);
      // A pointer moved back to an older version (or a deletion undone) names the wrong row.
      if (n === undefined || n.seq !== r.seq || n.deleted !== r.deleted) {
        return { position: total, kind: 'current', detail: "a resource's current version is not its newest one (rolled back or undeleted)" };
      }
      newest.delete(key);
    }
    if (rows.length < BATCH) break;
    from = (rows[rows.length - 1]?.rid ?? from) + 1;
  }
  if (newest.size > 0) return { position: total, kind: 'current', detail: 'a resource has versions but no current pointer (deleted row)' };
  return undefined;
}

function indexBroken(index: IndexCheckResult, total: number): Broken | null {
  return index.brokenRid === null ? null : { position: total, kind: 'index', detail: 'search index rows were changed (of a current resource, a deleted one, or none)' };
}

function perSecond(n: number, ms: number): number {
  return Math.round(n / Math.max(ms / 1000, 1e-6));
}

/** The checkpoint notes of a witness file (one JSON object per line); undefined when it cannot be read. */
function readWitness(path: string | undefined): string[] | undefined {
  if (path === undefined) return [];
  if (!existsSync(path)) return undefined;
  try {
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => (JSON.parse(l) as { note: string }).note);
  } catch {
    return undefined;
  }
}
