import Database from 'better-sqlite3';
import type { RewrapRow, StoreReader } from '../types.js';
import { scanCurrentIndex } from './index-scan.js';
import { AUDIT_LEAVES_FROM, auditLeafRows, LEAVES_FROM, leafRows, VERSIONS_FROM, versionRows } from './log-reads.js';

/**
 * A read-only connection in a read transaction of its own, for a worker thread. Its snapshot is
 * taken when it opens; the caller compares `lastLeaf()` with its own leaf count to know whether
 * both saw the same state (every write that touches the index or the log appends leaves). A log
 * with a gap in its positions fails the comparison too, and the caller's sequential walk names it.
 */
export function openSqliteReader(path: string): StoreReader {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 10000');
  db.exec('BEGIN');
  // The snapshot starts at this first read.
  const lastLeaf = db.prepare('SELECT COALESCE(MAX(position), 0) FROM log_leaves').pluck().get() as number;
  // The same reads as the store's, in this connection's snapshot (the verifier's leaf ranges).
  const leaves = db.prepare(LEAVES_FROM).raw();
  const versions = db.prepare(VERSIONS_FROM).raw();
  const audit = db.prepare(AUDIT_LEAVES_FROM).raw();
  const rewraps = db.prepare('SELECT seq, version_seq AS versionSeq, before, after FROM rewraps WHERE seq >= ? ORDER BY seq LIMIT ?');
  return {
    lastLeaf: () => lastLeaf,
    scanCurrentIndex: () => scanCurrentIndex(db),
    readLeaves: (from, limit) => leafRows(leaves.all(from, limit)),
    readVersionsBySeq: (from, limit) => versionRows(versions.all(from, limit)),
    readAuditLeavesBySeq: (from, limit) => auditLeafRows(audit.all(from, limit)),
    readRewraps: (from, limit) => rewraps.all(from, limit) as RewrapRow[],
    close: () => {
      db.exec('COMMIT');
      db.close();
    },
  };
}
