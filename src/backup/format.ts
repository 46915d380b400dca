import { createHash } from 'node:crypto';

/**
 * The on-disk format of a backup set (docs/backup.md). A backup directory holds
 *
 *   chunks/<sha256 hex>       content-addressed chunk files (JSON), shared by every backup of the set
 *   manifests/<id>.json       one signed manifest per backup: `{ "manifest": {...}, "signature": "<note>" }`
 *
 * A chunk holds rows of one table in key order. The append-only tables (versions, audit entries,
 * log leaves, rewraps, checkpoints) are written from the parent's high-water marks on, so an
 * incremental holds only new rows; the mutable tables are written whole, cut at fixed key
 * boundaries, so a part that did not change hashes to a chunk that is already there and costs nothing.
 */

export const MANIFEST_FORMAT = 'vigil-backup/v1';
export const CHUNK_FORMAT = 'vigil-backup-chunk/v1';
export const CHUNKS_DIR = 'chunks';
export const MANIFESTS_DIR = 'manifests';

/** Append-only tables: an incremental holds their rows after the parent's high-water mark. */
export const APPEND_TABLES = ['resource_versions', 'audit_events', 'log_leaves', 'rewraps', 'checkpoints'] as const;
/** Mutable tables: every backup describes them whole (unchanged chunks are shared). */
export const SNAPSHOT_TABLES = ['resource_current', 'search_hash', 'search_range', 'auth_records', 'oauth_clients', 'signing_keys', 'data_keys', 'meta'] as const;
/** `reboxes`: the ciphertext of an older version that `vigil keys rewrap` re-encrypted since the parent. */
export type TableName = (typeof APPEND_TABLES)[number] | (typeof SNAPSHOT_TABLES)[number] | 'reboxes';

/** One chunk file as a manifest lists it. */
export interface ChunkRef {
  readonly table: TableName;
  /** SHA-256 of the file, lowercase hex; also its name under chunks/. */
  readonly sha256: string;
  readonly size: number;
  readonly rows: number;
}

/** The largest key of each append-only table covered by a backup (0: none). */
export interface HighWater {
  readonly versionSeq: number;
  readonly auditSeq: number;
  readonly leafPosition: number;
  readonly rewrapSeq: number;
  readonly checkpointSize: number;
}

export const ZERO_HIGH_WATER: HighWater = { versionSeq: 0, auditSeq: 0, leafPosition: 0, rewrapSeq: 0, checkpointSize: 0 };

/** What a backup commits to; signed as its canonical JSON. */
export interface Manifest {
  readonly format: typeof MANIFEST_FORMAT;
  readonly id: string;
  readonly kind: 'full' | 'incremental';
  readonly createdAt: string;
  /** The backup this one continues, by id and SHA-256 of its canonical manifest; null for a full. */
  readonly parent: { readonly id: string; readonly manifestSha256: string } | null;
  readonly tenant: string;
  /** The FHIR base URL the search index was built with (a restore rebuilds index rows with it). */
  readonly fhirBaseUrl: string;
  /** The parent's high-water marks (all 0 for a full) and this backup's. */
  readonly previous: HighWater;
  readonly highWater: HighWater;
  /** Rows this backup adds, and the current resources at its snapshot. */
  readonly counts: { readonly versions: number; readonly audit: number; readonly leaves: number; readonly rewraps: number; readonly resources: number };
  /** The newest version time and audit time in the snapshot (ISO 8601), or null. */
  readonly lastWriteAt: string | null;
  /** The Merkle tree of the whole log at the snapshot: size and root (base64). */
  readonly tree: { readonly size: number; readonly root: string };
  /** The signed checkpoint (C2SP note) of exactly that tree. */
  readonly checkpoint: string;
  /** The log's origin and public verifier key (`vigil log key`). */
  readonly log: { readonly origin: string; readonly key: string };
  /** The verifier key of the backup signing key (`vigil backup key`). */
  readonly signer: string;
  readonly files: readonly ChunkRef[];
}

/** A manifest file: the manifest and its signature (a signed note over its id and hash). */
export interface ManifestFile {
  readonly manifest: Manifest;
  readonly signature: string;
}

/** JSON with object keys sorted at every level and no whitespace: the bytes that are hashed and signed. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** SHA-256 of a manifest's canonical JSON: how a child names its parent. */
export function manifestHash(manifest: Manifest): string {
  return sha256Hex(canonicalJson(manifest));
}

/** The text the backup key signs for a manifest (a versioned, line-based statement). */
export function signedText(manifest: Manifest): string {
  return `${MANIFEST_FORMAT}\n${manifest.id}\n${manifestHash(manifest)}\n`;
}

/** A backup id: its time (sortable, safe as a file name) and kind, e.g. `20250102T030405678Z-full`. */
export function backupId(at: Date, kind: Manifest['kind']): string {
  return `${at.toISOString().replace(/[-:.]/g, '')}-${kind}`;
}
