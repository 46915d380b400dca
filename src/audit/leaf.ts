import type { NewAuditRow } from '../store/index.js';
import { sha256Once } from './tree-hash.js';

/**
 * Canonical, versioned encodings of what each log leaf commits to. The writer and the verifier
 * both call these, so a leaf can be recomputed from the database alone.
 */

export type LeafKind = 'version' | 'audit' | 'rewrap';

/** What a resource version's leaf covers: its identity, metadata, ciphertext and search index rows. */
export interface VersionLeafInput {
  readonly tenant: string;
  readonly type: string;
  readonly id: string;
  readonly versionId: number;
  readonly lastUpdated: string;
  readonly deleted: boolean;
  /** SHA-256 of the ciphertext as first stored (a later rewrap is a leaf of its own); null for a deletion. */
  readonly boxDigest: Uint8Array | null;
  /** Digest of the version's index rows (indexDigest), stored with the version. */
  readonly indexDigest: Uint8Array;
}

export function sha256(data: Uint8Array | string): Buffer {
  return sha256Once(data);
}

/** The leaf data of a resource version (RFC 9162 leaf input; the leaf hash adds the 0x00 prefix). */
export function versionLeafData(v: VersionLeafInput): Buffer {
  return Buffer.from(versionLeafText(v));
}

/** `versionLeafData` as a string (its UTF-8 is the leaf data), for the verifier's `leafHashOfText`. */
export function versionLeafText(v: VersionLeafInput): string {
  // The key version is not a field of its own: it sits in the ciphertext's header, which the digest covers (and a rewrap changes it).
  const fields = [v.tenant, v.type, v.id, v.versionId, v.lastUpdated, v.deleted ? 1 : 0, v.boxDigest === null ? null : hex(v.boxDigest), hex(v.indexDigest)];
  return `vigil:version:v1\n${JSON.stringify(fields)}`;
}

/** What an audit entry's leaf covers: its row as stored, the searchable columns and the canonical body. */
export type AuditLeafInput = Omit<NewAuditRow, 'leaf'>;

/** How every audit body written with leaf format 2 begins (the trail puts `format` first); older bodies are format 1. */
export const AUDIT_FORMAT_2 = '{"format":2,';

/**
 * The leaf format of an audit entry, as its body says. Format 1 commits to the body alone, so the
 * verifier must parse it to hold the columns to it; format 2 commits to the columns as well, so a
 * verifier only hashes the row. Changing the marker changes the body, which either leaf covers.
 */
export function auditLeafFormat(body: string): 1 | 2 {
  return body.startsWith(AUDIT_FORMAT_2) ? 2 : 1;
}

/** The leaf data of an audit entry (format 1 or 2, as its body says). */
export function auditLeafData(row: AuditLeafInput): Buffer {
  return Buffer.from(auditLeafText(row));
}

/**
 * `auditLeafData` as a string (its UTF-8 is the leaf data). Format 2's column array is JSON, which
 * holds no raw line break, so the first one after it starts the body: no two rows share a text.
 */
export function auditLeafText(row: AuditLeafInput): string {
  if (auditLeafFormat(row.body) === 1) return `vigil:audit:v1\n${JSON.stringify([row.tenant, row.body])}`;
  return auditLeafTextV2(JSON.stringify([row.tenant, row.recorded, row.action, row.subtype, row.outcome, row.agent, row.patients]), row.body);
}

/** Format 2's text from the columns already as one JSON array, `[tenant, recorded, action, subtype, outcome, agent, patients]`. */
export function auditLeafTextV2(columns: string, body: string): string {
  return `vigil:audit:v2\n${columns}\n${body}`;
}

/** The leaf data of a re-encryption (`vigil keys rewrap`): which version, and SHA-256 of its ciphertext before and after. */
export function rewrapLeafData(r: { seq: number; versionSeq: number; before: Uint8Array; after: Uint8Array }): Buffer {
  return Buffer.from(`vigil:rewrap:v1\n${JSON.stringify([r.seq, r.versionSeq, hex(r.before), hex(r.after)])}`);
}

export { leafHash, leafHashOfText } from './tree-hash.js';

/** A search index row as the database holds it (hash rows carry no parameter; ranges carry `Type.param`). */
export interface DigestRows {
  readonly hashes: readonly Uint8Array[];
  readonly ranges: readonly { readonly param: string; readonly lo: number; readonly hi: number; readonly unit: Uint8Array | null; readonly unit2: Uint8Array | null }[];
}

/** Digest of a version's search index rows, order-independent, as recomputable from the database. */
export function indexDigest(rows: DigestRows): Buffer {
  const hashes = [...new Set(rows.hashes.map(hex))].sort();
  return indexDigestOf(
    JSON.stringify(hashes),
    rows.ranges.map((r) => ({ param: r.param, lo: r.lo, hi: r.hi, unit: r.unit === null ? '' : hex(r.unit), unit2: r.unit2 === null ? '' : hex(r.unit2) })),
  );
}

/**
 * The same digest from the form the verifier reads in bulk: the hash rows already as a JSON array
 * of sorted, distinct lowercase hex strings, and range units as hex (`''` for none).
 */
export function indexDigestOf(hashesJson: string, ranges: readonly { readonly param: string; readonly lo: number; readonly hi: number; readonly unit: string; readonly unit2: string }[]): Buffer {
  const lines = ranges.map((r) => `${r.param}|${String(r.lo)}|${String(r.hi)}|${r.unit}|${r.unit2}`).sort();
  return sha256(`vigil:index:v1\n[${hashesJson},${JSON.stringify(lines)}]`);
}

/** Lowercase hex of bytes, without copying a Buffer. */
function hex(b: Uint8Array): string {
  return (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength)).toString('hex');
}
