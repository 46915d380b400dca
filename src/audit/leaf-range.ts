import type { AuditRow, LeafRow, RewrapRow, VersionRow } from '../store/index.js';
import type { LeafKind } from './leaf.js';
import { BATCH, checkLeaf, Stream, streamOf, type Newest, type Streams } from './leaf-check.js';

/**
 * One range of leaf positions checked on its own (on a worker thread): every leaf recomputed from
 * its row and compared with the stored hash, and the rows of each kind that the range's leaves
 * name must be consecutive rows of that kind, in order. What joins the ranges into one walk (no
 * row between two ranges, before the first or after the last) is checked by the caller from the
 * `spans` each range reports.
 */

/** Rows of a kind read at first: a range may hold few of them, and reading past its end is waste. */
const FIRST_PAGE = 64;

/** The rows of one kind a range's leaves name: the first and last sequence numbers, and the row after the last (null for none). */
export interface KindSpan {
  readonly first: number;
  readonly last: number;
  readonly next: number | null;
}

export type RangeReport =
  | { readonly ok: true; readonly from: number; readonly to: number; readonly spans: Partial<Record<LeafKind, KindSpan>>; readonly newest: Map<string, Newest> }
  /** Something is wrong at or after `position`: the caller runs the sequential walk to say exactly what. */
  | { readonly ok: false; readonly from: number; readonly to: number; readonly position: number };

/** The synchronous reads of a range (a `StoreReader` in a worker thread). */
export interface RangeSource {
  readLeaves(fromPosition: number, limit: number): LeafRow[];
  readVersionsBySeq(fromSeq: number, limit: number): VersionRow[];
  readAuditBySeq(fromSeq: number, limit: number): AuditRow[];
  readRewraps(fromSeq: number, limit: number): RewrapRow[];
}

/** Checks leaves `from` to `to` (inclusive) against their rows; `rewraps` holds every rewrap of the store by version. */
export async function checkLeafRange(src: RangeSource, from: number, to: number, tenant: string, rewraps: Map<number, RewrapRow[]>): Promise<RangeReport> {
  const streams: Partial<Streams> = {};
  const firsts: Partial<Record<LeafKind, number>> = {};
  const lasts: Partial<Record<LeafKind, number>> = {};
  const newest = new Map<string, Newest>();
  const fail = (position: number): RangeReport => ({ ok: false, from, to, position });
  for (let position = from; position <= to; ) {
    const leaves = src.readLeaves(position, Math.min(BATCH, to - position + 1));
    if (leaves.length === 0) return fail(position);
    for (const leaf of leaves) {
      if (leaf.position !== position) return fail(position);
      let stream = streamOf(streams, leaf.kind);
      if (stream === undefined) {
        // The range's first leaf of a kind: its rows are read from the row it names.
        if (leaf.kind === 'version') stream = streams.version = new Stream((f, n) => src.readVersionsBySeq(f, n), leaf.ref, FIRST_PAGE);
        else if (leaf.kind === 'audit') stream = streams.audit = new Stream((f, n) => src.readAuditBySeq(f, n), leaf.ref, FIRST_PAGE);
        else if (leaf.kind === 'rewrap') stream = streams.rewrap = new Stream((f, n) => src.readRewraps(f, n), leaf.ref, FIRST_PAGE);
        else return fail(position);
        firsts[leaf.kind] = leaf.ref;
      }
      if (stream.empty) await stream.fill();
      if (checkLeaf(leaf.kind, leaf.ref, leaf.hash, tenant, stream, rewraps, newest) !== undefined) return fail(position);
      lasts[leaf.kind as LeafKind] = leaf.ref;
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
  return { ok: true, from, to, spans, newest };
}
