import Database from 'better-sqlite3';
import type { AuditRow, LeafRow, RewrapRow, StoreReader, VersionRow } from '../types.js';
import { scanCurrentIndex } from './index-scan.js';

type VersionRaw = [seq: number, tenant: string, type: string, id: string, versionId: number, lastUpdated: string, deleted: number, keyVersion: number | null, box: Buffer | null, indexDigest: Buffer];

/**
 * A read-only connection in a read transaction of its own, for a worker thread. Its snapshot is
 * taken when it opens; the caller compares `countLeaves()` with its own to know whether both saw
 * the same state (every write that touches the index or the log appends leaves).
 */
export function openSqliteReader(path: string): StoreReader {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 10000');
  db.exec('BEGIN');
  const count = db.prepare('SELECT COUNT(*) FROM log_leaves').pluck();
  count.get(); // the snapshot starts at the first read
  // The same reads as the store's, in this connection's snapshot (the verifier's leaf ranges).
  const leaves = db.prepare('SELECT position, kind, ref, hash FROM log_leaves WHERE position >= ? ORDER BY position LIMIT ?');
  const versions = db.prepare('SELECT seq, tenant, type, id, version_id, last_updated, deleted, key_version, box, index_digest FROM resource_versions WHERE seq >= ? ORDER BY seq LIMIT ?').raw();
  const audit = db.prepare('SELECT * FROM audit_events WHERE seq >= ? ORDER BY seq LIMIT ?');
  const rewraps = db.prepare('SELECT seq, version_seq AS versionSeq, before, after FROM rewraps WHERE seq >= ? ORDER BY seq LIMIT ?');
  return {
    countLeaves: () => count.get() as number,
    scanCurrentIndex: () => scanCurrentIndex(db),
    readLeaves: (from, limit) => leaves.all(from, limit) as LeafRow[],
    readVersionsBySeq: (from, limit) =>
      (versions.all(from, limit) as VersionRaw[]).map(([seq, tenant, type, id, versionId, lastUpdated, deleted, keyVersion, box, indexDigest]) => ({ seq, tenant, type, id, versionId, lastUpdated, deleted: deleted === 1, keyVersion, box, indexDigest }) satisfies VersionRow),
    readAuditBySeq: (from, limit) => audit.all(from, limit) as AuditRow[],
    readRewraps: (from, limit) => rewraps.all(from, limit) as RewrapRow[],
    close: () => {
      db.exec('COMMIT');
      db.close();
    },
  };
}
