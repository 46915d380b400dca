import { VigilError } from '../errors.js';
import type { LoadedManifest } from './chain.js';
import type { ChunkStore } from './chunk-store.js';
import { eachRow } from './replay.js';
import type { Row } from './tables.js';

/**
 * Where a restore cuts the log, found without holding the backup's rows: what it writes is then
 * read again from the chunks, one chunk at a time (see restore.ts), so memory does not grow with
 * the size of the store.
 */
export interface RestorePlan {
  /** The backup whose snapshot gives the mutable tables (the last one applied). */
  readonly head: LoadedManifest;
  readonly applied: readonly LoadedManifest[];
  /** Leaves kept: the longest prefix of the log (positions 1 to `leaves`) whose every entry was recorded at or before `at`. */
  readonly leaves: number;
  /** The highest sequence number kept of each kind of row the leaves commit to. */
  readonly keep: { readonly version: number; readonly audit: number; readonly rewrap: number };
  /** Rows kept of each kind. */
  readonly counts: { readonly versions: number; readonly audit: number };
  /** Signed checkpoints of sizes within the prefix (rows and manifests), by size. */
  readonly checkpoints: Map<number, Row>;
  /** Replacement ciphertexts of versions (rewraps inside the prefix), by version seq. */
  readonly boxes: Map<number, Row>;
  /** Time of the newest entry kept, or null. */
  readonly lastWriteAt: string | null;
}

/**
 * Which backups a point-in-time restore needs: the chain up to the first backup taken at or after
 * `at` (every row it could need was in the snapshot by then); all of it when `at` is absent.
 */
export function backupsFor(chain: readonly LoadedManifest[], at: Date | undefined): LoadedManifest[] {
  if (at === undefined) return [...chain];
  const out: LoadedManifest[] = [];
  for (const m of chain) {
    out.push(m);
    if (Date.parse(m.manifest.createdAt) >= at.getTime()) break;
  }
  return out;
}

/** Times of rows by sequence number, 8 bytes each (sequence numbers are dense: AUTOINCREMENT). */
class TimesBySeq {
  #times: Float64Array;

  constructor(size: number) {
    this.#times = new Float64Array(size + 1).fill(NaN);
  }

  set(seq: number, iso: string): void {
    if (seq >= this.#times.length) {
      const grown = new Float64Array(Math.max(seq + 1, this.#times.length * 2)).fill(NaN);
      grown.set(this.#times);
      this.#times = grown;
    }
    this.#times[seq] = Date.parse(iso);
  }

  get(seq: number): number {
    return this.#times[seq] ?? NaN;
  }
}

/** Reads the backups' leaves and row times (not their contents) and cuts the log at `at`. */
export function planRestore(chunks: ChunkStore, applied: readonly LoadedManifest[], at: Date | undefined): RestorePlan {
  const head = applied[applied.length - 1];
  if (head === undefined) throw new VigilError('ERR_BACKUP', 'No backup to restore');
  const limit = at?.getTime();
  const versionTimes = new TimesBySeq(head.manifest.highWater.versionSeq);
  const auditTimes = new TimesBySeq(head.manifest.highWater.auditSeq);
  const checkpoints = new Map<number, Row>();
  for (const m of applied) {
    for (const r of eachRow(chunks, m.manifest, 'resource_versions')) versionTimes.set(Number(r[0]), String(r[5]));
    for (const r of eachRow(chunks, m.manifest, 'audit_events')) auditTimes.set(Number(r[0]), String(r[2]));
    for (const r of eachRow(chunks, m.manifest, 'checkpoints')) checkpoints.set(Number(r[0]), r);
    checkpoints.set(m.manifest.tree.size, [m.manifest.tree.size, Buffer.from(m.manifest.tree.root, 'base64'), m.manifest.checkpoint, m.manifest.createdAt]);
  }
  // The cut: the first version or audit entry recorded after `at` ends the prefix (rewraps carry no time).
  let leaves = 0;
  let newest = NaN;
  const keep = { version: 0, audit: 0, rewrap: 0 };
  const counts = { versions: 0, audit: 0 };
  let cut = false;
  for (const m of applied) {
    for (const leaf of eachRow(chunks, m.manifest, 'log_leaves')) {
      const kind = String(leaf[1]) as keyof typeof keep;
      const ref = Number(leaf[2]);
      const time = kind === 'version' ? versionTimes.get(ref) : kind === 'audit' ? auditTimes.get(ref) : NaN;
      if (limit !== undefined && time > limit) {
        cut = true;
        break;
      }
      if (!(time <= newest)) newest = Number.isNaN(time) ? newest : time;
      keep[kind] = Math.max(keep[kind] ?? 0, ref);
      if (kind === 'version') counts.versions += 1;
      else if (kind === 'audit') counts.audit += 1;
      leaves += 1;
    }
    if (cut) break;
  }
  if (leaves === 0 && cut) throw new VigilError('ERR_BACKUP', 'The restore time is before the first entry of the backup');
  // A rewrap's new ciphertext applies when every rewrap of its backup is inside the prefix.
  const boxes = new Map<number, Row>();
  for (const m of applied) {
    if (m.manifest.highWater.rewrapSeq > keep.rewrap) continue;
    for (const row of eachRow(chunks, m.manifest, 'reboxes')) boxes.set(Number(row[0]), row);
  }
  for (const size of [...checkpoints.keys()]) if (size > leaves) checkpoints.delete(size);
  return { head, applied, leaves, keep, counts, checkpoints, boxes, lastWriteAt: Number.isNaN(newest) ? null : new Date(newest).toISOString() };
}
