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
import { rowsOf } from './replay.js';
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
    db.exec(SCHEMA);
    db.transaction(() => {
      for (const name of ['meta', 'data_keys', 'signing_keys', 'oauth_clients', 'auth_records'] as const) insert(db, TABLES[name], rowsOf(chunks, head, name), true);
      let done = 0;
      const versionStmt = TABLES.resource_versions;
      for (let i = 0; i < plan.versions.length; i += 5000) {
        insert(db, versionStmt, plan.versions.slice(i, i + 5000));
        done += Math.min(5000, plan.versions.length - i);
        o.onProgress?.(done, plan.versions.length);
      }
      insert(db, TABLES.audit_events, plan.audit);
      insert(db, TABLES.rewraps, plan.rewraps);
      insert(db, TABLES.log_leaves, plan.leaves);
      insert(db, TABLES.checkpoints, plan.checkpoints.values());
      ({ reindexed, resources } = writeCurrent(db, chunks, plan, rebuilder));
    })();
  } finally {
    db.close();
  }

  const vigil = await openVigil(config);
  try {
    let latest = await vigil.store.latestCheckpoint();
    const signedNew = latest?.size !== plan.leaves.length;
    if (signedNew) latest = await vigil.log.checkpoint();
    const result = await verifyLog({ store: vigil.store, tenant: vigil.config.tenant, origin: vigil.log.origin, verifier: parseVerifierKey(vigil.log.verifierKey) });
    const seconds = (performance.now() - started) / 1000;
    return {
      ok: result.ok,
      from: o.from,
      to: o.to,
      at: o.at?.toISOString() ?? null,
      backups: applied.map((m) => m.manifest.id),
      versions: plan.versions.length,
      audit: plan.audit.length,
      leaves: plan.leaves.length,
      resources,
      reindexed,
      lastWriteAt: plan.lastWriteAt,
      checkpoint: { size: latest?.size ?? 0, note: latest?.note ?? '', matchesBackup: latest?.note === head.checkpoint, signedNew },
      verify: { ok: result.ok, leaves: result.leaves, firstBroken: result.firstBroken },
      seconds: Math.round(seconds * 1000) / 1000,
      resourcesPerSecond: Math.round(plan.versions.length / Math.max(seconds, 1e-6)),
    };
  } finally {
    await vigil.close();
  }
}

/**
 * Current pointers (the newest restored version of each resource) and their search index: copied
 * from the head's snapshot where that snapshot's current version is the same one, rebuilt otherwise.
 */
function writeCurrent(db: Database.Database, chunks: ChunkStore, plan: RestorePlan, rebuilder: IndexRebuilder): { reindexed: number; resources: number } {
  const head = plan.head.manifest;
  const newest = new Map<string, Row>();
  for (const v of plan.versions) newest.set(`${String(v[1])}\u0000${String(v[2])}\u0000${String(v[3])}`, v);
  const snapshot = new Map<string, { rid: number; seq: number }>();
  let maxRid = 0;
  for (const r of rowsOf(chunks, head, 'resource_current')) {
    snapshot.set(`${String(r[1])}\u0000${String(r[2])}\u0000${String(r[3])}`, { rid: Number(r[0]), seq: Number(r[5]) });
    maxRid = Math.max(maxRid, Number(r[0]));
  }
  const hashes = new Map<number, Buffer[]>();
  for (const r of rowsOf(chunks, head, 'search_hash')) hashes.set(Number(r[0]), [...(hashes.get(Number(r[0])) ?? []), r[1] as Buffer]);
  const ranges = new Map<number, Row[]>();
  for (const r of rowsOf(chunks, head, 'search_range')) ranges.set(Number(r[0]), [...(ranges.get(Number(r[0])) ?? []), r]);
  const current = db.prepare('INSERT INTO resource_current (rid, tenant, type, id, version_id, seq, deleted, last_updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const hash = db.prepare('INSERT OR IGNORE INTO search_hash (hash, rid) VALUES (?, ?)');
  const range = db.prepare('INSERT INTO search_range (rid, param, lo, hi, unit, unit2) VALUES (?, ?, ?, ?, ?, ?)');
  let reindexed = 0;
  for (const [key, v] of newest) {
    const known = snapshot.get(key);
    const rid = known?.rid ?? ++maxRid;
    current.run(rid, v[1], v[2], v[3], v[4], v[0], v[6], v[5]);
    if (Number(v[6]) === 1) continue;
    let rows: { hashes: Buffer[]; ranges: Row[] };
    if (known !== undefined && known.seq === Number(v[0])) rows = { hashes: hashes.get(rid) ?? [], ranges: ranges.get(rid) ?? [] };
    else {
      rows = rebuilder.rows(v);
      reindexed += 1;
    }
    for (const h of rows.hashes) hash.run(h, rid);
    for (const r of rows.ranges) range.run(rid, r[1], r[2], r[3], r[4], r[5]);
  }
  return { reindexed, resources: newest.size };
}
