import type { AuditLeafRow, RewrapRow, VersionRow } from '../store/index.js';
import { auditColumns, type AuditBody } from './trail.js';
import { auditLeafFormat, auditLeafText, auditLeafTextV2, leafHash, leafHashOfText, rewrapLeafData, sha256, versionLeafText, type AuditLeafInput } from './leaf.js';
import { sameHash } from './tree-hash.js';

/**
 * The per-leaf checks of `vigil verify`, shared by the sequential walk (main thread) and the leaf
 * ranges checked on worker threads, so both hold every leaf to exactly the same rules.
 */

/** Where verification first failed. */
export interface Broken {
  readonly position: number;
  /** version | audit | rewrap | missing-row | extra-row | order | index | log | checkpoint | witness */
  readonly kind: string;
  readonly detail: string;
}

/** Rows read per page. */
export const BATCH = 10_000;

/** The newest version of a resource seen so far in log order: what its current pointer must name. */
export interface Newest {
  readonly seq: number;
  readonly deleted: boolean;
}

/**
 * Reads rows of one kind in sequence order from `from`, a page at a time; only an empty page costs
 * an await. Pages start at `firstPage` rows and double up to `maxPage`, so a short range of the
 * log does not read (and for versions, copy the ciphertexts of) many rows past its end.
 */
export class Stream<T extends { seq: number }> {
  #rows: T[] = [];
  #at = 0;
  #next: number;
  #page: number;
  #done = false;
  readonly #read: (from: number, limit: number) => Promise<T[]> | T[];
  readonly #maxPage: number;

  constructor(read: (from: number, limit: number) => Promise<T[]> | T[], from = 1, firstPage = BATCH, maxPage = BATCH) {
    this.#read = read;
    this.#next = from;
    this.#page = firstPage;
    this.#maxPage = maxPage;
  }

  /** True when the next row must be read from the store first (`fill`). */
  get empty(): boolean {
    return this.#at >= this.#rows.length && !this.#done;
  }

  async fill(): Promise<void> {
    const page = this.#page;
    this.#rows = await this.#read(this.#next, page);
    this.#at = 0;
    this.#page = Math.min(page * 2, this.#maxPage);
    if (this.#rows.length < page) this.#done = true;
    const last = this.#rows[this.#rows.length - 1];
    if (last !== undefined) this.#next = last.seq + 1;
  }

  get head(): T | undefined {
    return this.#rows[this.#at];
  }

  shift(): void {
    this.#at += 1;
  }
}

export type Streams = { version: Stream<VersionRow>; audit: Stream<AuditLeafRow>; rewrap: Stream<RewrapRow> };

/** The stream a leaf's kind reads from; undefined for an unknown kind. */
export function streamOf(streams: Partial<Streams>, kind: string): Stream<{ seq: number }> | undefined {
  return kind === 'version' || kind === 'audit' || kind === 'rewrap' ? streams[kind] : undefined;
}

/** Every rewrap, grouped by the version it re-encrypted: rewraps explain how a version's ciphertext changed after it was written. */
export async function readRewrapChains(read: (from: number, limit: number) => Promise<RewrapRow[]> | RewrapRow[]): Promise<Map<number, RewrapRow[]>> {
  const rewraps = new Map<number, RewrapRow[]>();
  for (let from = 1; ; ) {
    const rows = await read(from, BATCH);
    for (const r of rows) {
      const chain = rewraps.get(r.versionSeq);
      if (chain === undefined) rewraps.set(r.versionSeq, [r]);
      else chain.push(r);
    }
    if (rows.length < BATCH) return rewraps;
    from = (rows[rows.length - 1]?.seq ?? from) + 1;
  }
}

/** Checks one leaf against the row it commits to (the head of its stream); returns what is wrong, if anything. */
export function checkLeaf(
  kind: string,
  ref: number,
  hash: Uint8Array,
  tenant: string,
  stream: Stream<{ seq: number }>,
  rewraps: Map<number, RewrapRow[]>,
  newest: Map<string, Newest>,
): Omit<Broken, 'position'> | undefined {
  const row = stream.head;
  if (row === undefined || row.seq > ref) return { kind: 'missing-row', detail: `the ${kind} row this leaf commits to is missing (deleted row)` };
  if (row.seq < ref) return { kind: 'order', detail: `a ${kind} row is not where the log puts it (inserted or reordered rows)` };
  stream.shift();
  let computed: Buffer;
  if (kind === 'version') {
    const v = row as VersionRow;
    const chain = rewraps.get(v.seq) ?? [];
    // The leaf saw the first ciphertext; each rewrap must lead from it to the one stored now.
    const current = v.box === null ? null : sha256(v.box);
    const first = chain[0]?.before ?? current;
    const last = chain[chain.length - 1]?.after ?? current;
    if ((current === null) !== (last === null) || (current !== null && last !== null && !sameHash(current, last))) {
      return { kind: 'version', detail: 'a resource version\'s ciphertext was changed' };
    }
    for (let i = 1; i < chain.length; i++) {
      if (!sameHash(chain[i - 1]?.after ?? Buffer.alloc(0), chain[i]?.before ?? Buffer.alloc(1))) return { kind: 'rewrap', detail: 'a re-encryption does not follow the previous one' };
    }
    computed = leafHashOfText(versionLeafText({ tenant: v.tenant, type: v.type, id: v.id, versionId: v.versionId, lastUpdated: v.lastUpdated, deleted: v.deleted, boxDigest: first, indexDigest: v.indexDigest }));
    if (v.tenant === tenant) newest.set(`${v.tenant}/${v.type}/${v.id}`, { seq: v.seq, deleted: v.deleted });
  } else if (kind === 'audit') {
    const leaf = auditLeaf(row as AuditLeafRow, hash);
    if (leaf === undefined) return { kind: 'audit', detail: 'an audit entry\'s columns do not match its body' };
    computed = leaf;
  } else {
    computed = leafHash(rewrapLeafData(row as RewrapRow));
  }
  if (!sameHash(computed, hash)) return { kind, detail: `the ${kind} row does not match its leaf (edited row)` };
  return undefined;
}

/**
 * The leaf hash of an audit row. Format 2 hashes the database's column array and the body as they
 * are; should SQLite's JSON ever escape a character otherwise than JSON.stringify did when the entry
 * was written, the writer's own text is hashed as well before a mismatch is reported. A format 1 leaf
 * covers the body alone, so its columns are held to the body first: undefined when they differ.
 */
function auditLeaf(a: AuditLeafRow, stored: Uint8Array): Buffer | undefined {
  if (auditLeafFormat(a.body) === 2) {
    const fast = leafHashOfText(auditLeafTextV2(a.columns, a.body));
    return sameHash(fast, stored) ? fast : leafHashOfText(auditLeafText(auditLeafInput(a)));
  }
  const row = auditLeafInput(a);
  return columnsMatchBody(row) ? leafHashOfText(auditLeafText(row)) : undefined;
}

function auditLeafInput(a: AuditLeafRow): AuditLeafInput {
  const [tenant, recorded, action, subtype, outcome, agent, patients] = JSON.parse(a.columns) as [string, string, string, string, string, string | null, string];
  return { tenant, recorded, action, subtype, outcome, agent, patients, body: a.body };
}

/** For a format 1 entry: true when the searchable columns say what the body says (else a search could hide the entry). */
function columnsMatchBody(a: AuditLeafInput): boolean {
  let c: ReturnType<typeof auditColumns>;
  try {
    c = auditColumns(JSON.parse(a.body) as AuditBody);
  } catch {
    return false; // not JSON, or no patients list
  }
  return c.recorded === a.recorded && c.action === a.action && c.outcome === a.outcome && c.subtype === a.subtype && c.agent === a.agent && c.patients === a.patients;
}
