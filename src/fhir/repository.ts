import type { Resource } from '@medplum/fhirtypes';
import { VigilError } from '../errors.js';
import { keyVersionOf, resourceContext, type Keyring } from '../crypto/index.js';
import type { HistoryQuery, IndexRows, NewVersionRow, SearchClause, Store, StoreTx, VersionRow } from '../store/index.js';
import { indexDigest, leafHash, sha256, versionLeafData } from '../audit/leaf.js';
import { AuditTrail, type AuditDraft } from '../audit/trail.js';
import { patientsOf } from './compartment.js';
import { isKnownResourceType } from './definitions.js';
import { isValidId, newId } from './ids.js';
import { validate } from './validate.js';
import { BlindIndex } from './search/blind-index.js';
import { COMPARTMENT_PARAM, IndexBuilder } from './search/index-rows.js';
import { SearchEngine, type AccessFilter, type SearchPage } from './search/engine.js';
import type { SearchRequest } from './search/parse.js';

/** One stored version, decrypted. `json` is the exact stored text, ready to send. */
export interface ResourceVersion {
  readonly type: string;
  readonly id: string;
  readonly versionId: number;
  readonly lastUpdated: string;
  readonly json: string;
}

/** One history entry: a version, or the deletion that ended one. */
export interface HistoryEntry {
  readonly type: string;
  readonly id: string;
  readonly versionId: number;
  readonly lastUpdated: string;
  readonly deleted: boolean;
  /** Absent for deletions. */
  readonly json?: string;
  readonly seq: number;
}

export interface RepositoryOptions {
  readonly store: Store;
  readonly keyring: Keyring;
  readonly tenant: string;
  /** The FHIR base URL, so absolute references to this server are indexed as relative ones. */
  readonly fhirBaseUrl: string;
  readonly now?: () => Date;
  readonly newId?: () => string;
}

/** A checked write, ready to store (see Repository#prepare). */
export interface PreparedWrite {
  readonly type: string;
  readonly id: string;
  readonly resource: Resource;
  readonly rows: IndexRows;
  /** The first version, already encrypted and sealed: stored as it is when the resource does not exist yet. */
  readonly first?: { readonly row: NewVersionRow; readonly lastUpdated: string; readonly json: string };
}

export interface WriteOptions {
  readonly ifMatch?: number;
  /** False when the caller may update but not create: a write that would create is ERR_SCOPE. */
  readonly allowCreate?: boolean;
  /** The access check of a write, given inside its transaction the new content and what it replaces. */
  readonly guard?: WriteGuard;
}

/**
 * Checks a write inside its transaction: `next` is the new content (undefined for a deletion),
 * `existing` the current version it replaces (undefined when there is none). Throws to refuse.
 */
export type WriteGuard = (next: Resource | undefined, existing: Resource | undefined) => Promise<void>;

/** Writes inside one store transaction (see Repository#unit). */
export interface WriteUnit {
  write(prepared: PreparedWrite, opts?: WriteOptions & { mustNotExist?: boolean }): Promise<WriteResult>;
  delete(type: string, id: string, ifMatch?: number, guard?: WriteGuard): Promise<boolean>;
  exists(type: string, id: string): Promise<boolean>;
  /** The ids a condition (`identifier=x|y`) matches now, under the write lock, writes of the unit included. */
  matches(type: string, query: string, filter?: AccessFilter): Promise<string[]>;
}

export interface WriteResult {
  readonly version: ResourceVersion;
  /** True when the write brought the resource into existence (create, update-as-create, resurrection). */
  readonly created: boolean;
}

function assertType(type: string): void {
  if (!isKnownResourceType(type)) throw new VigilError('ERR_UNKNOWN_TYPE', 'The resource type is not known');
}

function assertId(id: string): void {
  if (!isValidId(id)) throw new VigilError('ERR_BAD_REQUEST', 'The id does not match the FHIR id grammar');
}

function asResource(body: unknown, type: string): Resource {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new VigilError('ERR_BAD_REQUEST', 'The request body must be a FHIR resource');
  }
  const resourceType = (body as { resourceType?: unknown }).resourceType;
  if (resourceType !== type) throw new VigilError('ERR_BAD_REQUEST', 'The resourceType in the body does not match the URL');
  return body as Resource;
}

/** A version row with its index digest and log leaf (what `vigil verify` recomputes). */
function sealedRow(row: Omit<NewVersionRow, 'indexDigest' | 'leaf'>, rows: IndexRows | undefined): NewVersionRow {
  const digest = indexDigest({
    hashes: rows?.hashes.map((h) => h.hash) ?? [],
    ranges: rows?.ranges.map((r) => ({ ...r, param: `${row.type}.${r.param}` })) ?? [],
  });
  return { ...row, indexDigest: digest, leaf: leafHash(versionLeafData({ ...row, boxDigest: row.box === null ? null : sha256(row.box), indexDigest: digest })) };
}

/** Puts server-owned fields first and in place: id, meta.versionId, meta.lastUpdated. */
function stamp(resource: Resource, id: string, versionId: number, lastUpdated: string): Resource {
  const { resourceType, id: _ignored, meta, ...rest } = resource as Resource & { meta?: Record<string, unknown> };
  const { versionId: _v, lastUpdated: _l, ...keptMeta } = meta ?? {};
  return { resourceType, id, meta: { ...keptMeta, versionId: String(versionId), lastUpdated }, ...rest } as Resource;
}

/**
 * FHIR create/read/update/delete/history over the store. Every write is validated against the R4
 * definitions and sealed (AES-256-GCM, bound to tenant, type, id and version) before it is stored.
 */
export class Repository {
  readonly #store: Store;
  readonly #keyring: Keyring;
  readonly #tenant: string;
  readonly #now: () => Date;
  readonly #newId: () => string;
  readonly #indexer: IndexBuilder;
  readonly #engine: SearchEngine;
  readonly #base: string;
  readonly #blind: BlindIndex;
  /** Every write is audited in its own transaction; this is the trail it goes to. */
  readonly trail: AuditTrail;

  constructor(options: RepositoryOptions) {
    this.#store = options.store;
    this.#keyring = options.keyring;
    this.#tenant = options.tenant;
    this.#now = options.now ?? (() => new Date());
    this.#newId = options.newId ?? newId;
    this.#base = options.fhirBaseUrl;
    this.trail = new AuditTrail(options.store, options.tenant, this.#now);
    const blind = new BlindIndex(options.keyring.derive(`search-index:${options.tenant}`));
    this.#blind = blind;
    this.#indexer = new IndexBuilder(blind, options.fhirBaseUrl);
    this.#engine = new SearchEngine({
      store: options.store,
      tenant: options.tenant,
      blind,
      fhirBaseUrl: options.fhirBaseUrl,
      open: async (row) => JSON.parse(await this.#decrypt(row)) as Resource,
      ...(options.now === undefined ? {} : { now: options.now }),
    });
  }

  /** Runs a parsed search; `cursor` is the verified payload of a paging cursor. */
  search(request: SearchRequest, cursor?: Record<string, unknown>, filter?: AccessFilter): Promise<SearchPage> {
    return this.#engine.search(request, cursor, filter);
  }

  /** A clause matching resources that belong to one of the given patients (ids). */
  compartmentClause(type: string, patients: Iterable<string>, negate = false): SearchClause {
    const hashes = [...patients].map((p) => this.#blind.hash(type, COMPARTMENT_PARAM, 'r', `Patient/${p}`));
    return hashes.length === 0 && !negate ? { kind: 'none' } : { kind: 'hash', param: COMPARTMENT_PARAM, hashes, negate };
  }

  /** A clause matching resources that carry none of the given security label codes. */
  withoutLabelsClause(type: string, codes: Iterable<string>): SearchClause {
    return { kind: 'hash', param: '_security', hashes: [...codes].map((c) => this.#blind.hash(type, '_security', 'c', c)), negate: true };
  }

  get engine(): SearchEngine {
    return this.#engine;
  }

  /**
   * Checks and prepares a write outside any transaction: type, id, body shape, R4 validation and
   * search index rows (none of which depend on the version or time the write will get). When the
   * write is likely to create the resource (`creates`), its first version is also encrypted and
   * sealed here, so the write lock is held only to store it; should the resource exist after all,
   * the write seals its next version inside the transaction as usual.
   */
  prepare(type: string, id: string, body: unknown, creates = false): PreparedWrite {
    assertType(type);
    // The audit trail is written by the server alone; no API write may create or alter an AuditEvent.
    if (type === 'AuditEvent') throw new VigilError('ERR_READ_ONLY');
    assertId(id);
    const resource = asResource(body, type);
    const lastUpdated = this.#now().toISOString();
    const stamped = stamp(resource, id, 1, lastUpdated);
    validate(stamped);
    const rows = this.#indexer.rows(stamped);
    if (!creates) return { type, id, resource, rows };
    const json = JSON.stringify(stamped);
    return { type, id, resource, rows, first: { row: this.#sealVersion(type, id, 1, lastUpdated, json, rows), lastUpdated, json } };
  }

  /** Encrypts a version bound to its tenant, type, id and version, and seals its row for the log. */
  #sealVersion(type: string, id: string, versionId: number, lastUpdated: string, json: string, rows: IndexRows): NewVersionRow {
    const box = this.#keyring.encrypt(Buffer.from(json), resourceContext(this.#tenant, type, id, versionId));
    return sealedRow({ tenant: this.#tenant, type, id, versionId, lastUpdated, deleted: false, keyVersion: keyVersionOf(box), box }, rows);
  }

  /** A fresh server-assigned id. */
  newId(): string {
    return this.#newId();
  }

  /** Creates a resource with a server-assigned id; any id in the body is ignored, as the spec says. */
  async create(type: string, body: unknown, audit?: AuditDraft, guard?: WriteGuard): Promise<WriteResult> {
    assertType(type);
    const prepared = this.prepare(type, this.#newId(), { ...asResource(body, type), id: undefined }, true);
    return this.#store.tx(async (tx) => this.#audited(tx, audit, await this.#writeIn(tx, prepared, { mustNotExist: true, ...(guard === undefined ? {} : { guard }) }, audit)));
  }

  /**
   * Updates a resource, or creates it with the client's id when it does not exist (unless
   * `allowCreate` is false: then that case is ERR_SCOPE).
   */
  async update(type: string, id: string, body: unknown, opts: WriteOptions = {}, audit?: AuditDraft): Promise<WriteResult> {
    assertType(type);
    assertId(id);
    if (asResource(body, type).id !== id) throw new VigilError('ERR_BAD_REQUEST', 'The id in the body must match the id in the URL');
    const prepared = this.prepare(type, id, body);
    return this.#store.tx(async (tx) => this.#audited(tx, audit, await this.#writeIn(tx, prepared, opts, audit)));
  }

  /** Deletes a resource by writing a tombstone version. Returns false when it was already deleted. */
  async delete(type: string, id: string, ifMatch?: number, audit?: AuditDraft, guard?: WriteGuard): Promise<boolean> {
    assertType(type);
    assertId(id);
    return this.#store.tx(async (tx) => this.#audited(tx, audit, await this.#deleteIn(tx, type, id, ifMatch, audit, guard)));
  }

  /** Appends the write's audit entry inside its transaction, so neither exists without the other. */
  async #audited<T>(tx: StoreTx, audit: AuditDraft | undefined, result: T): Promise<T> {
    if (audit !== undefined) {
      audit.outcome = '0';
      await this.trail.recordIn(tx, audit);
    }
    return result;
  }

  /**
   * Runs several writes as one unit: they all commit, or none does (FHIR transaction Bundles).
   * Prepare every write first, outside the unit, so the write lock is held only for storing.
   */
  unit<T>(fn: (unit: WriteUnit) => Promise<T>, audit?: AuditDraft): Promise<T> {
    return this.#store.tx(async (tx) => {
      const result = await fn({
        write: (prepared, opts) => this.#writeIn(tx, prepared, opts ?? {}, audit),
        delete: (type, id, ifMatch, guard) => this.#deleteIn(tx, type, id, ifMatch, audit, guard),
        exists: async (type, id) => {
          const current = await tx.current(this.#tenant, type, id);
          return current !== undefined && !current.deleted;
        },
        matches: async (type, query, filter) => (await this.#engine.over(tx).matchCondition(type, query, filter)).map((f) => f.id),
      });
      return this.#audited(tx, audit, result);
    });
  }

  async #deleteIn(tx: StoreTx, type: string, id: string, ifMatch?: number, audit?: AuditDraft, guard?: WriteGuard): Promise<boolean> {
    if (type === 'AuditEvent') throw new VigilError('ERR_READ_ONLY');
    const current = await tx.current(this.#tenant, type, id);
    if (current === undefined) throw new VigilError('ERR_NOT_FOUND');
    if (guard !== undefined) await guard(undefined, current.deleted ? undefined : await this.#currentIn(tx, type, id));
    if (ifMatch !== undefined && current.versionId !== ifMatch) throw new VigilError('ERR_VERSION_CONFLICT');
    if (current.deleted) return false;
    if (audit !== undefined) {
      // The entry names the patient the deleted resource belonged to, so it shows in their report.
      const [row] = await tx.readCurrentMany(this.#tenant, type, [id]);
      if (row !== undefined) audit.patients.push(...patientsOf(JSON.parse(await this.#decrypt(row)) as Resource, this.#base));
    }
    // A deleted resource leaves the search index (its old versions stay readable by vread and history).
    await tx.replaceIndex(this.#tenant, type, id, undefined);
    await tx.append(sealedRow({ tenant: this.#tenant, type, id, versionId: current.versionId + 1, lastUpdated: this.#nextTime(current.lastUpdated), deleted: true, keyVersion: null, box: null }, undefined));
    audit?.entities.push(`${type}/${id}/_history/${current.versionId + 1}`);
    return true;
  }

  async read(type: string, id: string): Promise<ResourceVersion> {
    assertType(type);
    assertId(id);
    return this.#open(await this.#store.readCurrent(this.#tenant, type, id), type, id);
  }

  async vread(type: string, id: string, versionId: number): Promise<ResourceVersion> {
    assertType(type);
    assertId(id);
    return this.#open(await this.#store.readVersion(this.#tenant, type, id, versionId), type, id, versionId);
  }

  /**
   * Versions newest first; `total` counts every matching version, and `nextBeforeSeq` is where
   * the next page starts when there is one.
   */
  async history(query: Omit<HistoryQuery, 'tenant'>): Promise<{ entries: HistoryEntry[]; total: number; nextBeforeSeq?: number }> {
    if (query.type !== undefined) assertType(query.type);
    if (query.id !== undefined) assertId(query.id);
    // One row more than asked tells whether another page exists.
    const page = await this.#store.history({ ...query, tenant: this.#tenant, count: query.count + 1 });
    const rows = page.rows.slice(0, query.count);
    const entries: HistoryEntry[] = [];
    for (const row of rows) {
      const base = { type: row.type, id: row.id, versionId: row.versionId, lastUpdated: row.lastUpdated, deleted: row.deleted, seq: row.seq };
      entries.push(row.deleted ? base : { ...base, json: await this.#decrypt(row) });
    }
    const last = rows[rows.length - 1];
    return page.rows.length > query.count && last !== undefined ? { entries, total: page.total, nextBeforeSeq: last.seq } : { entries, total: page.total };
  }

  async #writeIn(tx: StoreTx, p: PreparedWrite, opts: WriteOptions & { mustNotExist?: boolean }, audit?: AuditDraft): Promise<WriteResult> {
    const { type, id, resource, rows } = p;
    const current = await tx.current(this.#tenant, type, id);
    if (opts.guard !== undefined) await opts.guard({ ...resource, id } as Resource, current === undefined || current.deleted ? undefined : await this.#currentIn(tx, type, id));
    if (opts.allowCreate === false && (current === undefined || current.deleted)) {
      throw new VigilError('ERR_SCOPE', 'The access token does not grant creating this resource');
    }
    if (opts.mustNotExist === true && current !== undefined) throw new VigilError('ERR_CONFLICT', 'A resource with this id already exists');
    if (opts.ifMatch !== undefined && current?.versionId !== opts.ifMatch) throw new VigilError('ERR_VERSION_CONFLICT');
    const versionId = (current?.versionId ?? 0) + 1;
    let lastUpdated: string;
    let json: string;
    if (current === undefined && p.first !== undefined) {
      ({ lastUpdated, json } = p.first);
      await tx.append(p.first.row);
    } else {
      lastUpdated = this.#nextTime(current?.lastUpdated);
      json = JSON.stringify(stamp(resource, id, versionId, lastUpdated));
      await tx.append(this.#sealVersion(type, id, versionId, lastUpdated, json, rows));
    }
    await tx.replaceIndex(this.#tenant, type, id, rows);
    if (audit !== undefined) {
      audit.entities.push(`${type}/${id}/_history/${versionId}`);
      audit.patients.push(...patientsOf({ ...resource, id }, this.#base));
    }
    return { version: { type, id, versionId, lastUpdated, json }, created: current === undefined || current.deleted };
  }

  /** The current version of a resource as the transaction sees it, decrypted. */
  async #currentIn(tx: StoreTx, type: string, id: string): Promise<Resource | undefined> {
    const [row] = await tx.readCurrentMany(this.#tenant, type, [id]);
    return row === undefined ? undefined : (JSON.parse(await this.#decrypt(row)) as Resource);
  }

  /** lastUpdated never goes backwards for one resource, even if the clock does. */
  #nextTime(previous: string | undefined): string {
    const now = this.#now();
    if (previous !== undefined && now.toISOString() <= previous) return new Date(Date.parse(previous) + 1).toISOString();
    return now.toISOString();
  }

  async #open(row: VersionRow | undefined, type: string, id: string, versionId?: number): Promise<ResourceVersion> {
    if (row === undefined) throw new VigilError('ERR_NOT_FOUND');
    // The row must be the one asked for: a head pointer edited to another row is tampering.
    if (row.tenant !== this.#tenant || row.type !== type || row.id !== id || (versionId !== undefined && row.versionId !== versionId)) {
      throw new VigilError('ERR_INTEGRITY');
    }
    if (row.deleted) throw new VigilError('ERR_GONE');
    return { type: row.type, id: row.id, versionId: row.versionId, lastUpdated: row.lastUpdated, json: await this.#decrypt(row) };
  }

  async #decrypt(row: VersionRow): Promise<string> {
    if (row.box === null) throw new VigilError('ERR_INTEGRITY');
    // A version sealed by a key added in another process (keys rotate/rewrap) is loaded on demand.
    if (!this.#keyring.has(keyVersionOf(row.box))) await this.#keyring.refresh();
    return this.#keyring.decrypt(row.box, resourceContext(row.tenant, row.type, row.id, row.versionId)).toString('utf8');
  }
}
