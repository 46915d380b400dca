import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { VigilError } from '../errors.js';
import { loadConfig } from '../config/index.js';
import { openVigil } from '../runtime/index.js';
import { SQLITE_FILE } from '../store/index.js';
import { SCHEMA } from '../store/sqlite/schema.js';
import { verifyLog, type VerifyResult } from '../audit/verify.js';
import { parseVerifierKey } from '../audit/note-key.js';
import { chainOf, loadManifests } from './chain.js';
import { ChunkStore } from './chunk-store.js';
import { IndexRebuilder } from './restore-index.js';
import { backupsFor, planRestore, type RestorePlan } from './restore-plan.js';
import { eachRow, rowsOf } from './replay.js';
import { TABLES, type Row, type TableSpec } from './tables.js';
import { verifyBackupSet } from './verify.js';

export interface RestoreOptions {
  readonly from: string;
  /** A new data directory: refused unless missing or empty. */
  readonly to: string;
  /** Restore the state as of this time (default: the newest backup). */
  readonly at?: Date;
  /** The master key of the backed-up data (from a key backup or a master key file). */
  readonly masterKey: Buffer;
  /** The backup public key to trust (default: the one the full backup names). */
  readonly key?: string;
  /** Environment for the restored directory's configuration (VIGIL_PUBLIC_URL etc.); witnesses are left out. */
  readonly env?: NodeJS.ProcessEnv;
  readonly onProgress?: (done: number, total: number) => void;
}

/** What `vigil restore --json` prints. */
export interface RestoreResult {
  readonly ok: boolean;
  readonly from: string;
  readonly to: string;
  readonly at: string | null;
  readonly backups: string[];
  readonly versions: number;
  readonly audit: number;
  readonly leaves: number;
  readonly resources: number;
  /** Current resources whose search index was rebuilt by decrypting their version. */
  readonly reindexed: number;
  readonly lastWriteAt: string | null;
  /** The restored log's newest checkpoint; `signedNew` when the restore point fell between checkpoints. */
  readonly checkpoint: { readonly size: number; readonly note: string; readonly matchesBackup: boolean; readonly signedNew: boolean };
  readonly verify: Pick<VerifyResult, 'ok' | 'leaves' | 'firstBroken'>;
  readonly seconds: number;
  readonly resourcesPerSecond: number;
}

function insert(db: Database.Database, table: TableSpec, rows: Iterable<Row>, orIgnore = false): number {
  const stmt = db.prepare(`INSERT ${orIgnore ? 'OR IGNORE ' : ''}INTO ${table.name} (${table.columns.join(', ')}) VALUES (${table.columns.map(() => '?').join(', ')})`);
  let n = 0;
  for (const r of rows) n += stmt.run(...r).changes;
  return n;
}

/**
 * Restores a backup set into a new data directory: the signed chain is verified first (a set that
 * does not verify is refused), the log prefix up to `at` is written with every row it commits to,
 * current pointers and the search index are derived from it, a checkpoint is signed when the
 * point falls between checkpoints, and `vigil verify` is run over the result.
 */
export async function restoreBackup(o: RestoreOptions): Promise<RestoreResult> {
  const started = performance.now();
  if (existsSync(o.to) && readdirSync(o.to).length > 0) throw new VigilError('ERR_BACKUP', `Refusing to restore into ${o.to}: it is not empty`);
  const checked = verifyBackupSet(o.from, o.key === undefined ? {} : { key: o.key });
  const chunks = new ChunkStore(o.from);
  const { manifests } = loadManifests(chunks);
  const newest = manifests[manifests.length - 1];
  if (newest === undefined) throw new VigilError('ERR_BACKUP', `No backup in ${o.from}`);
  const applied = backupsFor(chainOf(newest, manifests), o.at);
  for (const m of applied) {
    const verdict = checked.backups.find((b) => b.id === m.manifest.id);
    if (verdict?.ok !== true) throw new VigilError('ERR_BACKUP', `Backup ${m.manifest.id} does not verify: ${verdict?.problems[0] ?? 'unknown'}`);
  }
  const plan = planRestore(chunks, applied, o.at);
  const head = plan.head.manifest;

  mkdirSync(o.to, { recursive: true, mode: 0o700 });
  const env = { ...(o.env ?? {}) };
  delete env['VIGIL_WITNESS_FILE'];
  delete env['VIGIL_WITNESS_URL'];
  const config = loadConfig(env, { dataDir: o.to });
  if (config.masterKey === undefined) {
    if (existsSync(config.masterKeyFile)) {
      if (!Buffer.from(readFileSync(config.masterKeyFile, 'utf8').trim(), 'base64').equals(o.masterKey)) throw new VigilError('ERR_KEY', 'The master key file of the target is another key');
    } else writeFileSync(config.masterKeyFile, `${o.masterKey.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } else if (!config.masterKey.equals(o.masterKey)) throw new VigilError('ERR_KEY', 'VIGIL_MASTER_KEY is not the key of this backup');

  const dataKeys = rowsOf(chunks, head, 'data_keys').map((r) => ({ version: Number(r[0]), wrapped: r[1] as Buffer, createdAt: String(r[2]) }));
  const rebuilder = await IndexRebuilder.open(o.masterKey, dataKeys, head.tenant, head.fhirBaseUrl);
  const db = new Database(join(o.to, SQLITE_FILE));
  let reindexed = 0;
  let resources = 0;
  try {
    db.pragma('journal_mode = WAL');
    // The search index is written in no useful key order: its hot pages must stay in memory.
    db.pragma(`cache_size = -${RESTORE_CACHE_KIB}`);
    db.exec(SCHEMA);
    // Secondary indexes are built once at the end (a sort) instead of row by row; the schema names them all.
    const deferred = [...SCHEMA.matchAll(/CREATE INDEX IF NOT EXISTS (\w+)/g)].map((m) => m[1] ?? '');
    for (const name of deferred) db.exec(`DROP INDEX ${name}`);
    db.transaction(() => {
      for (const name of ['meta', 'data_keys', 'signing_keys', 'oauth_clients', 'auth_records'] as const) insert(db, TABLES[name], eachRow(chunks, head, name), true);
      writeLog(db, chunks, plan, o.onProgress);
      ({ reindexed, resources } = writeCurrent(db, chunks, plan, rebuilder));
      db.exec(SCHEMA);
    })();
  } finally {
    db.close();
  }

  const vigil = await openVigil(config);
  try {
    let latest = await vigil.store.latestCheckpoint();
    const signedNew = latest?.size !== plan.leaves;
    if (signedNew) latest = await vigil.log.checkpoint();
    const result = await verifyLog({ store: vigil.store, tenant: vigil.config.tenant, origin: vigil.log.origin, verifier: parseVerifierKey(vigil.log.verifierKey) });
    const seconds = (performance.now() - started) / 1000;
    return {
      ok: result.ok,
      from: o.from,
      to: o.to,
      at: o.at?.toISOString() ?? null,
      backups: applied.map((m) => m.manifest.id),
      versions: plan.counts.versions,
      audit: plan.counts.audit,
      leaves: plan.leaves,
      resources,
      reindexed,
      lastWriteAt: plan.lastWriteAt,
      checkpoint: { size: latest?.size ?? 0, note: latest?.note ?? '', matchesBackup: latest?.note === head.checkpoint, signedNew },
      verify: { ok: result.ok, leaves: result.leaves, firstBroken: result.firstBroken },
      seconds: Math.round(seconds * 1000) / 1000,
      resourcesPerSecond: Math.round(plan.counts.versions / Math.max(seconds, 1e-6)),
    };
  } finally {
    await vigil.close();
  }
}

/** The rows of the applied backups' table whose key (first column) is at most `last`, one chunk at a time. */
function* rowsUpTo(chunks: ChunkStore, plan: RestorePlan, table: 'resource_versions' | 'audit_events' | 'rewraps' | 'log_leaves', last: number): Generator<Row> {
  for (const m of plan.applied) {
    for (const row of eachRow(chunks, m.manifest, table)) {
      if (Number(row[0]) > last) return;
      yield row;
    }
  }
}

/** The log prefix and every row it commits to, read again from the chunks as they are written. */
function writeLog(db: Database.Database, chunks: ChunkStore, plan: RestorePlan, onProgress: RestoreOptions['onProgress']): void {
  let done = 0;
  const total = plan.counts.versions;
  const versions = function* (): Generator<Row> {
    for (const v of rowsUpTo(chunks, plan, 'resource_versions', plan.keep.version)) {
      const rebox = plan.boxes.get(Number(v[0]));
      yield rebox === undefined ? v : [...v.slice(0, 7), rebox[1], rebox[2], v[9]];
      if (++done % 5000 === 0) onProgress?.(done, total);
    }
  };
  insert(db, TABLES.resource_versions, versions());
  onProgress?.(total, total);
  insert(db, TABLES.audit_events, rowsUpTo(chunks, plan, 'audit_events', plan.keep.audit));
  insert(db, TABLES.rewraps, rowsUpTo(chunks, plan, 'rewraps', plan.keep.rewrap));
  insert(db, TABLES.log_leaves, rowsUpTo(chunks, plan, 'log_leaves', plan.leaves));
  insert(db, TABLES.checkpoints, plan.checkpoints.values());
}

/** Page cache of the restore's connection, in KiB (SQLite's default is 2 MiB). */
const RESTORE_CACHE_KIB = 1024 * 1024;

/** Resources kept in one page of the index rebuild (each row carries its ciphertext). */
const REBUILD_PAGE = 1000;

/**
 * Current pointers (the newest restored version of each resource) and their search index: copied
 * from the head's snapshot where that snapshot's current version is the same one, rebuilt otherwise.
 * The work is done in SQL over the restored versions and a temporary copy of the snapshot's
 * pointers; the snapshot's index rows are streamed through once.
 */
function writeCurrent(db: Database.Database, chunks: ChunkStore, plan: RestorePlan, rebuilder: IndexRebuilder): { reindexed: number; resources: number } {
  const head = plan.head.manifest;
  db.exec('CREATE TEMP TABLE snapshot_current (rid INTEGER PRIMARY KEY, tenant TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL, UNIQUE (tenant, type, id))');
  const snap = db.prepare('INSERT INTO snapshot_current (rid, tenant, type, id, seq) VALUES (?, ?, ?, ?, ?)');
  for (const r of eachRow(chunks, head, 'resource_current')) snap.run(r[0], r[1], r[2], r[3], r[5]);
  const maxRid = (db.prepare('SELECT COALESCE(MAX(rid), 0) FROM snapshot_current').pluck().get() as number) ?? 0;
  // The newest version of each resource (the highest seq: versions only grow), with its snapshot rid when it had one.
  const newest = `SELECT MAX(v.seq) AS seq, v.tenant, v.type, v.id, v.version_id, v.deleted, v.last_updated FROM resource_versions v GROUP BY v.tenant, v.type, v.id`;
  // Resources the snapshot knew keep their rid; new ones are numbered after the snapshot's highest, in log order.
  db.prepare(
    `INSERT INTO resource_current (rid, tenant, type, id, version_id, seq, deleted, last_updated)
     SELECT s.rid, n.tenant, n.type, n.id, n.version_id, n.seq, n.deleted, n.last_updated FROM (${newest}) n JOIN snapshot_current s ON s.tenant = n.tenant AND s.type = n.type AND s.id = n.id`,
  ).run();
  db.prepare(
    `INSERT INTO resource_current (rid, tenant, type, id, version_id, seq, deleted, last_updated)
     SELECT ? + ROW_NUMBER() OVER (ORDER BY n.seq), n.tenant, n.type, n.id, n.version_id, n.seq, n.deleted, n.last_updated FROM (${newest}) n
     WHERE NOT EXISTS (SELECT 1 FROM snapshot_current s WHERE s.tenant = n.tenant AND s.type = n.type AND s.id = n.id)`,
  ).run(maxRid);
  const resources = db.prepare('SELECT COUNT(*) FROM resource_current').pluck().get() as number;

  // The snapshot's index rows stay for resources whose current version is the snapshot's own.
  const same = new Set(
    db
      .prepare('SELECT c.rid FROM resource_current c JOIN snapshot_current s ON s.rid = c.rid AND s.seq = c.seq AND s.tenant = c.tenant AND s.type = c.type AND s.id = c.id WHERE c.deleted = 0')
      .pluck()
      .all() as number[],
  );
  const hash = db.prepare('INSERT OR IGNORE INTO search_hash (hash, rid) VALUES (?, ?)');
  const range = db.prepare('INSERT INTO search_range (rid, param, lo, hi, unit, unit2) VALUES (?, ?, ?, ?, ?, ?)');
  for (const r of eachRow(chunks, head, 'search_hash')) if (same.has(Number(r[0]))) hash.run(r[1], r[0]);
  for (const r of eachRow(chunks, head, 'search_range')) if (same.has(Number(r[0]))) range.run(r[0], r[1], r[2], r[3], r[4], r[5]);

  // The others are rebuilt from their ciphertext, a page at a time (the rows read are not held).
  const changed = db
    .prepare(
      `SELECT c.rid, v.seq, v.tenant, v.type, v.id, v.version_id, v.last_updated, v.deleted, v.key_version, v.box, v.index_digest
       FROM resource_current c JOIN resource_versions v ON v.seq = c.seq
       WHERE c.deleted = 0 AND c.rid > ?
         AND NOT EXISTS (SELECT 1 FROM snapshot_current s WHERE s.rid = c.rid AND s.seq = c.seq AND s.tenant = c.tenant AND s.type = c.type AND s.id = c.id)
       ORDER BY c.rid LIMIT ?`,
    )
    .raw();
  let reindexed = 0;
  for (let after = 0; ; ) {
    const page = changed.all(after, REBUILD_PAGE) as Row[];
    for (const row of page) {
      const rid = Number(row[0]);
      const rows = rebuilder.rows(row.slice(1));
      for (const h of rows.hashes) hash.run(h, rid);
      for (const r of rows.ranges) range.run(rid, r[1], r[2], r[3], r[4], r[5]);
      reindexed += 1;
    }
    if (page.length < REBUILD_PAGE) break;
    after = Number(page[page.length - 1]?.[0]);
  }
  db.exec('DROP TABLE snapshot_current');
  return { reindexed, resources };
}
