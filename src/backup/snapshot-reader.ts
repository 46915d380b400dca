import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Database as Db } from 'better-sqlite3';
import { SQLITE_FILE } from '../store/index.js';
import type { HighWater } from './format.js';
import type { Row, TableSpec } from './tables.js';

/**
 * A consistent, read-only view of a SQLite data directory for the length of one backup: its own
 * connection (the server's reader stays free for requests) holding one read transaction, so
 * every table is read as of the same instant while the server keeps writing through WAL.
 */
export class SnapshotReader {
  readonly #db: Db;

  constructor(dataDir: string) {
    this.#db = new Database(join(dataDir, SQLITE_FILE), { readonly: true, fileMustExist: true });
    this.#db.pragma('busy_timeout = 10000');
    this.#db.exec('BEGIN');
    // A read transaction takes its snapshot at its first read: take it now.
    this.#db.prepare('SELECT COUNT(*) FROM meta').get();
  }

  /** The largest key of every append-only table in this snapshot. */
  highWater(): HighWater {
    const max = (table: string, col: string): number => Number((this.#db.prepare(`SELECT COALESCE(MAX(${col}), 0) AS m FROM ${table}`).get() as { m: number }).m);
    return {
      versionSeq: max('resource_versions', 'seq'),
      auditSeq: max('audit_events', 'seq'),
      leafPosition: max('log_leaves', 'position'),
      rewrapSeq: max('rewraps', 'seq'),
      checkpointSize: max('checkpoints', 'size'),
    };
  }

  /** The newest version or audit time in the snapshot. */
  lastWriteAt(): string | null {
    const r = this.#db.prepare('SELECT MAX(t) AS t FROM (SELECT MAX(last_updated) AS t FROM resource_versions UNION ALL SELECT MAX(recorded) FROM audit_events)').get() as { t: string | null };
    return r.t;
  }

  count(table: string): number {
    return (this.#db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  }

  /** Rows of an append-only table with key in (after, upTo], in key order. */
  rowsAfter(table: TableSpec, after: number, upTo: number): IterableIterator<Row> {
    const sql = `SELECT ${table.columns.join(', ')} FROM ${table.name} WHERE ${table.key ?? ''} > ? AND ${table.key ?? ''} <= ? ORDER BY ${table.order}`;
    return this.#db.prepare(sql).raw(true).iterate(after, upTo) as IterableIterator<Row>;
  }

  /** Every row of a table, in its export order. */
  allRows(table: TableSpec): IterableIterator<Row> {
    return this.#db.prepare(`SELECT ${table.columns.join(', ')} FROM ${table.name} ORDER BY ${table.order}`).raw(true).iterate() as IterableIterator<Row>;
  }

  /**
   * The current ciphertext of versions re-encrypted by rewraps in (afterRewrap, upToRewrap] whose
   * version an earlier backup already holds (seq <= beforeVersion): the `reboxes` rows.
   */
  reboxes(afterRewrap: number, upToRewrap: number, beforeVersion: number): IterableIterator<Row> {
    const sql = `SELECT v.seq, v.key_version, v.box FROM resource_versions v
      WHERE v.seq <= ? AND v.seq IN (SELECT version_seq FROM rewraps WHERE seq > ? AND seq <= ?) ORDER BY v.seq`;
    return this.#db.prepare(sql).raw(true).iterate(beforeVersion, afterRewrap, upToRewrap) as IterableIterator<Row>;
  }

  /** The leaf hashes of positions 1..size, in order (for the tree root). */
  leafHashes(size: number): IterableIterator<Buffer> {
    return this.#db.prepare('SELECT hash FROM log_leaves WHERE position <= ? ORDER BY position').pluck(true).iterate(size) as IterableIterator<Buffer>;
  }

  close(): void {
    try {
      this.#db.exec('COMMIT');
    } finally {
      this.#db.close();
    }
  }
}

