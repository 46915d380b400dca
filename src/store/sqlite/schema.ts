/**
 * The SQLite schema. Resource content lives only in `resource_versions.box`, sealed; the other
 * columns hold ids, version numbers and times, never names or identifiers.
 */
export const SCHEMA_VERSION = 1;

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS data_keys (
  version INTEGER PRIMARY KEY,
  wrapped BLOB NOT NULL,
  created_at TEXT NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS signing_keys (
  kid TEXT PRIMARY KEY,
  alg TEXT NOT NULL,
  public_jwk TEXT NOT NULL,
  private_box BLOB NOT NULL,
  created_at TEXT NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS oauth_clients (
  client_id TEXT PRIMARY KEY,
  secret_hash TEXT NOT NULL,
  name TEXT NOT NULL,
  scopes TEXT NOT NULL,
  roles TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  row_mac TEXT NOT NULL,
  settings TEXT NOT NULL DEFAULT '{}'
) STRICT;

-- Users, sessions, authorization codes, refresh tokens, lockouts and replay guards. The key is a
-- random id or a keyed HMAC of a name, never the name; the body is sealed under a data key.
CREATE TABLE IF NOT EXISTS auth_records (
  kind TEXT NOT NULL,
  key TEXT NOT NULL,
  box BLOB NOT NULL,
  expires_at INTEGER,
  PRIMARY KEY (kind, key)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS auth_records_expiry ON auth_records (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE IF NOT EXISTS resource_versions (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant TEXT NOT NULL,
  type TEXT NOT NULL,
  id TEXT NOT NULL,
  version_id INTEGER NOT NULL,
  last_updated TEXT NOT NULL,
  deleted INTEGER NOT NULL,
  key_version INTEGER,
  box BLOB,
  index_digest BLOB NOT NULL,
  UNIQUE (tenant, type, id, version_id)
);
CREATE INDEX IF NOT EXISTS resource_versions_type ON resource_versions (tenant, type, seq);
CREATE INDEX IF NOT EXISTS resource_versions_key ON resource_versions (key_version, seq);

CREATE TABLE IF NOT EXISTS resource_current (
  rid INTEGER PRIMARY KEY,
  tenant TEXT NOT NULL,
  type TEXT NOT NULL,
  id TEXT NOT NULL,
  version_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  last_updated TEXT NOT NULL,
  UNIQUE (tenant, type, id)
);
-- A type's resources in rid (creation) order, the default order of search pages: the rowid
-- follows the columns, so a type's entries are in rid order. Stores made before gain it on open.
CREATE INDEX IF NOT EXISTS resource_current_type ON resource_current (tenant, type);

-- Search index of current versions, keyed by resource_current.rid. A hash is a keyed HMAC over
-- (type, parameter, form, value) under the tenant's index key, so it needs no other column; ranges
-- hold only non-identifying dates, numbers and quantities, under 'Type.param'.
CREATE TABLE IF NOT EXISTS search_hash (
  hash BLOB NOT NULL,
  rid INTEGER NOT NULL,
  PRIMARY KEY (hash, rid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS search_hash_rid ON search_hash (rid);

CREATE TABLE IF NOT EXISTS search_range (
  rid INTEGER NOT NULL,
  param TEXT NOT NULL,
  lo REAL NOT NULL,
  hi REAL NOT NULL,
  unit BLOB,
  unit2 BLOB
);
CREATE INDEX IF NOT EXISTS search_range_lo ON search_range (param, lo);
-- Every column, so that testing one resource's ranges (a date or quantity beside a code, the
-- verifier's scan in rid order) reads this index alone, not each row of the table too. It
-- replaces search_range_rid (rid alone), which the store drops on open.
CREATE INDEX IF NOT EXISTS search_range_rid_covering ON search_range (rid, param, lo, hi, unit, unit2);

-- The audit trail: one entry per request (and per security event). The body is canonical JSON
-- with ids and codes only; the other columns repeat parts of it for searching.
CREATE TABLE IF NOT EXISTS audit_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant TEXT NOT NULL,
  recorded TEXT NOT NULL,
  action TEXT NOT NULL,
  subtype TEXT NOT NULL,
  outcome TEXT NOT NULL,
  agent TEXT,
  patients TEXT NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_events_recorded ON audit_events (tenant, recorded);
CREATE INDEX IF NOT EXISTS audit_events_agent ON audit_events (tenant, agent);

-- The RFC 9162 log: one leaf per resource version, audit entry and re-encryption, in commit order.
CREATE TABLE IF NOT EXISTS log_leaves (
  position INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  ref INTEGER NOT NULL,
  hash BLOB NOT NULL
);

-- Re-encryptions (vigil keys rewrap): which version, and the SHA-256 of its ciphertext before and after.
CREATE TABLE IF NOT EXISTS rewraps (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  version_seq INTEGER NOT NULL,
  before BLOB NOT NULL,
  after BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS rewraps_version ON rewraps (version_seq, seq);

-- Signed checkpoints (C2SP tlog-checkpoint notes). frontier: the roots of the perfect subtrees at
-- that size, largest first (32 bytes each), so a process that opens the log reads only the leaves
-- after it; it is checked against the signed root before use, and NULL in stores made before.
CREATE TABLE IF NOT EXISTS checkpoints (
  size INTEGER PRIMARY KEY,
  root BLOB NOT NULL,
  note TEXT NOT NULL,
  created_at TEXT NOT NULL,
  frontier BLOB
);

CREATE TRIGGER IF NOT EXISTS audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit entries are immutable'); END;
CREATE TRIGGER IF NOT EXISTS audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit entries are immutable'); END;
CREATE TRIGGER IF NOT EXISTS log_leaves_no_delete BEFORE DELETE ON log_leaves
BEGIN SELECT RAISE(ABORT, 'the log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS log_leaves_no_update BEFORE UPDATE ON log_leaves
BEGIN SELECT RAISE(ABORT, 'the log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS checkpoints_no_delete BEFORE DELETE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
CREATE TRIGGER IF NOT EXISTS checkpoints_no_update BEFORE UPDATE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;

-- Versions are immutable: only re-encryption (box, key_version) may touch a stored row.
CREATE TRIGGER IF NOT EXISTS resource_versions_no_delete BEFORE DELETE ON resource_versions
BEGIN SELECT RAISE(ABORT, 'resource versions are immutable'); END;
CREATE TRIGGER IF NOT EXISTS resource_versions_no_update
BEFORE UPDATE OF seq, tenant, type, id, version_id, last_updated, deleted, index_digest ON resource_versions
BEGIN SELECT RAISE(ABORT, 'resource versions are immutable'); END;
`;
