import { VigilError } from '../errors.js';
import type { LoadedManifest } from './chain.js';
import type { ChunkStore } from './chunk-store.js';
import { rowsOf } from './replay.js';
import type { Row } from './tables.js';

/** The rows a restore writes: the log prefix up to the restore point and what it commits to. */
export interface RestorePlan {
  /** The backup whose snapshot gives the mutable tables (the last one applied). */
  readonly head: LoadedManifest;
  readonly applied: readonly LoadedManifest[];
  /** Leaves kept: the longest prefix of the log whose every entry was recorded at or before `at`. */
  readonly leaves: Row[];
  readonly versions: Row[];
  readonly audit: Row[];
  readonly rewraps: Row[];
  /** Signed checkpoints of sizes within the prefix (rows and manifests), by size. */
  readonly checkpoints: Map<number, Row>;
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

/** Reads the backups' rows and cuts the log at `at`. */
export function planRestore(chunks: ChunkStore, applied: readonly LoadedManifest[], at: Date | undefined): RestorePlan {
  const head = applied[applied.length - 1];
  if (head === undefined) throw new VigilError('ERR_BACKUP', 'No backup to restore');
  const limit = at?.toISOString();
  const all = { leaves: [] as Row[], versions: new Map<number, Row>(), audit: new Map<number, Row>(), rewraps: [] as Row[] };
  const reboxes: { until: number; rows: Row[] }[] = [];
  const checkpoints = new Map<number, Row>();
  for (const m of applied) {
    all.leaves.push(...rowsOf(chunks, m.manifest, 'log_leaves'));
    for (const r of rowsOf(chunks, m.manifest, 'resource_versions')) all.versions.set(Number(r[0]), r);
    for (const r of rowsOf(chunks, m.manifest, 'audit_events')) all.audit.set(Number(r[0]), r);
    all.rewraps.push(...rowsOf(chunks, m.manifest, 'rewraps'));
    reboxes.push({ until: m.manifest.highWater.rewrapSeq, rows: rowsOf(chunks, m.manifest, 'reboxes') });
    for (const r of rowsOf(chunks, m.manifest, 'checkpoints')) checkpoints.set(Number(r[0]), r);
    checkpoints.set(m.manifest.tree.size, [m.manifest.tree.size, Buffer.from(m.manifest.tree.root, 'base64'), m.manifest.checkpoint, m.manifest.createdAt]);
  }
  // The cut: the first version or audit entry recorded after `at` ends the prefix (rewraps carry no time).
  let cut = all.leaves.length;
  let lastWriteAt: string | null = null;
  const keep = { version: 0, audit: 0, rewrap: 0 };
  for (let i = 0; i < all.leaves.length; i++) {
    const leaf = all.leaves[i] as Row;
    const kind = String(leaf[1]) as keyof typeof keep;
    const ref = Number(leaf[2]);
    const time = kind === 'version' ? String(all.versions.get(ref)?.[5]) : kind === 'audit' ? String(all.audit.get(ref)?.[2]) : null;
    if (limit !== undefined && time !== null && time > limit) {
      cut = i;
      break;
    }
    if (time !== null && (lastWriteAt === null || time > lastWriteAt)) lastWriteAt = time;
    keep[kind] = Math.max(keep[kind] ?? 0, ref);
  }
  if (cut === 0 && all.leaves.length > 0) throw new VigilError('ERR_BACKUP', 'The restore time is before the first entry of the backup');
  // A rewrap's new ciphertext applies when every rewrap of its backup is inside the prefix.
  const boxes = new Map<number, Row>();
  for (const r of reboxes) if (r.until <= keep.rewrap) for (const row of r.rows) boxes.set(Number(row[0]), row);
  const versions: Row[] = [];
  for (const [seq, v] of all.versions) {
    if (seq > keep.version) continue;
    const rebox = boxes.get(seq);
    versions.push(rebox === undefined ? v : [...v.slice(0, 7), rebox[1], rebox[2], v[9]]);
  }
  versions.sort((a, b) => Number(a[0]) - Number(b[0]));
  for (const size of [...checkpoints.keys()]) if (size > cut) checkpoints.delete(size);
  return {
    head,
    applied,
    leaves: all.leaves.slice(0, cut),
    versions,
    audit: [...all.audit.values()].filter((a) => Number(a[0]) <= keep.audit).sort((a, b) => Number(a[0]) - Number(b[0])),
    rewraps: all.rewraps.filter((w) => Number(w[0]) <= keep.rewrap),
    checkpoints,
    lastWriteAt,
  };
}
