import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';
import { VigilError } from '../../errors.js';
import type { WrappedDataKey } from '../../crypto/index.js';
import type {
  AuditQuery,
  AuditLeafRow,
  AuditRow,
  CandidateCount,
  CandidateQuery,
  CheckpointRow,
  LeafRow,
  NewAuditRow,
  RewrapRow,
  StoreOptions,
  StoreReaderSpec,
  WriteGate,
  CurrentRow,
  CurrentIndexRow,
  IndexRows,
  HistoryPage,
  HistoryQuery,
  NewVersionRow,
  OAuthClientRow,
  SearchClause,
  AuthRecordRow,
  RewrapCandidate,
  SigningKeyRow,
  Store,
  StoreTx,
  VersionRow,
} from '../types.js';
import { SCHEMA, SCHEMA_VERSION } from './schema.js';
import { DRIVE_HASHES, candidateCountSql, candidateRowsSql, flatClauses, hashRowsSql } from './search-sql.js';
import { scanCurrentIndex } from './index-scan.js';
import { refreshStatistics, type StatisticsReport } from './statistics.js';
import { AUDIT_FROM, AUDIT_LEAVES_FROM, auditLeafRows, auditRows, LEAVES_FROM, leafRows, VERSION_COLUMNS, VERSIONS_FROM, versionRows } from './log-reads.js';

/** A hash clause matching this many resources or fewer never makes an id-ordered page walk by id (see #walkPlan). */
const SCAN_BY_ID_MIN = 200;
/** Clauses that could drive a creation-order page are counted up to this many rows to pick the smallest. */
const DRIVE_COUNT_CAP = 10_000;
/** The plan that does not walk: the matches listed from the hash rows, then sorted (see #walkPlan). */
const LISTED: { readonly walk: boolean; readonly listed: ReadonlySet<SearchClause> } = { walk: false, listed: new Set() };
/** How long a hash clause's counted rows choose plans before they are counted again (see #hashRows). */
const PLAN_COUNT_MS = 30_000;
/** Hash clauses whose counts are remembered at once; the memory starts over past this. */
const PLAN_COUNT_MAX = 5_000;
/** Runs of rids read, evenly spaced over the store, to estimate how many current resources each type has (see #typeResources). */
const TYPE_SAMPLE_RUNS = 32;
/** Rids in one run: consecutive, so a run reads a page or two. */
const TYPE_SAMPLE_RUN = 32;
/** How long that estimate serves before it is sampled again (also when the store grows by a tenth). */
const TYPE_SAMPLE_MS = 60_000;

/** Whether an estimate taken at `at` on a store of `resources` must be taken again: older than `ms`, or the store grew by a tenth or shrank (a restore). */
function outdated(e: { readonly at: number; readonly resources: number }, now: number, ms: number, resources: number): boolean {
  return now - e.at >= ms || resources > e.resources * 1.1 || resources < e.resources;
}

interface RawVersion {
  seq: number;
  tenant: string;
  type: string;
  id: string;
  version_id: number;
  last_updated: string;
  deleted: number;
  key_version: number | null;
  box: Buffer | null;
  index_digest: Buffer;
  /** Present in search results only. */
  rid?: number;
}


function toVersion(r: RawVersion): VersionRow {
  return {
    seq: r.seq,
    tenant: r.tenant,
    type: r.type,
    id: r.id,
    versionId: r.version_id,
    lastUpdated: r.last_updated,
    deleted: r.deleted === 1,
    keyVersion: r.key_version,
    box: r.box,
    indexDigest: r.index_digest,
    ...(typeof r.rid === 'number' ? { rid: r.rid } : {}),
  };
}

interface RawAudit {
  seq: number;
  tenant: string;
  recorded: string;
  action: string;
  subtype: string;
  outcome: string;
  agent: string | null;
  patients: string;
  body: string;
}

/** At most this many transactions are committed together. */
const MAX_GROUP = 128;
/** Hash rows inserted per statement: one multi-row INSERT instead of a call per row. */
const HASH_ROWS_PER_INSERT = 32;

const READ_CURRENT = `SELECT ${VERSION_COLUMNS} FROM resource_versions WHERE seq = (SELECT seq FROM resource_current WHERE tenant = ? AND type = ? AND id = ?)`;
const GET_AUTH = 'SELECT key, box, expires_at FROM auth_records WHERE kind = ? AND key = ?';
const READ_VERSION = `SELECT ${VERSION_COLUMNS} FROM resource_versions WHERE tenant = ? AND type = ? AND id = ? AND version_id = ?`;

/** How long a connection waits for another's write lock. */
const BUSY_TIMEOUT_MS = 10_000;

/**
 * Pages of write-ahead log after which a commit copies it into the database: 10,000 (40 MB), and
 * for a bulk loader 200,000 (800 MB). The copy writes each page once however many commits wrote
 * it (B-tree inner pages, the growing ends of the version table and the log): 150 patients went
 * into a 30,000-patient store at 968 to 1,105 resources/s against 905 to 1,014 (five imports each,
 * alternated, with the final copy counted); into a small store it made no difference.
 */
const CHECKPOINT_PAGES = 10_000;
const BULK_CHECKPOINT_PAGES = 200_000;

/**
 * Bytes a connection leaves of the write-ahead log file when it starts it over after a checkpoint
 * (a bulk loader: no limit). An import beside a busy server may leave an 800 MB log its final
 * checkpoint could not empty; the server's next checkpoint copies it in, and this cuts the file back.
 */
const WAL_KEEP_BYTES = 64 * 2 ** 20;

/** The page cache of a connection unless told otherwise, and always a bulk loader's (a larger one did not help it). */
const CACHE_MB = 64;

/** A connection with Vigil's settings; a bulk loader's (`bulk`) lets the log grow long and keeps all of its file. */
function connect(path: string, cacheMb: number, bulk = false): Db {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode survives a process crash; a power cut may lose the last commits (docs/operations.md).
  db.pragma('synchronous = NORMAL');
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  db.pragma(`wal_autocheckpoint = ${bulk ? BULK_CHECKPOINT_PAGES : CHECKPOINT_PAGES}`);
  if (!bulk) db.pragma(`journal_size_limit = ${WAL_KEEP_BYTES}`);
  // The default is 2 MB: with more, the search index's hot pages stay in memory and a search at
  // millions of index rows no longer reads them back from the OS (the server: VIGIL_SQLITE_CACHE_MB).
  db.pragma(`cache_size = ${-Math.round(cacheMb * 1024)}`);
  db.pragma('foreign_keys = ON');
  // Freed pages (e.g. ciphertext replaced by `keys rewrap`) are zeroed, not left for a thief to read.
  db.pragma('secure_delete = ON');
  return db;
}

/**
 * The embedded SQLite backend (better-sqlite3). One writer connection, serialised by a queue so
 * transactions never interleave, and one reader connection that only ever sees committed data.
 * Other processes (the CLI while the server runs) share the file through WAL and busy_timeout.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly #writer: Db;
  readonly #reader: Db;
  #queue: Promise<unknown> = Promise.resolve();
  /** Transactions waiting for the next group commit. */
  readonly #pending: { fn: (tx: StoreTx) => Promise<unknown>; resolve: (v: unknown) => void; reject: (e: unknown) => void }[] = [];
  #batchScheduled = false;
  /** The next log position while a write transaction is open (undefined: read it from the table). */
  #nextPosition: number | undefined;
  readonly #s: Record<string, Statement>;
  /** Multi-row hash inserts on the writer, by row count (1 to HASH_ROWS_PER_INSERT). */
  readonly #insertHashes = new Map<number, Statement>();
  /** Prepared search statements by SQL text, per connection (searches repeat their shapes). */
  readonly #prepared = new Map<Db, Map<string, Statement>>();
  /** Capped row counts of hash clauses, by their hashes, as of `at` (performance.now()) and a store of `resources`. */
  readonly #planCounts = new Map<string, { readonly n: number; readonly cap: number; readonly at: number; readonly resources: number }>();
  /** Sampled rids by tenant and type, as of `at` and a store of `resources` (see #typeResources). */
  #typeSample: { readonly hits: ReadonlyMap<string, number>; readonly taken: number; readonly at: number; readonly resources: number } | undefined;

  readonly #gate: WriteGate | undefined;

  readonly #path: string;

  constructor(path: string, options: StoreOptions = {}) {
    this.#path = path;
    this.#gate = options.writeGate;
    const bulk = options.bulk === true;
    const cacheMb = bulk ? CACHE_MB : (options.cacheMb ?? CACHE_MB);
    this.#writer = connect(path, cacheMb, bulk);
    this.#writer.exec(SCHEMA);
    // Stores made before the covering index of ranges: it was built by SCHEMA just now; the old one goes.
    this.#writer.exec('DROP INDEX IF EXISTS search_range_rid');
    // Stores made before clients had settings gain the column (every client then has none).
    const clientColumns = this.#writer.prepare('SELECT name FROM pragma_table_info(?)').all('oauth_clients') as { name: string }[];
    if (!clientColumns.some((c) => c.name === 'settings')) this.#writer.exec("ALTER TABLE oauth_clients ADD COLUMN settings TEXT NOT NULL DEFAULT '{}'");
    // Stores made before checkpoints kept their frontier gain the column (their checkpoints have none).
    const checkpointColumns = this.#writer.prepare('SELECT name FROM pragma_table_info(?)').all('checkpoints') as { name: string }[];
    if (!checkpointColumns.some((c) => c.name === 'frontier')) this.#writer.exec('ALTER TABLE checkpoints ADD COLUMN frontier BLOB');
    const found = this.#writer.prepare('SELECT value FROM meta WHERE key = ?').get('schema_version') as { value: string } | undefined;
    if (found === undefined) this.#writer.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('schema_version', String(SCHEMA_VERSION));
    else if (Number(found.value) > SCHEMA_VERSION) throw new VigilError('ERR_CONFIG', 'The data directory was written by a newer Vigil');
    // Statistics first: the reader plans with those it finds when it opens (see #reloadReaderStats).
    this.optimizeSync();
    this.#reader = connect(path, cacheMb);
    const w = this.#writer;
    const r = this.#reader;
    this.#s = {
      current: w.prepare('SELECT version_id, deleted, last_updated FROM resource_current WHERE tenant = ? AND type = ? AND id = ?'),
      insertVersion: w.prepare(
        'INSERT INTO resource_versions (tenant, type, id, version_id, last_updated, deleted, key_version, box, index_digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      upsertCurrent: w.prepare(
        `INSERT INTO resource_current (tenant, type, id, version_id, seq, deleted, last_updated) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (tenant, type, id) DO UPDATE SET version_id = excluded.version_id, seq = excluded.seq,
           deleted = excluded.deleted, last_updated = excluded.last_updated`,
      ),
      listDataKeys: r.prepare('SELECT version, wrapped, created_at FROM data_keys ORDER BY version'),
      maxDataKey: w.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM data_keys'),
      insertDataKey: w.prepare('INSERT INTO data_keys (version, wrapped, created_at) VALUES (?, ?, ?)'),
      countBelowKey: r.prepare('SELECT COUNT(*) AS n FROM resource_versions WHERE key_version < ?'),
      listBelowKey: r.prepare(
        'SELECT seq, tenant, type, id, version_id, box FROM resource_versions WHERE key_version < ? AND seq > ? ORDER BY seq LIMIT ?',
      ),
      nextPosition: w.prepare('SELECT COALESCE(MAX(position), 0) + 1 AS p FROM log_leaves'),
      insertLeaf: w.prepare('INSERT INTO log_leaves (position, kind, ref, hash) VALUES (?, ?, ?, ?)'),
      insertAudit: w.prepare('INSERT INTO audit_events (tenant, recorded, action, subtype, outcome, agent, patients, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      readAudit: r.prepare('SELECT * FROM audit_events WHERE tenant = ? AND seq = ?'),
      readLeaves: r.prepare(LEAVES_FROM).raw(),
      countLeaves: r.prepare('SELECT COUNT(*) AS n FROM log_leaves'),
      // Raw rows (arrays) for the verifier's bulk reads (log-reads.ts).
      versionsBySeq: r.prepare(VERSIONS_FROM).raw(),
      listCurrent: r.prepare('SELECT rid, tenant, type, id, seq, deleted FROM resource_current WHERE rid >= ? ORDER BY rid LIMIT ?').raw(),
      insertRewrap: w.prepare('INSERT INTO rewraps (version_seq, before, after) VALUES (?, ?, ?)'),
      readRewraps: r.prepare('SELECT seq, version_seq, before, after FROM rewraps WHERE seq >= ? ORDER BY seq LIMIT ?'),
      insertCheckpoint: w.prepare('INSERT INTO checkpoints (size, root, note, created_at, frontier) VALUES (?, ?, ?, ?, ?)'),
      listCheckpoints: r.prepare('SELECT size, root, note, created_at FROM checkpoints ORDER BY size'),
      latestCheckpoint: r.prepare('SELECT size, root, note, created_at, frontier FROM checkpoints ORDER BY size DESC LIMIT 1'),
      latestFrontier: r.prepare('SELECT size, root, note, created_at, frontier FROM checkpoints WHERE frontier IS NOT NULL ORDER BY size DESC LIMIT 1'),
      checkpointAt: r.prepare('SELECT size, root, note, created_at, frontier FROM checkpoints WHERE size = ?'),
      ridOf: w.prepare('SELECT rid FROM resource_current WHERE tenant = ? AND type = ? AND id = ?'),
      deleteHash: w.prepare('DELETE FROM search_hash WHERE rid = ?'),
      deleteRange: w.prepare('DELETE FROM search_range WHERE rid = ?'),
      insertRange: w.prepare('INSERT INTO search_range (rid, param, lo, hi, unit, unit2) VALUES (?, ?, ?, ?, ?, ?)'),
      replaceBox: w.prepare('UPDATE resource_versions SET box = ?, key_version = ? WHERE seq = ? AND box = ?'),
      allDataKeyVersions: r.prepare('SELECT version FROM data_keys'),
      getClient: r.prepare('SELECT * FROM oauth_clients WHERE client_id = ?'),
      insertClient: w.prepare(
        'INSERT INTO oauth_clients (client_id, secret_hash, name, scopes, roles, disabled, created_at, row_mac, settings) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      updateClient: w.prepare(
        'UPDATE oauth_clients SET secret_hash = ?, name = ?, scopes = ?, roles = ?, disabled = ?, created_at = ?, row_mac = ?, settings = ? WHERE client_id = ?',
      ),
      countClients: r.prepare('SELECT COUNT(*) AS n FROM oauth_clients'),
      listClients: r.prepare('SELECT * FROM oauth_clients ORDER BY created_at, client_id'),
      getAuthW: w.prepare(GET_AUTH),
      putAuth: w.prepare('INSERT OR REPLACE INTO auth_records (kind, key, box, expires_at) VALUES (?, ?, ?, ?)'),
      insertAuth: w.prepare('INSERT OR IGNORE INTO auth_records (kind, key, box, expires_at) VALUES (?, ?, ?, ?)'),
      deleteAuth: w.prepare('DELETE FROM auth_records WHERE kind = ? AND key = ?'),
      listAuth: r.prepare('SELECT key, box, expires_at FROM auth_records WHERE kind = ? ORDER BY key'),
      purgeAuth: w.prepare('DELETE FROM auth_records WHERE expires_at IS NOT NULL AND expires_at <= ?'),
      listSigningKeys: r.prepare('SELECT kid, alg, public_jwk, private_box, created_at FROM signing_keys ORDER BY created_at, kid'),
      insertSigningKey: w.prepare('INSERT INTO signing_keys (kid, alg, public_jwk, private_box, created_at) VALUES (?, ?, ?, ?, ?)'),
    };
  }

  /**
   * Refreshes the query planner's statistics where they are stale, reading a bounded amount
   * (see refreshStatistics). Without them SQLite scans a type's resources in id order instead of
   * starting from the matching index rows.
   */
  optimizeSync(): StatisticsReport {
    return refreshStatistics(this.#writer);
  }

  /**
   * The reader connection plans with the statistics it loaded when it opened: an ANALYZE on the
   * writer does not reach it. With statistics from a nearly empty store (as a bulk import leaves
   * them), the reader read the tail of the audit trail by scanning and sorting the whole table:
   * the detection engine's poll, every 25 ms, took 15 ms at 10,000 patients. Reloading takes the
   * write lock for a moment; when another connection holds it, the next optimize tries again.
   */
  #reloadReaderStats(): void {
    const reader = this.#reader;
    if (reader.inTransaction) return;
    reader.pragma('busy_timeout = 0');
    try {
      reader.exec('ANALYZE sqlite_schema');
    } catch {
      // Busy: the statistics stay as they were until the next optimize.
    } finally {
      reader.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    }
  }

  #connection(name: 'reader' | 'writer'): Db {
    return name === 'reader' ? this.#reader : this.#writer;
  }

  /** A connection's page cache (KiB) and how many pages of write-ahead log it lets grow (diagnostics and tests). */
  connectionSettings(connection: 'reader' | 'writer'): { readonly cacheKib: number; readonly checkpointPages: number } {
    const db = this.#connection(connection);
    return { cacheKib: -(db.pragma('cache_size', { simple: true }) as number), checkpointPages: db.pragma('wal_autocheckpoint', { simple: true }) as number };
  }

  /** The query plan the reader or the writer connection would use for `sql` (diagnostics and tests). */
  queryPlan(connection: 'reader' | 'writer', sql: string, ...args: unknown[]): string {
    const db = this.#connection(connection);
    return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((r) => r.detail).join('; ');
  }

  /** How #walkPlan would find an id-ordered page of `query` now: walked or listed, and how many clauses walked against their list (for tests and diagnostics). */
  pagePlan(query: CandidateQuery): { readonly walk: boolean; readonly listed: number } {
    const plan = this.#walkPlan(this.#readDb(), query);
    return { walk: plan.walk, listed: plan.listed.size };
  }

  async snapshot<T>(fn: () => Promise<T>): Promise<T> {
    this.#reader.exec('BEGIN');
    try {
      // The snapshot starts at the first read of the transaction: take it now.
      this.#reader.prepare('SELECT COUNT(*) FROM meta').get();
      return await fn();
    } finally {
      this.#reader.exec('COMMIT');
    }
  }

  async optimize(): Promise<void> {
    await this.#exclusive(async () => {
      this.optimizeSync();
      this.#reloadReaderStats();
    });
  }

  #stmt(name: string): Statement {
    const s = this.#s[name];
    if (s === undefined) throw new VigilError('ERR_INTERNAL', `unknown statement ${name}`);
    return s;
  }

  /** Serialises work on the writer connection. */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Runs `fn` in a transaction of its own. Transactions that arrive while another is being
   * written are committed together (group commit): each runs inside its own SAVEPOINT, so one
   * that fails is rolled back alone, and every caller hears of success only after the COMMIT.
   */
  tx<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ fn: fn as (tx: StoreTx) => Promise<unknown>, resolve: resolve as (v: unknown) => void, reject });
      this.#scheduleBatch();
    });
  }

  #scheduleBatch(): void {
    if (this.#batchScheduled || this.#pending.length === 0) return;
    this.#batchScheduled = true;
    void this.#exclusive(() => this.#runBatch());
  }

  async #runBatch(): Promise<void> {
    this.#batchScheduled = false;
    const jobs = this.#pending.splice(0, MAX_GROUP);
    this.#scheduleBatch();
    const tx = this.#txApi();
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    this.#gate?.acquire();
    try {
      await this.#batchIn(jobs, tx, outcomes);
    } finally {
      this.#gate?.release();
    }
  }

  async #batchIn(jobs: { fn: (tx: StoreTx) => Promise<unknown>; resolve: (v: unknown) => void; reject: (e: unknown) => void }[], tx: StoreTx, outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[]): Promise<void> {
    const w = this.#writer;
    w.exec('BEGIN IMMEDIATE');
    this.#nextPosition = undefined;
    try {
      for (const job of jobs) {
        if (jobs.length > 1) w.exec('SAVEPOINT job');
        try {
          const value = await job.fn(tx);
          if (jobs.length > 1) w.exec('RELEASE job');
          outcomes.push({ ok: true, value });
        } catch (error) {
          if (jobs.length > 1) {
            w.exec('ROLLBACK TO job');
            w.exec('RELEASE job');
          }
          // Leaves the failed job appended are gone: count from the table again.
          this.#nextPosition = undefined;
          outcomes.push({ ok: false, error });
        }
      }
      if (jobs.length === 1 && outcomes[0]?.ok === false) w.exec('ROLLBACK');
      else w.exec('COMMIT');
      this.#nextPosition = undefined;
    } catch (error) {
      this.#nextPosition = undefined;
      if (w.inTransaction) w.exec('ROLLBACK');
      for (const job of jobs) job.reject(error);
      return;
    }
    jobs.forEach((job, i) => {
      const o = outcomes[i];
      if (o?.ok === true) job.resolve(o.value);
      else job.reject(o?.error);
    });
  }

  /** The operations a transaction function may use, all on the writer connection. */
  #txApi(): StoreTx {
    return {
      current: async (tenant, type, id) => {
        const r = this.#stmt('current').get(tenant, type, id) as { version_id: number; deleted: number; last_updated: string } | undefined;
        return r === undefined ? undefined : ({ versionId: r.version_id, deleted: r.deleted === 1, lastUpdated: r.last_updated } satisfies CurrentRow);
      },
      append: async (row: NewVersionRow) => {
        const info = this.#stmt('insertVersion').run(row.tenant, row.type, row.id, row.versionId, row.lastUpdated, row.deleted ? 1 : 0, row.keyVersion, row.box, row.indexDigest);
        const seq = Number(info.lastInsertRowid);
        this.#stmt('upsertCurrent').run(row.tenant, row.type, row.id, row.versionId, seq, row.deleted ? 1 : 0, row.lastUpdated);
        this.#appendLeaf('version', seq, row.leaf);
        const { leaf: _leaf, ...stored } = row;
        return { ...stored, seq };
      },
      appendAudit: async (row: NewAuditRow) => this.#appendAudit(row),
      replaceIndex: async (tenant, type, id, rows) => this.#replaceIndex(tenant, type, id, rows),
      readCurrentMany: async (tenant, type, ids) => this.#readCurrentMany(this.#writer, tenant, type, ids),
      searchCandidates: async (query) => this.#search(this.#writer, query),
      countCandidates: async (query) => this.#count(this.#writer, query),
      hasAnyHash: async (hashes) => this.#hasAnyHash(this.#writer, hashes),
    };
  }

  async readCurrent(tenant: string, type: string, id: string): Promise<VersionRow | undefined> {
    const r = this.#prepare(this.#readDb(), READ_CURRENT).get(tenant, type, id) as RawVersion | undefined;
    return r === undefined ? undefined : toVersion(r);
  }

  async readVersion(tenant: string, type: string, id: string, versionId: number): Promise<VersionRow | undefined> {
    const r = this.#prepare(this.#readDb(), READ_VERSION).get(tenant, type, id, versionId) as RawVersion | undefined;
    return r === undefined ? undefined : toVersion(r);
  }

  /** Appends a leaf at the next position (the writer is serialised, so positions are commit order). */
  #appendLeaf(kind: string, ref: number, hash: Uint8Array): void {
    // Read once per transaction (another process may have appended before it began), then counted.
    const position = this.#nextPosition ?? (this.#stmt('nextPosition').get() as { p: number }).p;
    this.#stmt('insertLeaf').run(position, kind, ref, hash);
    this.#nextPosition = position + 1;
  }

  #appendAudit(row: NewAuditRow): number {
    const info = this.#stmt('insertAudit').run(row.tenant, row.recorded, row.action, row.subtype, row.outcome, row.agent, row.patients, row.body);
    const seq = Number(info.lastInsertRowid);
    this.#appendLeaf('audit', seq, row.leaf);
    return seq;
  }

  appendAudit(row: NewAuditRow): Promise<number> {
    return this.tx(async () => this.#appendAudit(row));
  }

  async searchAudit(q: AuditQuery): Promise<AuditRow[]> {
    const where = ['tenant = ?'];
    const args: unknown[] = [q.tenant];
    if (q.patient !== undefined) {
      // instr, not LIKE: an id is matched as it is, with no wildcard in it.
      where.push('instr(patients, ?) > 0');
      args.push(` ${q.patient} `);
    }
    if (q.agent !== undefined) {
      where.push('agent = ?');
      args.push(q.agent);
    }
    if (q.action !== undefined) {
      where.push('action = ?');
      args.push(q.action);
    }
    if (q.outcome !== undefined) {
      where.push('outcome = ?');
      args.push(q.outcome);
    }
    if (q.from !== undefined) {
      where.push('recorded >= ?');
      args.push(q.from);
    }
    if (q.to !== undefined) {
      where.push('recorded <= ?');
      args.push(q.to);
    }
    if (q.beforeSeq !== undefined) {
      where.push('seq < ?');
      args.push(q.beforeSeq);
    }
    const sql = `SELECT * FROM audit_events WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT ?`;
    return this.#prepare(this.#reader, sql).all(...args, q.limit) as RawAudit[];
  }

  async readAudit(tenant: string, seq: number): Promise<AuditRow | undefined> {
    return this.#stmt('readAudit').get(tenant, seq) as RawAudit | undefined;
  }

  async readLeaves(fromPosition: number, limit: number): Promise<LeafRow[]> {
    return leafRows(this.#stmt('readLeaves').all(fromPosition, limit));
  }

  async countLeaves(): Promise<number> {
    return (this.#stmt('countLeaves').get() as { n: number }).n;
  }

  async readVersionsBySeq(fromSeq: number, limit: number): Promise<VersionRow[]> {
    return versionRows(this.#stmt('versionsBySeq').all(fromSeq, limit));
  }

  async readAuditBySeq(fromSeq: number, limit: number): Promise<AuditRow[]> {
    // The detection engine and the SIEM export poll this after every commit: on the writer it
    // finds the pages just written in its cache; inside `vigil verify`'s snapshot, the reader.
    return auditRows(this.#prepare(this.#readDb(), AUDIT_FROM).raw().all(fromSeq, limit));
  }

  async readAuditLeavesBySeq(fromSeq: number, limit: number): Promise<AuditLeafRow[]> {
    return auditLeafRows(this.#prepare(this.#readDb(), AUDIT_LEAVES_FROM).raw().all(fromSeq, limit));
  }

  async *scanCurrentIndex(): AsyncGenerator<CurrentIndexRow[]> {
    yield* scanCurrentIndex(this.#reader);
  }

  readerSpec(): StoreReaderSpec {
    return { kind: 'sqlite', path: this.#path };
  }

  async listCurrent(fromRid: number, limit: number) {
    const rows = this.#stmt('listCurrent').all(fromRid, limit) as [number, string, string, string, number, number][];
    return rows.map(([rid, tenant, type, id, seq, deleted]) => ({ rid, tenant, type, id, seq, deleted: deleted === 1 }));
  }

  addCheckpoint(row: CheckpointRow): Promise<void> {
    return this.#exclusive(async () => {
      this.#stmt('insertCheckpoint').run(row.size, row.root, row.note, row.createdAt, row.frontier ?? null);
    });
  }

  async latestCheckpoint(): Promise<CheckpointRow | undefined> {
    return checkpointRow(this.#stmt('latestCheckpoint').get() as CheckpointSqlRow | undefined);
  }

  async latestCheckpointWithFrontier(): Promise<CheckpointRow | undefined> {
    return checkpointRow(this.#stmt('latestFrontier').get() as CheckpointSqlRow | undefined);
  }

  async checkpointAt(size: number): Promise<CheckpointRow | undefined> {
    return checkpointRow(this.#stmt('checkpointAt').get(size) as CheckpointSqlRow | undefined);
  }

  async listCheckpoints(): Promise<CheckpointRow[]> {
    return (this.#stmt('listCheckpoints').all() as { size: number; root: Buffer; note: string; created_at: string }[]).map((r) => ({ size: r.size, root: r.root, note: r.note, createdAt: r.created_at }));
  }

  #replaceIndex(tenant: string, type: string, id: string, rows: IndexRows | undefined): void {
    const found = this.#stmt('ridOf').get(tenant, type, id) as { rid: number } | undefined;
    if (found === undefined) return;
    this.#stmt('deleteHash').run(found.rid);
    this.#stmt('deleteRange').run(found.rid);
    if (rows === undefined) return;
    for (let start = 0; start < rows.hashes.length; start += HASH_ROWS_PER_INSERT) {
      const chunk = rows.hashes.slice(start, start + HASH_ROWS_PER_INSERT);
      const args: unknown[] = [];
      for (const h of chunk) args.push(h.hash, found.rid);
      this.#insertHashStatement(chunk.length).run(...args);
    }
    const insertRange = this.#stmt('insertRange');
    for (const r of rows.ranges) insertRange.run(found.rid, `${type}.${r.param}`, r.lo, r.hi, r.unit, r.unit2);
  }

  #insertHashStatement(rows: number): Statement {
    let stmt = this.#insertHashes.get(rows);
    if (stmt === undefined) {
      stmt = this.#writer.prepare(`INSERT OR IGNORE INTO search_hash (hash, rid) VALUES ${Array.from({ length: rows }, () => '(?, ?)').join(', ')}`);
      this.#insertHashes.set(rows, stmt);
    }
    return stmt;
  }

  #prepare(db: Db, sql: string): Statement {
    let cache = this.#prepared.get(db);
    if (cache === undefined) {
      cache = new Map();
      this.#prepared.set(db, cache);
    }
    let stmt = cache.get(sql);
    if (stmt === undefined) {
      if (cache.size > 500) cache.clear();
      stmt = db.prepare(sql);
      cache.set(sql, stmt);
    }
    return stmt;
  }

  /**
   * The connection for a read of one statement: the writer's while no transaction is open on
   * either connection. Every request commits an audit entry on the writer, and SQLite empties a
   * connection's page cache when another connection has committed since its last read: on the
   * reader each search began cold, about three times slower. With nothing open, the writer sees
   * what the reader would, the committed state. During a write (uncommitted rows) or a snapshot
   * (`snapshot`, which reads on the reader), the reader.
   */
  #readDb(): Db {
    return this.#writer.inTransaction || this.#reader.inTransaction ? this.#reader : this.#writer;
  }

  #search(db: Db, query: CandidateQuery): VersionRow[] {
    const drive = this.#ridDriver(db, query);
    const plan = drive === undefined ? this.#walkPlan(db, query) : LISTED;
    const { sql, args } = candidateRowsSql(query, plan.walk, plan.listed, drive);
    return (this.#prepare(db, sql).all(...args) as RawVersion[]).map(toVersion);
  }

  /** The largest rid: the resources ever stored, a bound on the current ones (one index probe). */
  #resources(db: Db): number {
    return (this.#prepare(db, 'SELECT COALESCE(MAX(rid), 0) AS n FROM resource_current').get() as { n: number }).n;
  }

  /**
   * The clause whose rows a creation-order page walks (see ridWalkSql): a positive clause of 1 to
   * DRIVE_HASHES hashes, the one with the fewest rows when there are several (capped counts,
   * remembered as for #walkPlan). None for other orders, when an id clause names the candidates,
   * or when no clause qualifies: those pages walk the type in rid order or list their matches, as
   * #walkPlan says.
   */
  #ridDriver(db: Db, query: CandidateQuery): SearchClause | undefined {
    if (query.order !== 'rid' && query.order !== 'rid-desc') return undefined;
    const anded = flatClauses(query.clauses);
    if (anded.some((c) => c.kind === 'id' && c.negate !== true)) return undefined;
    const drivers = anded.filter((c) => c.kind === 'hash' && c.negate !== true && c.hashes.length > 0 && c.hashes.length <= DRIVE_HASHES);
    if (drivers.length <= 1) return drivers[0];
    const resources = this.#resources(db);
    let best: { clause: SearchClause; n: number } | undefined;
    for (const c of drivers) {
      const n = c.kind === 'hash' ? this.#hashRows(db, c.hashes, DRIVE_COUNT_CAP, resources) : Number.POSITIVE_INFINITY;
      if (best === undefined || n < best.n) best = { clause: c, n };
    }
    return best?.clause;
  }

  /**
   * How a page in id order is found. Three plans, with about these costs (measured at 10,000
   * patients: Observations with a code and a date, 810,631 of them, codes on 1,775 to 74,330):
   * - listed: the hash rows of the clause, each resource looked up, all sorted by id: about 3.3 µs
   *   a match (a code on 2,614: 7 ms; on 74,330: 252 ms);
   * - walked with a lookup: the type's resources in id order, each looked up in the `(hash, rid)`
   *   key, until the page is full: about 2 µs a resource walked, and the walk is about
   *   (resources / matches) × 2 × page long (on 74,330: 0.7 ms; on 7,363: 12 ms);
   * - walked against the list: the clause's rids read once into a temporary index (about 0.13 µs
   *   each), then each resource walked tested against it (about 0.1 µs): on 7,363, 1.9 ms; on
   *   1,775, 2.0 ms; on 74,330, 9.5 ms.
   * So a clause is listed under √(0.06 × page × resources of the type) matches, walked against its
   * list up to √(30 × page × resources of the type), and walked with a lookup above (Observations
   * at 10,000 patients and a page of 20: about 1,000 and 22,000). The type's resources are
   * estimated (#typeResources). The answer is the same whichever plan runs; capped counts of hash
   * rows, remembered for a while (#hashRows), choose it.
   */
  #walkPlan(db: Db, query: CandidateQuery): { readonly walk: boolean; readonly listed: ReadonlySet<SearchClause> } {
    if ((query.order !== 'id' && query.order !== 'id-desc' && query.order !== 'rid' && query.order !== 'rid-desc') || query.limit > 1001) return LISTED;
    const anded = flatClauses(query.clauses);
    const hashes = anded.filter((c): c is Extract<SearchClause, { kind: 'hash' }> => c.kind === 'hash' && c.negate !== true);
    if (hashes.length === 0 || anded.some((c) => c.kind === 'id' && c.negate !== true)) return LISTED;
    const resources = this.#resources(db);
    const ofType = this.#typeResources(db, query.tenant, query.type, resources);
    const walkAfter = Math.max(SCAN_BY_ID_MIN, Math.ceil(Math.sqrt(0.06 * query.limit * ofType)));
    const lookupAfter = Math.max(walkAfter, Math.ceil(Math.sqrt(30 * query.limit * ofType)));
    const listed = new Set<SearchClause>();
    for (const c of hashes) {
      const n = this.#hashRows(db, c.hashes, lookupAfter, resources);
      if (n <= walkAfter) return LISTED;
      if (n <= lookupAfter) listed.add(c);
    }
    return { walk: true, listed };
  }

  /**
   * About how many current resources a type has, for #walkPlan: the walk goes over the type's
   * resources only, so in a store of Observations a Patient search must not be costed as if it
   * walked them all. Counting a type exactly reads its whole index (0.3 s for 2.7 million
   * Observations), so TYPE_SAMPLE_RUNS runs of TYPE_SAMPLE_RUN consecutive rids, evenly spaced,
   * are read instead (a page or two each, so a few dozen pages even on a cold cache; lone rids
   * spread as widely took a page each), and the shares kept for TYPE_SAMPLE_MS or until the store
   * grows by a tenth. A type no sampled rid hit is taken as half a hit. Every plan gives the same
   * answer; the estimate only chooses one.
   */
  #typeResources(db: Db, tenant: string, type: string, resources: number): number {
    let sample = this.#typeSample;
    const now = performance.now();
    if (sample === undefined || outdated(sample, now, TYPE_SAMPLE_MS, resources)) {
      const hits = new Map<string, number>();
      let taken = 0;
      const run = this.#prepare(db, 'SELECT tenant, type, deleted FROM resource_current WHERE rid >= ? AND rid < ?');
      const runs = Math.min(TYPE_SAMPLE_RUNS, Math.ceil(resources / TYPE_SAMPLE_RUN));
      for (let k = 0; k < runs; k++) {
        const from = 1 + Math.floor((k * resources) / runs);
        const to = Math.min(resources + 1, from + TYPE_SAMPLE_RUN);
        taken += to - from;
        for (const row of run.all(from, to) as { tenant: string; type: string; deleted: number }[]) {
          if (row.deleted !== 0) continue;
          const key = `${row.tenant}\u0000${row.type}`;
          hits.set(key, (hits.get(key) ?? 0) + 1);
        }
      }
      sample = { hits, taken, at: now, resources };
      this.#typeSample = sample;
    }
    if (sample.taken === 0) return 0;
    const hit = sample.hits.get(`${tenant}\u0000${type}`) ?? 0.5;
    return Math.round((hit / sample.taken) * resources);
  }

  /**
   * The rows of a hash clause, counted up to `cap` + 1, for #walkPlan. The count of a common code
   * reads up to `cap` index rows (about 27,000 at 10,000 patients, 1 ms; about 85,000 at 100,000),
   * so it is remembered for a while: a plan only needs the order of magnitude, and every plan
   * gives the same answer. A count is taken again when `outdated`, or when it reached its cap and
   * the cap has grown since.
   */
  #hashRows(db: Db, hashes: readonly Uint8Array[], cap: number, resources: number): number {
    // A digest of the hashes (16 bytes each): a clause can hold a thousand of them.
    const digest = createHash('sha256');
    for (const h of hashes) digest.update(h);
    const key = digest.digest('base64');
    const now = performance.now();
    const known = this.#planCounts.get(key);
    if (known !== undefined && !outdated(known, now, PLAN_COUNT_MS, resources) && (known.n <= known.cap || known.cap >= cap)) return known.n;
    const n = (this.#prepare(db, hashRowsSql(hashes.length)).get(...hashes, cap + 1) as { n: number }).n;
    if (this.#planCounts.size >= PLAN_COUNT_MAX) this.#planCounts.clear();
    this.#planCounts.set(key, { n, cap, at: now, resources });
    return n;
  }

  #readCurrentMany(db: Db, tenant: string, type: string, ids: readonly string[]): VersionRow[] {
    if (ids.length === 0) return [];
    const out: VersionRow[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const sql = `SELECT rv.seq, rv.tenant, rv.type, rv.id, rv.version_id, rv.last_updated, rv.deleted, rv.key_version, rv.box
        FROM resource_current rc JOIN resource_versions rv ON rv.seq = rc.seq AND rv.tenant = rc.tenant AND rv.type = rc.type AND rv.id = rc.id
        WHERE rc.tenant = ? AND rc.type = ? AND rc.deleted = 0 AND rc.id IN (${chunk.map(() => '?').join(', ')})`;
      out.push(...(this.#prepare(db, sql).all(tenant, type, ...chunk) as RawVersion[]).map(toVersion));
    }
    return out;
  }

  async searchCandidates(query: CandidateQuery): Promise<VersionRow[]> {
    return this.#search(this.#readDb(), query);
  }

  async countCandidates(query: CandidateCount): Promise<number> {
    return this.#count(this.#readDb(), query);
  }

  async hasAnyHash(hashes: readonly Uint8Array[]): Promise<boolean> {
    return this.#hasAnyHash(this.#readDb(), hashes);
  }

  #hasAnyHash(db: Db, hashes: readonly Uint8Array[]): boolean {
    for (let i = 0; i < hashes.length; i += 500) {
      const chunk = hashes.slice(i, i + 500);
      if (this.#prepare(db, `SELECT 1 FROM search_hash WHERE hash IN (${chunk.map(() => '?').join(', ')}) LIMIT 1`).get(...chunk) !== undefined) return true;
    }
    return false;
  }

  #count(db: Db, query: CandidateCount): number {
    const { sql, args } = candidateCountSql(query);
    return (this.#prepare(db, sql).get(...args) as { n: number }).n;
  }

  async readCurrentMany(tenant: string, type: string, ids: readonly string[]): Promise<VersionRow[]> {
    return this.#readCurrentMany(this.#readDb(), tenant, type, ids);
  }

  async history(q: HistoryQuery): Promise<HistoryPage> {
    const where: string[] = ['tenant = ?'];
    const args: unknown[] = [q.tenant];
    if (q.type !== undefined) {
      where.push('type = ?');
      args.push(q.type);
    }
    if (q.id !== undefined) {
      where.push('id = ?');
      args.push(q.id);
    }
    if (q.since !== undefined) {
      where.push('last_updated >= ?');
      args.push(q.since);
    }
    const filter = where.join(' AND ');
    const db = this.#readDb();
    const total = (this.#prepare(db, `SELECT COUNT(*) AS n FROM resource_versions WHERE ${filter}`).get(...args) as { n: number }).n;
    const pageWhere = q.beforeSeq === undefined ? filter : `${filter} AND seq < ?`;
    const pageArgs = q.beforeSeq === undefined ? args : [...args, q.beforeSeq];
    const rows = this.#prepare(db, `SELECT ${VERSION_COLUMNS} FROM resource_versions WHERE ${pageWhere} ORDER BY seq DESC LIMIT ?`).all(...pageArgs, q.count) as RawVersion[];
    return { rows: rows.map(toVersion), total };
  }

  async listDataKeys(): Promise<WrappedDataKey[]> {
    const rows = this.#stmt('listDataKeys').all() as { version: number; wrapped: Buffer; created_at: string }[];
    return rows.map((r) => ({ version: r.version, wrapped: r.wrapped, createdAt: r.created_at }));
  }

  addDataKey(wrap: (version: number) => Uint8Array, createdAt: string): Promise<number> {
    return this.#exclusive(async () => {
      const add = this.#writer.transaction(() => {
        const version = (this.#stmt('maxDataKey').get() as { v: number }).v + 1;
        this.#stmt('insertDataKey').run(version, wrap(version), createdAt);
        return version;
      });
      return add.immediate();
    });
  }

  async countVersionsBelowKey(keyVersion: number): Promise<number> {
    return (this.#stmt('countBelowKey').get(keyVersion) as { n: number }).n;
  }

  async listVersionsBelowKey(keyVersion: number, afterSeq: number, limit: number): Promise<RewrapCandidate[]> {
    const rows = this.#stmt('listBelowKey').all(keyVersion, afterSeq, limit) as Omit<RawVersion, 'last_updated' | 'deleted' | 'key_version'>[];
    return rows.flatMap((r) => (r.box === null ? [] : [{ seq: r.seq, tenant: r.tenant, type: r.type, id: r.id, versionId: r.version_id, box: r.box }]));
  }

  replaceBoxes(items: readonly { seq: number; oldBox: Uint8Array; box: Uint8Array; keyVersion: number }[], leaf: (rewrap: RewrapRow) => Uint8Array): Promise<number> {
    return this.tx(async () => {
      let changed = 0;
      for (const it of items) {
        const n = this.#stmt('replaceBox').run(it.box, it.keyVersion, it.seq, it.oldBox).changes;
        if (n === 0) continue;
        // Each re-encryption is itself a leaf, so the log keeps explaining the current ciphertext.
        const before = createHash('sha256').update(it.oldBox).digest();
        const after = createHash('sha256').update(it.box).digest();
        const seq = Number(this.#stmt('insertRewrap').run(it.seq, before, after).lastInsertRowid);
        this.#appendLeaf('rewrap', seq, leaf({ seq, versionSeq: it.seq, before, after }));
        changed += n;
      }
      return changed;
    });
  }

  async readRewraps(fromSeq: number, limit: number): Promise<RewrapRow[]> {
    return (this.#stmt('readRewraps').all(fromSeq, limit) as { seq: number; version_seq: number; before: Buffer; after: Buffer }[]).map((r) => ({
      seq: r.seq,
      versionSeq: r.version_seq,
      before: r.before,
      after: r.after,
    }));
  }

  async getClient(clientId: string): Promise<OAuthClientRow | undefined> {
    const r = this.#stmt('getClient').get(clientId) as ClientSqlRow | undefined;
    return r === undefined ? undefined : clientRow(r);
  }

  async listClients(): Promise<OAuthClientRow[]> {
    return (this.#stmt('listClients').all() as ClientSqlRow[]).map(clientRow);
  }

  insertClient(row: OAuthClientRow): Promise<void> {
    return this.#exclusive(async () => {
      this.#stmt('insertClient').run(row.clientId, row.secretHash, row.name, row.scopes, JSON.stringify(row.roles), row.disabled ? 1 : 0, row.createdAt, row.rowMac, row.settings);
    });
  }

  updateClient(row: OAuthClientRow): Promise<boolean> {
    return this.#exclusive(async () => {
      const r = this.#stmt('updateClient').run(row.secretHash, row.name, row.scopes, JSON.stringify(row.roles), row.disabled ? 1 : 0, row.createdAt, row.rowMac, row.settings, row.clientId);
      return r.changes === 1;
    });
  }

  async countClients(): Promise<number> {
    return (this.#stmt('countClients').get() as { n: number }).n;
  }

  async getAuthRecord(kind: string, key: string): Promise<AuthRecordRow | undefined> {
    const r = this.#prepare(this.#readDb(), GET_AUTH).get(kind, key) as AuthSqlRow | undefined;
    return r === undefined ? undefined : authRow(r);
  }

  putAuthRecord(kind: string, row: AuthRecordRow): Promise<void> {
    return this.#exclusive(async () => {
      this.#stmt('putAuth').run(kind, row.key, row.box, row.expiresAt);
    });
  }

  insertAuthRecord(kind: string, row: AuthRecordRow): Promise<boolean> {
    return this.#exclusive(async () => this.#stmt('insertAuth').run(kind, row.key, row.box, row.expiresAt).changes === 1);
  }

  takeAuthRecord(kind: string, key: string): Promise<AuthRecordRow | undefined> {
    return this.#exclusive(async () => {
      const r = this.#stmt('getAuthW').get(kind, key) as AuthSqlRow | undefined;
      if (r === undefined) return undefined;
      this.#stmt('deleteAuth').run(kind, key);
      return authRow(r);
    });
  }

  deleteAuthRecord(kind: string, key: string): Promise<boolean> {
    return this.#exclusive(async () => this.#stmt('deleteAuth').run(kind, key).changes === 1);
  }

  async listAuthRecords(kind: string): Promise<AuthRecordRow[]> {
    return (this.#stmt('listAuth').all(kind) as AuthSqlRow[]).map(authRow);
  }

  purgeAuthRecords(nowMs: number): Promise<number> {
    return this.#exclusive(async () => this.#stmt('purgeAuth').run(nowMs).changes);
  }

  async listSigningKeys(): Promise<SigningKeyRow[]> {
    const rows = this.#stmt('listSigningKeys').all() as { kid: string; alg: string; public_jwk: string; private_box: Buffer; created_at: string }[];
    return rows.map((r) => ({ kid: r.kid, alg: r.alg, publicJwk: r.public_jwk, privateBox: r.private_box, createdAt: r.created_at }));
  }

  insertSigningKey(row: SigningKeyRow): Promise<void> {
    return this.#exclusive(async () => {
      this.#stmt('insertSigningKey').run(row.kid, row.alg, row.publicJwk, row.privateBox, row.createdAt);
    });
  }

  checkpoint(): Promise<boolean> {
    return this.#exclusive(async () => {
      const [result] = this.#writer.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
      return result?.busy === 0;
    });
  }

  async close(): Promise<void> {
    await this.#queue;
    this.#reader.close();
    this.#writer.close();
  }
}

interface ClientSqlRow {
  client_id: string;
  secret_hash: string;
  name: string;
  scopes: string;
  roles: string;
  disabled: number;
  created_at: string;
  row_mac: string;
  settings: string;
}

function clientRow(r: ClientSqlRow): OAuthClientRow {
  return {
    clientId: r.client_id,
    secretHash: r.secret_hash,
    name: r.name,
    scopes: r.scopes,
    roles: JSON.parse(r.roles) as string[],
    disabled: r.disabled === 1,
    createdAt: r.created_at,
    rowMac: r.row_mac,
    settings: r.settings,
  };
}

interface CheckpointSqlRow {
  size: number;
  root: Buffer;
  note: string;
  created_at: string;
  frontier: Buffer | null;
}

function checkpointRow(r: CheckpointSqlRow | undefined): CheckpointRow | undefined {
  if (r === undefined) return undefined;
  return { size: r.size, root: r.root, note: r.note, createdAt: r.created_at, ...(r.frontier === null ? {} : { frontier: r.frontier }) };
}

interface AuthSqlRow {
  key: string;
  box: Buffer;
  expires_at: number | null;
}

function authRow(r: AuthSqlRow): AuthRecordRow {
  return { key: r.key, box: r.box, expiresAt: r.expires_at };
}
