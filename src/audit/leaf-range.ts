import type { AuditLeafRow, LeafRow, RewrapRow, VersionRow } from '../store/index.js';
import { MerkleFrontier } from './frontier.js';
import type { LeafKind } from './leaf.js';
import { isTreeHash } from './tree-hash.js';
import { onesIn } from './tree-math.js';
import { checkLeaf, Stream, streamOf, type Newest, type Streams } from './leaf-check.js';

/**
 * One range of leaf positions checked on its own (on a worker thread): every leaf recomputed from
 * its row and compared with the stored hash, and the rows of each kind that the range's leaves
 * name must be consecutive rows of that kind, in order. What joins the ranges into one walk (no
 * row between two ranges, before the first or after the last) is checked by the caller from the
 * `spans` each range reports.
 *
 * A range also hashes its part of the tree, from the stored leaf hashes it has just checked, so the
 * caller need not read the leaves again: ranges start at a multiple of a power of two at least as
 * large as themselves, which makes their subtrees subtrees of the whole tree. The caller joins
 * them with `appendRange`, and takes the roots at sizes within a range with `MerkleFrontier.rootWith`.
 */

/** Rows of a kind read at first: a range may hold few of them, and reading past its end is waste. */
const FIRST_PAGE = 64;
/**
 * Rows read at once, of leaves and of each kind. Small pages die young: with pages of 10,000 the
 * rows outlived V8's young generation, and the copying took an eighth of a worker's time (on an
 * audit-heavy log, 510,000 leaves: 155,000 leaves/s with pages of 10,000, 169,000 to 187,000 with 500).
 */
const PAGE = 500;

/** The rows of one kind a range's leaves name: the first and last sequence numbers, and the row after the last (null for none). */
export interface KindSpan {
  readonly first: number;
  readonly last: number;
  readonly next: number | null;
}

export type RangeReport =
  | {
      readonly ok: true;
      readonly from: number;
      readonly to: number;
      readonly spans: Partial<Record<LeafKind, KindSpan>>;
      readonly newest: Map<string, Newest>;
      /** For each size asked for (a tree size within the range), the root of the range's leaves up to it (for `MerkleFrontier.rootWith`). */
      readonly roots: readonly (readonly [size: number, root: Uint8Array])[];
      /** The range's perfect subtrees, largest first (the compact range of its leaves), to append to the tree before it. */
      readonly subtrees: readonly Uint8Array[];
    }
  /** Something is wrong at or after `position`: the caller runs the sequential walk to say exactly what. */
  | { readonly ok: false; readonly from: number; readonly to: number; readonly position: number };

/** The synchronous reads of a range (a `StoreReader` in a worker thread). */
export interface RangeSource {
  readLeaves(fromPosition: number, limit: number): LeafRow[];
  readVersionsBySeq(fromSeq: number, limit: number): VersionRow[];
  readAuditLeavesBySeq(fromSeq: number, limit: number): AuditLeafRow[];
  readRewraps(fromSeq: number, limit: number): RewrapRow[];
}

/**
 * Checks leaves `from` to `to` (inclusive) against their rows; `rewraps` holds every rewrap of the
 * store by version. `sizes` (ascending, within the range) are the tree sizes whose roots the caller
 * will compare with signed checkpoints.
 */
export async function checkLeafRange(src: RangeSource, from: number, to: number, tenant: string, rewraps: Map<number, RewrapRow[]>, sizes: readonly number[] = []): Promise<RangeReport> {
  const tree = new MerkleFrontier();
  const roots: [number, Uint8Array][] = [];
  let asked = 0;
  const streams: Partial<Streams> = {};
  const firsts: Partial<Record<LeafKind, number>> = {};
  const lasts: Partial<Record<LeafKind, number>> = {};
  const newest = new Map<string, Newest>();
  const fail = (position: number): RangeReport => ({ ok: false, from, to, position });
  for (let position = from; position <= to; ) {
    const leaves = src.readLeaves(position, Math.min(PAGE, to - position + 1));
    if (leaves.length === 0) return fail(position);
    for (const leaf of leaves) {
      if (leaf.position !== position) return fail(position);
      let stream = streamOf(streams, leaf.kind);
      if (stream === undefined) {
        // The range's first leaf of a kind: its rows are read from the row it names.
        if (leaf.kind === 'version') stream = streams.version = new Stream((f, n) => src.readVersionsBySeq(f, n), leaf.ref, FIRST_PAGE, PAGE);
        else if (leaf.kind === 'audit') stream = streams.audit = new Stream((f, n) => src.readAuditLeavesBySeq(f, n), leaf.ref, FIRST_PAGE, PAGE);
        else if (leaf.kind === 'rewrap') stream = streams.rewrap = new Stream((f, n) => src.readRewraps(f, n), leaf.ref, FIRST_PAGE, PAGE);
        else return fail(position);
        firsts[leaf.kind] = leaf.ref;
      }
      if (stream.empty) await stream.fill();
      if (checkLeaf(leaf.kind, leaf.ref, leaf.hash, tenant, stream, rewraps, newest) !== undefined) return fail(position);
      lasts[leaf.kind as LeafKind] = leaf.ref;
      tree.append(leaf.hash);
      for (; sizes[asked] === position; asked += 1) roots.push([position, tree.root()]);
      position += 1;
    }
  }
  const spans: Partial<Record<LeafKind, KindSpan>> = {};
  for (const kind of ['version', 'audit', 'rewrap'] as const) {
    const stream = streams[kind] as Stream<{ seq: number }> | undefined;
    const first = firsts[kind];
    const last = lasts[kind];
    if (stream === undefined || first === undefined || last === undefined) continue;
    if (stream.empty) await stream.fill();
    spans[kind] = { first, last, next: stream.head?.seq ?? null };
  }
  return { ok: true, from, to, spans, newest, roots, subtrees: tree.hashes() };
}

/**
 * Appends a range's perfect subtrees (its report's `subtrees`, of `leaves` leaves in all) to the
 * tree before it; false when they are not the subtrees of that many leaves.
 */
export function appendRange(tree: MerkleFrontier, leaves: number, subtrees: readonly Uint8Array[]): boolean {
  if (subtrees.length !== onesIn(leaves) || !subtrees.every(isTreeHash)) return false;
  let i = 0;
  for (let height = 52; height >= 0; height -= 1) {
    if (Math.floor(leaves / 2 ** height) % 2 === 1) tree.appendSubtree(height, subtrees[i++] as Uint8Array);
  }
  return true;
}
