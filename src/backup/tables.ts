import { VigilError } from '../errors.js';
import { CHUNK_FORMAT, type TableName } from './format.js';

/**
 * How each table is written to and read from chunks: its columns in order, which of them are
 * blobs (base64 in the chunk), and the key that orders it. The columns mirror
 * src/store/sqlite/schema.ts; a restore inserts them back unchanged, ciphertext included.
 */
export interface TableSpec {
  readonly name: TableName;
  readonly columns: readonly string[];
  readonly blobs: ReadonlySet<string>;
  /** ORDER BY of the export: the key first, so chunk contents are deterministic. */
  readonly order: string;
  /** The integer key of an append-only table, or the rid of a per-resource table. */
  readonly key?: string;
}

function spec(name: TableName, columns: string, blobs: string, order: string, key?: string): TableSpec {
  return { name, columns: columns.split(',').map((c) => c.trim()), blobs: new Set(blobs === '' ? [] : blobs.split(',')), order, ...(key === undefined ? {} : { key }) };
}

export const TABLES: Readonly<Record<TableName, TableSpec>> = {
  resource_versions: spec('resource_versions', 'seq, tenant, type, id, version_id, last_updated, deleted, key_version, box, index_digest', 'box,index_digest', 'seq', 'seq'),
  audit_events: spec('audit_events', 'seq, tenant, recorded, action, subtype, outcome, agent, patients, body', '', 'seq', 'seq'),
  log_leaves: spec('log_leaves', 'position, kind, ref, hash', 'hash', 'position', 'position'),
  rewraps: spec('rewraps', 'seq, version_seq, before, after', 'before,after', 'seq', 'seq'),
  checkpoints: spec('checkpoints', 'size, root, note, created_at', 'root', 'size', 'size'),
  reboxes: spec('reboxes', 'seq, key_version, box', 'box', 'seq', 'seq'),
  resource_current: spec('resource_current', 'rid, tenant, type, id, version_id, seq, deleted, last_updated', '', 'rid', 'rid'),
  search_hash: spec('search_hash', 'rid, hash', 'hash', 'rid, hash', 'rid'),
  search_range: spec('search_range', 'rid, param, lo, hi, unit, unit2', 'unit,unit2', 'rid, param, lo, hi, unit, unit2', 'rid'),
  auth_records: spec('auth_records', 'kind, key, box, expires_at', 'box', 'kind, key'),
  oauth_clients: spec('oauth_clients', 'client_id, secret_hash, name, scopes, roles, disabled, created_at, row_mac, settings', '', 'client_id'),
  signing_keys: spec('signing_keys', 'kid, alg, public_jwk, private_box, created_at', 'private_box', 'kid'),
  data_keys: spec('data_keys', 'version, wrapped, created_at', 'wrapped', 'version'),
  meta: spec('meta', 'key, value', '', 'key'),
};

/** A row as read from SQLite (`raw()` mode): values in column order. */
export type Row = unknown[];

/** Encodes rows of one table as a chunk file's bytes (JSON; blobs in base64, null kept). */
export function encodeChunk(table: TableSpec, rows: readonly Row[]): Buffer {
  const blobAt = table.columns.map((c) => table.blobs.has(c));
  const out = rows.map((row) => row.map((v, i) => (blobAt[i] === true && v !== null ? Buffer.from(v as Uint8Array).toString('base64') : encodeValue(v))));
  return Buffer.from(JSON.stringify({ format: CHUNK_FORMAT, table: table.name, columns: table.columns, rows: out }));
}

/** Decodes a chunk file back into rows (blobs as Buffers); refuses a chunk of another table or layout. */
export function decodeChunk(table: TableSpec, bytes: Buffer): Row[] {
  let parsed: { format?: unknown; table?: unknown; columns?: unknown; rows?: unknown };
  try {
    parsed = JSON.parse(bytes.toString('utf8')) as typeof parsed;
  } catch (err) {
    throw new VigilError('ERR_BACKUP', 'A backup chunk is not valid JSON', { cause: err });
  }
  if (parsed.format !== CHUNK_FORMAT || parsed.table !== table.name || JSON.stringify(parsed.columns) !== JSON.stringify(table.columns) || !Array.isArray(parsed.rows)) {
    throw new VigilError('ERR_BACKUP', `A backup chunk does not hold ${table.name} rows in the expected layout`);
  }
  const blobAt = table.columns.map((c) => table.blobs.has(c));
  return (parsed.rows as unknown[][]).map((row) => row.map((v, i) => (blobAt[i] === true && typeof v === 'string' ? Buffer.from(v, 'base64') : decodeValue(v))));
}

/** JSON has no infinities (open range bounds are stored as them): they travel as `{"f":"Infinity"}`. */
function encodeValue(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number' && !Number.isFinite(v)) return { f: String(v) };
  return v;
}

function decodeValue(v: unknown): unknown {
  if (typeof v === 'object' && v !== null && typeof (v as { f?: unknown }).f === 'string') return Number((v as { f: string }).f);
  return v;
}
