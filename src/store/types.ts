import type { DataKeyStore } from '../crypto/index.js';

/** One immutable version of one resource, as stored: the content is a sealed box, never plaintext. */
export interface VersionRow {
  /** Global commit order of this version within the store. */
  readonly seq: number;
  readonly tenant: string;
  readonly type: string;
  readonly id: string;
  readonly versionId: number;
  /** ISO 8601 instant in UTC (`Date#toISOString`), so text order is time order. */
  readonly lastUpdated: string;
  readonly deleted: boolean;
  /** Data key version that sealed `box`; null for a deletion, which has no content. */
  readonly keyVersion: number | null;
  readonly box: Uint8Array | null;
  /** Digest of the search index rows written with this version (audit/leaf.ts). */
  readonly indexDigest: Uint8Array;
  /**
   * The resource's row number in the store, given by searches: fixed when the resource is first
   * created, so it orders resources by creation. Searches page by it unless sorted otherwise.
   */
  readonly rid?: number;
}

/** A version to append, with the hash of its log leaf (appended in the same transaction). */
export type NewVersionRow = Omit<VersionRow, 'seq'> & { readonly leaf: Uint8Array };

/** An audit entry to append; `body` is its canonical JSON, the rest repeats parts of it for search. */
export interface NewAuditRow {
  readonly tenant: string;
  readonly recorded: string;
  readonly action: string;
  readonly subtype: string;
  readonly outcome: string;
  readonly agent: string | null;
  /** Patient ids the entry concerns, space-separated with a leading and trailing space. */
  readonly patients: string;
  readonly body: string;
  readonly leaf: Uint8Array;
}

export interface AuditRow extends Omit<NewAuditRow, 'leaf'> {
  readonly seq: number;
}

/**
 * An audit row as `vigil verify` reads it: the searchable columns (tenant, recorded, action,
 * subtype, outcome, agent, patients) as one JSON array the database builds, and the body. A format 2
 * leaf hashes these two texts as they are (audit/leaf.ts), with no JSON to parse or write per row.
 */
export interface AuditLeafRow {
  readonly seq: number;
  readonly columns: string;
  readonly body: string;
}

export interface AuditQuery {
  readonly tenant: string;
  readonly patient?: string;
  readonly agent?: string;
  readonly action?: string;
  readonly outcome?: string;
  readonly from?: string;
  readonly to?: string;
  readonly beforeSeq?: number;
  readonly limit: number;
}

export interface LeafRow {
  readonly position: number;
  readonly kind: string;
  readonly ref: number;
  readonly hash: Uint8Array;
}

export interface CheckpointRow {
  readonly size: number;
  readonly root: Uint8Array;
  readonly note: string;
  readonly createdAt: string;
  /**
   * The Merkle frontier at `size` (MerkleFrontier.hashes(), concatenated): unsigned, so a reader
   * must check that it folds to the signed root. Absent from checkpoints stored before it was kept.
   */
  readonly frontier?: Uint8Array;
}

/** The head of one resource: its newest version. */
export interface CurrentRow {
  readonly versionId: number;
  readonly deleted: boolean;
  readonly lastUpdated: string;
}

export interface HistoryQuery {
  readonly tenant: string;
  readonly type?: string;
  readonly id?: string;
  /** Only versions with lastUpdated >= since (ISO, UTC). */
  readonly since?: string;
  /** Only versions with seq < beforeSeq (paging, newest first). */
  readonly beforeSeq?: number;
  readonly count: number;
}

export interface HistoryPage {
  readonly rows: VersionRow[];
  readonly total: number;
}

export interface OAuthClientRow {
  readonly clientId: string;
  readonly secretHash: string;
  readonly name: string;
  /** Space-separated SMART scopes this client may be granted. */
  readonly scopes: string;
  readonly roles: readonly string[];
  readonly disabled: boolean;
  readonly createdAt: string;
  /** MAC over the other fields, keyed from the master key (auth/clients.ts). */
  readonly rowMac: string;
  /** JSON of the client's other settings (grants, redirect URIs, public, JWKS URL); `{}` for none. */
  readonly settings: string;
}

/** A sealed record of the auth module (user, session, code, refresh token, lockout...). */
export interface AuthRecordRow {
  readonly key: string;
  readonly box: Uint8Array;
  /** Milliseconds since the epoch; null for records that do not expire. */
  readonly expiresAt: number | null;
}

export interface SigningKeyRow {
  readonly kid: string;
  readonly alg: string;
  readonly publicJwk: string;
  /** The private JWK, sealed under the key-encryption key. */
  readonly privateBox: Uint8Array;
  readonly createdAt: string;
}

/** Work done inside one store transaction: everything in it commits together or not at all. */
export interface StoreTx {
  current(tenant: string, type: string, id: string): Promise<CurrentRow | undefined>;
  append(row: NewVersionRow): Promise<VersionRow>;
  /** Appends an audit entry and its log leaf; returns the entry's sequence number. */
  appendAudit(row: NewAuditRow): Promise<number>;
  /** Replaces the search index rows of a resource (none: removes them, as for a deletion). */
  replaceIndex(tenant: string, type: string, id: string, rows: IndexRows | undefined): Promise<void>;
  /** Current versions of resources, read inside the transaction (sees its own writes). */
  readCurrentMany(tenant: string, type: string, ids: readonly string[]): Promise<VersionRow[]>;
  /** Candidate search inside the transaction (sees its own writes), for conditional operations. */
  searchCandidates(query: CandidateQuery): Promise<VersionRow[]>;
  /** Candidate count inside the transaction (sees its own writes). */
  countCandidates(query: CandidateCount): Promise<number>;
  /** Whether any search index row has one of `hashes` (inside the transaction). */
  hasAnyHash(hashes: readonly Uint8Array[]): Promise<boolean>;
}

/** What countCandidates counts: the clauses of a search; with `cap`, counting stops past it. */
export type CandidateCount = Omit<CandidateQuery, 'limit' | 'order' | 'afterId' | 'beforeId' | 'afterRid' | 'beforeRid' | 'offset'> & { readonly cap?: number };

/** A version to re-encrypt under the newest data key. */
export interface RewrapCandidate {
  readonly seq: number;
  readonly tenant: string;
  readonly type: string;
  readonly id: string;
  readonly versionId: number;
  readonly box: Uint8Array;
}

/**
 * The persistence interface. Backends: SQLite (embedded default); PostgreSQL later, held to the same
 * conformance suite (store/conformance.ts).
 */
export interface Store extends DataKeyStore {
  readonly kind: 'sqlite' | 'postgres';
  /** Runs `fn` in one transaction; transactions never interleave. */
  tx<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  readCurrent(tenant: string, type: string, id: string): Promise<VersionRow | undefined>;
  readVersion(tenant: string, type: string, id: string, versionId: number): Promise<VersionRow | undefined>;
  history(query: HistoryQuery): Promise<HistoryPage>;
  /** Current, non-deleted versions matching every clause, in the asked order. */
  searchCandidates(query: CandidateQuery): Promise<VersionRow[]>;
  /** How many current resources match; with `cap`, counting stops past it (the answer is then `cap + 1`). */
  countCandidates(query: CandidateCount): Promise<number>;
  /** Current, non-deleted versions of the given ids (any order; missing ones left out). */
  readCurrentMany(tenant: string, type: string, ids: readonly string[]): Promise<VersionRow[]>;
  /**
   * Whether any search index row has one of `hashes`: one index probe each, so a search can tell
   * whether rows of an older index format remain (their marker hashes) without reading the index.
   */
  hasAnyHash(hashes: readonly Uint8Array[]): Promise<boolean>;

  countVersionsBelowKey(keyVersion: number): Promise<number>;
  listVersionsBelowKey(keyVersion: number, afterSeq: number, limit: number): Promise<RewrapCandidate[]>;
  /**
   * Replaces sealed boxes (re-encryption only) and records each as a rewrap with its leaf;
   * `leaf` computes the leaf hash from the rewrap's sequence number and digests.
   */
  replaceBoxes(items: readonly { seq: number; oldBox: Uint8Array; box: Uint8Array; keyVersion: number }[], leaf: (rewrap: RewrapRow) => Uint8Array): Promise<number>;
  /** Rewraps from `fromSeq`, in order (for the verifier). */
  readRewraps(fromSeq: number, limit: number): Promise<RewrapRow[]>;

  /** Appends an audit entry (and its leaf) in a transaction of its own. */
  appendAudit(row: NewAuditRow): Promise<number>;
  searchAudit(query: AuditQuery): Promise<AuditRow[]>;
  readAudit(tenant: string, seq: number): Promise<AuditRow | undefined>;

  /** Log leaves from `fromPosition` (1-based), in order. */
  readLeaves(fromPosition: number, limit: number): Promise<LeafRow[]>;
  countLeaves(): Promise<number>;
  /** Resource versions by sequence number (for the verifier), in order. */
  readVersionsBySeq(fromSeq: number, limit: number): Promise<VersionRow[]>;
  readAuditBySeq(fromSeq: number, limit: number): Promise<AuditRow[]>;
  /** Audit entries by sequence number as the verifier reads them, in order. */
  readAuditLeavesBySeq(fromSeq: number, limit: number): Promise<AuditLeafRow[]>;
  /**
   * Every current resource in rid order with its search index rows as they are now and the index
   * digest its version row holds, in pages (for the verifier: one ordered pass over the tables).
   */
  scanCurrentIndex(): AsyncIterable<CurrentIndexRow[]>;
  /** How another thread opens its own read-only view of this store (`openStoreReader`). */
  readerSpec(): StoreReaderSpec;
  listCurrent(fromRid: number, limit: number): Promise<{ rid: number; tenant: string; type: string; id: string; seq: number; deleted: boolean }[]>;
  addCheckpoint(row: CheckpointRow): Promise<void>;
  listCheckpoints(): Promise<CheckpointRow[]>;
  /** The newest checkpoint, without reading them all. */
  latestCheckpoint(): Promise<CheckpointRow | undefined>;
  /** The newest checkpoint stored with its frontier (where a process opening the log resumes). */
  latestCheckpointWithFrontier(): Promise<CheckpointRow | undefined>;
  /** The checkpoint signed at `size`, if there is one. */
  checkpointAt(size: number): Promise<CheckpointRow | undefined>;

  getClient(clientId: string): Promise<OAuthClientRow | undefined>;
  insertClient(row: OAuthClientRow): Promise<void>;
  countClients(): Promise<number>;
  listClients(): Promise<OAuthClientRow[]>;
  /** Replaces a client row (same id); false when there is no such client. */
  updateClient(row: OAuthClientRow): Promise<boolean>;

  getAuthRecord(kind: string, key: string): Promise<AuthRecordRow | undefined>;
  /** Inserts or replaces a record. */
  putAuthRecord(kind: string, row: AuthRecordRow): Promise<void>;
  /** Inserts a record only if none has the key; false when one already does (replay guards). */
  insertAuthRecord(kind: string, row: AuthRecordRow): Promise<boolean>;
  /** Deletes and returns a record in one step, so a one-time code is used at most once. */
  takeAuthRecord(kind: string, key: string): Promise<AuthRecordRow | undefined>;
  deleteAuthRecord(kind: string, key: string): Promise<boolean>;
  listAuthRecords(kind: string): Promise<AuthRecordRow[]>;
  /** Deletes records whose expiry is at or before `nowMs`; returns how many. */
  purgeAuthRecords(nowMs: number): Promise<number>;

  listSigningKeys(): Promise<SigningKeyRow[]>;
  insertSigningKey(row: SigningKeyRow): Promise<void>;

  /**
   * Runs `fn` with every read seeing one snapshot of the store (a read transaction), so a long
   * reader such as `vigil verify` is not confused by writes that land meanwhile.
   */
  snapshot<T>(fn: () => Promise<T>): Promise<T>;
  /** Refreshes query planner statistics (after bulk loads, and from time to time). */
  optimize(): Promise<void>;
  /**
   * Copies the whole write-ahead log into the database and empties it, waiting up to the busy
   * timeout for readers of other connections; false when some of it had to stay (a reader held it).
   */
  checkpoint(): Promise<boolean>;
  close(): Promise<void>;
}

/** A current resource and its search index rows as they are now, for the verifier. */
export interface CurrentIndexRow {
  readonly rid: number;
  readonly deleted: boolean;
  /** The index digest of the version row the current pointer names; null when that row is missing. */
  readonly committed: Uint8Array | null;
  /** Its hash rows as a JSON array of distinct lowercase hex strings in byte order, e.g. `["0a1b…","3c4d…"]` (`[]` for none). */
  readonly hashesJson: string;
  /** Its range rows, units as lowercase hex (`''` for none). */
  readonly ranges: readonly { readonly param: string; readonly lo: number; readonly hi: number; readonly unit: string; readonly unit2: string }[];
}

/** Where a store lives, so that a worker thread can open a read-only view of it. */
export interface StoreReaderSpec {
  readonly kind: 'sqlite';
  readonly path: string;
}

/** A read-only view of a store in a read transaction of its own (synchronous: it runs in a worker thread). */
export interface StoreReader {
  /**
   * The highest leaf position in this snapshot, read when it opened: the leaf count of a log with
   * no gap, in O(log n) where counting reads every leaf.
   */
  lastLeaf(): number;
  scanCurrentIndex(): Iterable<CurrentIndexRow[]>;
  /** The same reads as the store's `readLeaves`, `readVersionsBySeq`, `readAuditLeavesBySeq` and `readRewraps`, for a range of the log. */
  readLeaves(fromPosition: number, limit: number): LeafRow[];
  readVersionsBySeq(fromSeq: number, limit: number): VersionRow[];
  readAuditLeavesBySeq(fromSeq: number, limit: number): AuditLeafRow[];
  readRewraps(fromSeq: number, limit: number): RewrapRow[];
  close(): void;
}

/** A blind-index row: one hashed form of one value of one search parameter. */
export interface HashIndexRow {
  readonly param: string;
  readonly hash: Uint8Array;
}

/** A range row: a non-identifying date (ms since the epoch), number or quantity value. */
export interface RangeIndexRow {
  readonly param: string;
  readonly lo: number;
  readonly hi: number;
  /** Blind hash of a quantity's system|code, and of its bare code or unit. */
  readonly unit: Uint8Array | null;
  readonly unit2: Uint8Array | null;
}

export interface IndexRows {
  readonly hashes: readonly HashIndexRow[];
  readonly ranges: readonly RangeIndexRow[];
}

/** One condition on a range row (closed bounds; omitted bounds are unconstrained). */
export interface RangeCondition {
  /** SQL-free description: every listed comparison must hold. */
  readonly loGte?: number;
  readonly loGt?: number;
  readonly loLte?: number;
  readonly loLt?: number;
  readonly hiGte?: number;
  readonly hiGt?: number;
  readonly hiLte?: number;
  readonly hiLt?: number;
  readonly unit?: Uint8Array;
  readonly unit2?: Uint8Array;
  /** A mask (the presence row, lo = hi): it has at least one of these bits. */
  readonly bits?: number;
}

/**
 * One AND-ed clause of a search: the resource must (or, negated, must not) have a row matching
 * any of the alternatives.
 */
export type SearchClause =
  | { readonly kind: 'hash'; readonly param: string; readonly hashes: readonly Uint8Array[]; readonly negate?: boolean }
  | { readonly kind: 'range'; readonly param: string; readonly any: readonly RangeCondition[]; readonly negate?: boolean }
  | { readonly kind: 'id'; readonly ids: readonly string[]; readonly negate?: boolean }
  | { readonly kind: 'lastUpdated'; readonly any: readonly RangeCondition[]; readonly negate?: boolean }
  | { readonly kind: 'none' }
  /** OR over groups of AND-ed clauses. */
  | { readonly kind: 'any'; readonly groups: readonly (readonly SearchClause[])[] };

export interface CandidateQuery {
  readonly tenant: string;
  readonly type: string;
  readonly clauses: readonly SearchClause[];
  /** Keyset paging over ids: strictly after / before this id. */
  readonly afterId?: string;
  readonly beforeId?: string;
  /** Keyset paging in creation order: strictly after / before this rid (VersionRow.rid). */
  readonly afterRid?: number;
  readonly beforeRid?: number;
  /** `rid`: creation order (the default page order), walked from a hash clause's rows when one is given. */
  readonly order: 'rid' | 'rid-desc' | 'id' | 'id-desc' | 'lastUpdated' | 'lastUpdated-desc';
  readonly limit: number;
  readonly offset?: number;
}

/**
 * A lock several threads of one process take around each write transaction, so they queue in
 * memory instead of in SQLite's busy handler (which sleeps in steps of up to 100 ms).
 */
export interface WriteGate {
  acquire(): void;
  release(): void;
}

export interface StoreOptions {
  readonly writeGate?: WriteGate;
  /**
   * A bulk loader (`vigil import`'s threads): the write-ahead log is copied into the database
   * every 200,000 pages (800 MB) instead of every 10,000, so a page written by many commits is
   * copied once, not once per 40 MB of log.
   */
  readonly bulk?: boolean;
  /** Megabytes of page cache each connection may keep (default 64; a bulk loader always 64). */
  readonly cacheMb?: number;
}

/** A recorded re-encryption of one version. */
export interface RewrapRow {
  readonly seq: number;
  readonly versionSeq: number;
  readonly before: Uint8Array;
  readonly after: Uint8Array;
}
