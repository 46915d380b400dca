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
}

export type NewVersionRow = Omit<VersionRow, 'seq'>;

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
}

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

  countVersionsBelowKey(keyVersion: number): Promise<number>;
  listVersionsBelowKey(keyVersion: number, afterSeq: number, limit: number): Promise<RewrapCandidate[]>;
  /** Replaces sealed boxes (re-encryption only); a row whose box changed meanwhile is left alone. */
  replaceBoxes(items: readonly { seq: number; oldBox: Uint8Array; box: Uint8Array; keyVersion: number }[]): Promise<number>;

  getClient(clientId: string): Promise<OAuthClientRow | undefined>;
  insertClient(row: OAuthClientRow): Promise<void>;
  countClients(): Promise<number>;

  listSigningKeys(): Promise<SigningKeyRow[]>;
  insertSigningKey(row: SigningKeyRow): Promise<void>;

  close(): Promise<void>;
}
