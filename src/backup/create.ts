import { appendFileSync } from 'node:fs';
import type { Vigil } from '../runtime/index.js';
import { VigilError } from '../errors.js';
import { logKeys } from '../audit/log.js';
import { MerkleFrontier } from '../audit/frontier.js';
import { signCheckpoint } from '../audit/checkpoint.js';
import { chainOf, loadManifests, type LoadedManifest } from './chain.js';
import { ChunkStore } from './chunk-store.js';
import { APPEND_TABLES, SNAPSHOT_TABLES, ZERO_HIGH_WATER, backupId, canonicalJson, type ChunkRef, type HighWater, type Manifest } from './format.js';
import { backupKeys, manifestSignedBy, signManifest } from './signing.js';
import { SnapshotReader } from './snapshot-reader.js';
import { TABLES, encodeChunk, type Row, type TableSpec } from './tables.js';

/** Rows per chunk of an append-only table, and the byte size after which a chunk is cut early. */
const CHUNK_ROWS = 2000;
const CHUNK_BYTES = 4 * 1024 * 1024;
/** Per-resource tables are cut at every multiple of this many rids, so unchanged ranges give the same chunk. */
const RID_BUCKET = 512;

export interface CreateOptions {
  /** The backup set directory (created when missing). */
  readonly to: string;
  /** `auto`: incremental when the set has a whole chain to continue, else full. */
  readonly kind: 'full' | 'incremental' | 'auto';
  readonly now?: () => Date;
  /** Told after each chunk with the versions and audit entries written so far, and their total. */
  readonly onProgress?: (done: number, total: number) => void;
  /** Called after each chunk is written (tests abort a backup midway through it). */
  readonly afterChunk?: (written: number) => void;
}

/** What `vigil backup create --json` prints. */
export interface CreateResult {
  readonly id: string;
  readonly kind: Manifest['kind'];
  readonly dir: string;
  readonly parent: string | null;
  readonly versions: number;
  readonly audit: number;
  readonly leaves: number;
  readonly resources: number;
  readonly files: number;
  readonly newFiles: number;
  readonly bytes: number;
  readonly newBytes: number;
  readonly tree: { readonly size: number; readonly root: string };
  readonly checkpoint: string;
  /** The largest key of each append-only table the backup covers. */
  readonly highWater: HighWater;
  readonly seconds: number;
  /** Versions written per second (incrementals: only the new ones). */
  readonly resourcesPerSecond: number;
}

/** Picks the backup to continue, checking it was signed by this server's backup key. */
function parentOf(chunks: ChunkStore, kind: CreateOptions['kind'], key: string): LoadedManifest | undefined {
  if (kind === 'full') return undefined;
  const { manifests } = loadManifests(chunks);
  const head = manifests[manifests.length - 1];
  if (head === undefined) {
    if (kind === 'incremental') throw new VigilError('ERR_BACKUP', 'An incremental backup needs an earlier backup in the set; take a full one first (--full)');
    return undefined;
  }
  try {
    for (const m of chainOf(head, manifests)) if (!manifestSignedBy(m.file, key)) throw new VigilError('ERR_BACKUP', `Backup ${m.manifest.id} is not signed by this server's backup key`);
  } catch (err) {
    // Never continue a chain that does not verify: start a new full one instead (auto) or refuse.
    if (kind === 'incremental') throw err;
    return undefined;
  }
  return head;
}

/**
 * Takes a backup of a running (or stopped) Vigil: one read snapshot of the data directory, its
 * rows written as content-addressed chunks, a checkpoint of exactly the snapshot's log signed and
 * stored, and a signed manifest written last. The data stays sealed as stored.
 */
export async function createBackup(vigil: Vigil, o: CreateOptions): Promise<CreateResult> {
  const started = performance.now();
  const now = o.now ?? (() => new Date());
  const { tenant } = vigil.config;
  const keys = backupKeys(vigil.keyring, tenant);
  const chunks = new ChunkStore(o.to);
  chunks.prepare();
  const parent = parentOf(chunks, o.kind, keys.key);
  const previous: HighWater = parent?.manifest.highWater ?? ZERO_HIGH_WATER;
  const reader = new SnapshotReader(vigil.config.dataDir);
  const files: ChunkRef[] = [];
  const stats = { newFiles: 0, bytes: 0, newBytes: 0, written: 0 };
  let manifest: Manifest;
  try {
    const hw = reader.highWater();
    if (hw.leafPosition < previous.leafPosition || hw.versionSeq < previous.versionSeq) throw new VigilError('ERR_BACKUP', 'The data directory is behind the last backup in this set (restored or replaced?); take a full backup into a new set');
    const total = Math.max(1, hw.versionSeq - previous.versionSeq + hw.auditSeq - previous.auditSeq);
    let done = 0;
    const flush = (table: TableSpec, rows: Row[]): void => {
      if (rows.length === 0) return;
      const bytes = encodeChunk(table, rows);
      const put = chunks.putChunk(bytes);
      files.push({ table: table.name, sha256: put.sha256, size: bytes.length, rows: rows.length });
      stats.bytes += bytes.length;
      if (put.written) {
        stats.newFiles += 1;
        stats.newBytes += bytes.length;
      }
      stats.written += 1;
      if (table.name === 'resource_versions' || table.name === 'audit_events') {
        done += rows.length;
        o.onProgress?.(done, total);
      }
      o.afterChunk?.(stats.written);
    };
    const write = (table: TableSpec, rows: Iterable<Row>, bucketOf?: (row: Row) => number): number => {
      let batch: Row[] = [];
      let size = 0;
      let bucket: number | undefined;
      let n = 0;
      for (const row of rows) {
        const b = bucketOf?.(row);
        if (bucketOf !== undefined ? b !== bucket && batch.length > 0 : batch.length >= CHUNK_ROWS || size >= CHUNK_BYTES) {
          flush(table, batch);
          batch = [];
          size = 0;
        }
        bucket = b;
        batch.push(row);
        n += 1;
        if (bucketOf === undefined) for (const v of row) size += Buffer.isBuffer(v) ? v.length : typeof v === 'string' ? v.length : 8;
      }
      flush(table, batch);
      return n;
    };
    const keyOf: Record<(typeof APPEND_TABLES)[number], keyof HighWater> = { resource_versions: 'versionSeq', audit_events: 'auditSeq', log_leaves: 'leafPosition', rewraps: 'rewrapSeq', checkpoints: 'checkpointSize' };
    const added: Record<string, number> = {};
    for (const name of APPEND_TABLES) added[name] = write(TABLES[name], reader.rowsAfter(TABLES[name], previous[keyOf[name]], hw[keyOf[name]]));
    write(TABLES.reboxes, reader.reboxes(previous.rewrapSeq, hw.rewrapSeq, previous.versionSeq));
    for (const name of SNAPSHOT_TABLES) {
      const spec = TABLES[name];
      write(spec, reader.allRows(spec), spec.key === 'rid' ? (row) => Math.floor(Number(row[0]) / RID_BUCKET) : undefined);
    }

    // The log as of the snapshot, and a checkpoint of exactly it, signed now.
    const frontier = new MerkleFrontier();
    for (const hash of reader.leafHashes(hw.leafPosition)) frontier.append(hash);
    const root = frontier.root();
    const origin = vigil.log.origin;
    const note = signCheckpoint({ origin, size: frontier.size, rootHash: root }, logKeys(vigil.keyring.derive(`log-signing:${tenant}`), origin).signer);
    await keepCheckpoint(vigil, frontier.size, root, note, now());

    const at = now();
    manifest = {
      format: 'vigil-backup/v1',
      id: backupId(at, parent === undefined ? 'full' : 'incremental'),
      kind: parent === undefined ? 'full' : 'incremental',
      createdAt: at.toISOString(),
      parent: parent === undefined ? null : { id: parent.manifest.id, manifestSha256: parent.sha256 },
      tenant,
      fhirBaseUrl: vigil.config.fhirBaseUrl,
      previous,
      highWater: hw,
      counts: { versions: added['resource_versions'] ?? 0, audit: added['audit_events'] ?? 0, leaves: added['log_leaves'] ?? 0, rewraps: added['rewraps'] ?? 0, resources: reader.count('resource_current') },
      lastWriteAt: reader.lastWriteAt(),
      tree: { size: frontier.size, root: root.toString('base64') },
      checkpoint: note,
      log: { origin, key: vigil.log.verifierKey },
      signer: keys.key,
      files,
    };
  } finally {
    reader.close();
  }
  // The manifest goes last: until it exists, the chunks above belong to no backup.
  chunks.putManifest(manifest.id, Buffer.from(`${canonicalJson(signManifest({ manifest }, keys.signer))}\n`));
  const seconds = (performance.now() - started) / 1000;
  return {
    id: manifest.id,
    kind: manifest.kind,
    dir: o.to,
    parent: manifest.parent?.id ?? null,
    versions: manifest.counts.versions,
    audit: manifest.counts.audit,
    leaves: manifest.counts.leaves,
    resources: manifest.counts.resources,
    files: files.length,
    newFiles: stats.newFiles,
    bytes: stats.bytes,
    newBytes: stats.newBytes,
    tree: manifest.tree,
    checkpoint: manifest.checkpoint,
    highWater: manifest.highWater,
    seconds: Math.round(seconds * 1000) / 1000,
    resourcesPerSecond: Math.round(manifest.counts.versions / Math.max(seconds, 1e-6)),
  };
}

/** Stores the backup's checkpoint in the live log (and its witness file) unless that size is signed already. */
async function keepCheckpoint(vigil: Vigil, size: number, root: Buffer, note: string, at: Date): Promise<void> {
  if ((await vigil.store.checkpointAt(size)) !== undefined) return;
  try {
    await vigil.store.addCheckpoint({ size, root, note, createdAt: at.toISOString() });
  } catch (err) {
    // The server may have signed the same size meanwhile (Ed25519 is deterministic: the same note).
    if ((await vigil.store.checkpointAt(size)) === undefined) throw err;
    return;
  }
  if (vigil.config.witnessFile !== undefined) appendFileSync(vigil.config.witnessFile, `${JSON.stringify({ size, note })}\n`, { mode: 0o600 });
}
