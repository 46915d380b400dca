import type { AuditLeafRow, AuditRow, LeafRow, VersionRow } from '../types.js';

/**
 * The bulk reads of the log and the rows its leaves commit to, in position or sequence order: one
 * SQL text and one row builder each, shared by the store and the read-only connections of worker
 * threads (reader.ts). Statements run in raw mode (arrays): the driver then makes no object per
 * row, and the one built here has a fixed shape. On `vigil verify` of an audit-heavy log this
 * halves the cost of reading a row.
 */

// The hash comes as hex: the driver gives each blob a Buffer of its own memory, which costs twice
// what hex(), and a Buffer from the pool, do (0.34 µs a leaf).
export const LEAVES_FROM = 'SELECT position, kind, ref, hex(hash) FROM log_leaves WHERE position >= ? ORDER BY position LIMIT ?';
export const AUDIT_FROM = 'SELECT seq, tenant, recorded, action, subtype, outcome, agent, patients, body FROM audit_events WHERE seq >= ? ORDER BY seq LIMIT ?';
// SQLite's json_array() escapes text as JSON.stringify does (the verifier falls back to the latter
// if ever they differ), and one string per row costs half of seven columns stringified in JavaScript.
export const AUDIT_LEAVES_FROM = 'SELECT seq, json_array(tenant, recorded, action, subtype, outcome, agent, patients), body FROM audit_events WHERE seq >= ? ORDER BY seq LIMIT ?';
export const VERSION_COLUMNS = 'seq, tenant, type, id, version_id, last_updated, deleted, key_version, box, index_digest';
export const VERSIONS_FROM = `SELECT ${VERSION_COLUMNS} FROM resource_versions WHERE seq >= ? ORDER BY seq LIMIT ?`;

type RawLeaf = [position: number, kind: string, ref: number, hashHex: string];
type RawAuditLeaf = [seq: number, columns: string, body: string];
type RawAudit = [seq: number, tenant: string, recorded: string, action: string, subtype: string, outcome: string, agent: string | null, patients: string, body: string];
type RawVersion = [seq: number, tenant: string, type: string, id: string, versionId: number, lastUpdated: string, deleted: number, keyVersion: number | null, box: Buffer | null, indexDigest: Buffer];

export function leafRows(raw: unknown[]): LeafRow[] {
  return (raw as RawLeaf[]).map(([position, kind, ref, hashHex]) => ({ position, kind, ref, hash: Buffer.from(hashHex, 'hex') }));
}

export function auditRows(raw: unknown[]): AuditRow[] {
  return (raw as RawAudit[]).map(([seq, tenant, recorded, action, subtype, outcome, agent, patients, body]) => ({ seq, tenant, recorded, action, subtype, outcome, agent, patients, body }));
}

export function auditLeafRows(raw: unknown[]): AuditLeafRow[] {
  return (raw as RawAuditLeaf[]).map(([seq, columns, body]) => ({ seq, columns, body }));
}

export function versionRows(raw: unknown[]): VersionRow[] {
  return (raw as RawVersion[]).map(([seq, tenant, type, id, versionId, lastUpdated, deleted, keyVersion, box, indexDigest]) => ({ seq, tenant, type, id, versionId, lastUpdated, deleted: deleted === 1, keyVersion, box, indexDigest }));
}
