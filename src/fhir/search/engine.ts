import { createHash, type Hash } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import { VigilError } from '../../errors.js';
import type { CandidateQuery, SearchClause, Store, VersionRow } from '../../store/index.js';
import { normalize, type BlindIndex } from './blind-index.js';
import { indexHashes, planClauses, type Confirm, type PlanContext } from './plan.js';
import { searchParams, type SearchParam } from './params.js';
import { parseSearch, type Clause, type IncludeSpec, type SearchRequest, type SortKey } from './parse.js';
import { paramValues } from './values.js';

/** A decrypted current version. */
export interface Found {
  readonly type: string;
  readonly id: string;
  readonly versionId: number;
  readonly lastUpdated: string;
  readonly resource: Resource;
  /** Its place in creation order (VersionRow.rid), where the store gave one. */
  readonly rid?: number;
}

export interface SearchPage {
  readonly matches: Found[];
  readonly includes: Found[];
  readonly total: number | undefined;
  /** Cursor payloads of the next and previous pages, when there are such pages. */
  readonly next?: Record<string, unknown>;
  readonly previous?: Record<string, unknown>;
}

/** Where a search reads its candidates: the store, or a transaction of it (which sees its own writes). */
export type CandidateSource = Pick<Store, 'searchCandidates' | 'countCandidates' | 'readCurrentMany' | 'hasAnyHash'>;

export interface SearchEngineOptions {
  readonly store: CandidateSource;
  readonly tenant: string;
  readonly blind: BlindIndex;
  readonly fhirBaseUrl: string;
  readonly open: (row: VersionRow) => Promise<Resource>;
  readonly now?: () => Date;
}

/**
 * What a caller may see, applied inside the search (matches, chains, `_has`, includes, totals) so
 * nothing hidden shapes an answer. Built by the access policy for each request.
 */
export interface AccessFilter {
  /** An extra clause for resources of `type`: `none` when no resource of it is visible, undefined for no limit. */
  clauseFor(type: string): Promise<SearchClause | undefined>;
  /** Whether one decrypted resource is visible (labels, Consent, relationships). */
  visible(found: Found): Promise<boolean>;
  /** True when `clauseFor` alone decides what is visible of a searched type, so SQL may count. */
  readonly exact?: boolean;
}

/** A total nobody asked for is counted up to this many matches, and left out of the Bundle above it. */
export const DEFAULT_TOTAL_CAP = 1000;

/**
 * How long a search whose unasked total went over DEFAULT_TOTAL_CAP is remembered as such: within
 * it the total is left out without counting again. Leaving a total out is always allowed; a total
 * that is given is always counted. At 30,000 patients the capped count of a common code and a date
 * cost 3 to 5 ms of a request's 8 to 12.
 */
export const OVER_CAP_MS = 30_000;
/** Searches remembered as over the cap before the memory starts over. */
const OVER_CAP_MAX = 10_000;

/** At most this many candidates are decrypted for one query (sorting, totals, nested searches). */
export const MAX_SCAN = 10_000;
const MAX_INCLUDES = 1000;
const ITERATE_DEPTH = 3;

function tooCostly(): VigilError {
  return new VigilError('ERR_TOO_COSTLY', `The search would examine more than ${MAX_SCAN} resources; narrow it`);
}

/** Binds a cursor to the query it pages through, so it cannot be replayed against another. */
export function queryKey(request: SearchRequest): string {
  return createHash('sha256').update(JSON.stringify([request.type, request.canonical])).digest('base64url').slice(0, 22);
}

interface Planned {
  readonly clauses: SearchClause[];
  readonly confirm: Confirm[];
  readonly filter?: AccessFilter | undefined;
}

/** True when the index alone decides the matches, so SQL can count them exactly. */
function exact(planned: Planned): boolean {
  return planned.confirm.length === 0 && (planned.filter === undefined || planned.filter.exact === true);
}

/**
 * Executes searches: the index narrows (blind hashes, ranges) in SQL, decryption confirms what
 * the index can only approximate, and paging, sorting and includes are applied to what remains.
 */
export class SearchEngine {
  readonly #o: SearchEngineOptions;
  /** When each search (type and index clauses) was last counted over the cap (see OVER_CAP_MS). */
  readonly #overCap = new Map<string, number>();
  /** By type: whether the store holds marker rows of index formats 1 and 2 (see #hasMarkers). */
  #markers = new Map<string, Promise<boolean>>();

  constructor(options: SearchEngineOptions) {
    this.#o = options;
  }

  /** The same engine reading from `source`: inside a transaction, it sees that transaction's writes. */
  over(source: CandidateSource): SearchEngine {
    const engine = new SearchEngine({ ...this.#o, store: source });
    engine.#markers = this.#markers;
    return engine;
  }

  /**
   * Whether any resource of `type` still has the marker rows of index formats 1 and 2, which
   * presence tests must then read beside the mask. One probe per parameter, once per type and
   * process: rows of those formats are never written again (a point-in-time restore, which may
   * rebuild them, restores into a new directory). A store written in format 3 alone skips them.
   */
  #hasMarkers(type: string): Promise<boolean> {
    let known = this.#markers.get(type);
    if (known === undefined) {
      const hashes = [...searchParams(type).keys()].map((code) => this.#o.blind.hash(type, code, 'm', ''));
      known = this.#o.store.hasAnyHash(hashes);
      this.#markers.set(type, known);
      // A failed probe is asked again next time, not remembered.
      known.catch(() => this.#markers.delete(type));
    }
    return known;
  }

  #now(): number {
    return (this.#o.now?.() ?? new Date()).getTime();
  }

  async #plan(type: string, clauses: readonly Clause[], filter: AccessFilter | undefined): Promise<Planned> {
    const ctx: PlanContext = {
      type,
      markers: await this.#hasMarkers(type),
      blind: this.#o.blind,
      fhirBaseUrl: this.#o.fhirBaseUrl,
      now: this.#now(),
      // Chains and _has see only what the caller may see, so they cannot probe hidden resources.
      resolveIds: async (t, clause) => (await this.#all(t, [clause], filter)).map((f) => f.id),
      resolveReferences: async (t, clause, param) =>
        (await this.#all(t, [clause], filter)).flatMap((f) => {
          const v = paramValues(f.resource, param, this.#o.fhirBaseUrl);
          return v?.type === 'reference' ? v.values : [];
        }),
    };
    const out = { clauses: [] as SearchClause[], confirm: [] as Confirm[], filter };
    for (const p of await planClauses(ctx, clauses)) {
      out.clauses.push(...p.clauses);
      if (p.confirm !== undefined) out.confirm.push(p.confirm);
    }
    const limit = await filter?.clauseFor(type);
    if (limit !== undefined) out.clauses.push(limit);
    return out;
  }

  async #decrypt(rows: VersionRow[], planned: Pick<Planned, 'confirm' | 'filter'>): Promise<Found[]> {
    const out: Found[] = [];
    for (const row of rows) {
      const resource = await this.#o.open(row);
      if (!planned.confirm.every((c) => c(resource))) continue;
      const found = { type: row.type, id: row.id, versionId: row.versionId, lastUpdated: row.lastUpdated, resource, ...(row.rid === undefined ? {} : { rid: row.rid }) };
      if (planned.filter === undefined || (await planned.filter.visible(found))) out.push(found);
    }
    return out;
  }

  /** Every match of a nested search (chains, _has, sorting), up to MAX_SCAN. */
  async #all(type: string, clauses: readonly Clause[], filter: AccessFilter | undefined): Promise<Found[]> {
    const planned = await this.#plan(type, clauses, filter);
    return this.#allPlanned(type, planned);
  }

  async #allPlanned(type: string, planned: Planned): Promise<Found[]> {
    const rows = await this.#o.store.searchCandidates({ tenant: this.#o.tenant, type, clauses: planned.clauses, order: 'id', limit: MAX_SCAN + 1 });
    if (rows.length > MAX_SCAN) throw tooCostly();
    return this.#decrypt(rows, planned);
  }

  /**
   * Runs a parsed search of `request.type`; `cursor` is a verified cursor payload, if paging, and
   * `filter` limits everything (matches, chains, includes, totals) to what the caller may see.
   */
  async search(request: SearchRequest, cursor?: Record<string, unknown>, filter?: AccessFilter): Promise<SearchPage> {
    const type = request.type;
    const planned = await this.#plan(type, request.clauses, filter);
    const count = request.summary === 'count' ? 0 : request.count;
    const sort = request.sort;
    let page: { matches: Found[]; next?: Record<string, unknown>; previous?: Record<string, unknown>; total?: number };
    // Unsorted, pages come in creation order, which a page of one common code finds cheaply (see ridWalkSql).
    if (sort.length === 0) page = await this.#keysetPage(type, planned, count, 'rid', false, cursor);
    else if (sort.length === 1 && sort[0]?.code === '_id') page = await this.#keysetPage(type, planned, count, 'id', sort[0].descending, cursor);
    else page = await this.#sortedPage(type, planned, count, sort, cursor);
    let total = page.total;
    // A total counts only what the caller may see: by SQL when the index decides, else by a scan.
    const wantTotal = request.summary === 'count' || request.total === 'accurate' || (request.total === undefined && exact(planned)) || request.total === 'estimate';
    if (total === undefined && wantTotal) {
      if (exact(planned)) {
        // Unasked, the total is counted up to DEFAULT_TOTAL_CAP and left out above it (`_total=accurate` counts all).
        const asked = request.summary === 'count' || request.total !== undefined;
        total = asked ? await this.#o.store.countCandidates({ tenant: this.#o.tenant, type, clauses: planned.clauses }) : await this.#cappedTotal(type, planned.clauses);
      } else if (request.total === 'accurate' || request.summary === 'count') total = (await this.#allPlanned(type, planned)).length;
    }
    if (request.total === 'none') total = undefined;
    const includes = await this.#includes(request, page.matches, filter);
    return { matches: page.matches, includes, total, ...(page.next === undefined ? {} : { next: page.next }), ...(page.previous === undefined ? {} : { previous: page.previous }) };
  }

  /** An unasked total: exact up to DEFAULT_TOTAL_CAP, undefined above it (counted, or remembered so). */
  async #cappedTotal(type: string, clauses: readonly SearchClause[]): Promise<number | undefined> {
    // A digest, not the text: an access clause can name the hashes of a thousand patients.
    const digest = createHash('sha256').update(`${this.#o.tenant}\u0000${type}\u0000`);
    digestClauses(digest, clauses);
    const key = digest.digest('base64');
    const now = this.#now();
    const seen = this.#overCap.get(key);
    if (seen !== undefined && now - seen < OVER_CAP_MS && now >= seen) return undefined;
    const n = await this.#o.store.countCandidates({ tenant: this.#o.tenant, type, clauses, cap: DEFAULT_TOTAL_CAP });
    if (n <= DEFAULT_TOTAL_CAP) {
      this.#overCap.delete(key);
      return n;
    }
    if (this.#overCap.size >= OVER_CAP_MAX) this.#overCap.clear();
    this.#overCap.set(key, now);
    return undefined;
  }

  /**
   * Keyset paging in creation order (`rid`, unsorted searches) or id order (`_sort=_id`). A cursor
   * holds a boundary and a direction: `rn` or `n` (the next page starts past the boundary, in sort
   * order), `rp` or `p` (the previous page ends before it), with a rid or an id.
   */
  async #keysetPage(type: string, planned: Planned, count: number, key: 'rid' | 'id', descending: boolean, cursor?: Record<string, unknown>) {
    const [nextKey, previousKey] = key === 'rid' ? ['rn', 'rp'] : ['n', 'p'];
    const valid = (v: unknown): v is string | number => (key === 'rid' ? Number.isSafeInteger(v) : typeof v === 'string');
    const next = cursor?.[nextKey];
    const previous = cursor?.[previousKey];
    // A cursor of the other order (one made before the default order was creation order) pages nothing.
    if (cursor !== undefined && !valid(next) && !valid(previous)) throw new VigilError('ERR_BAD_REQUEST', 'The paging cursor is not valid');
    const boundary = valid(next) ? next : valid(previous) ? previous : undefined;
    // A "previous" page is found by scanning against the sort order, then put back in order.
    const backwards = valid(previous);
    const scanDesc = descending !== backwards;
    const place = (f: { id: string; rid?: number } | undefined): string | number | undefined => {
      // A row without its rid would end the paging silently: a store must give one.
      if (key === 'rid' && f !== undefined && f.rid === undefined) throw new VigilError('ERR_INTERNAL', 'A search row came without its place in creation order');
      return key === 'rid' ? f?.rid : f?.id;
    };
    const bound = (at: string | number | undefined): Partial<CandidateQuery> => {
      if (at === undefined) return {};
      if (key === 'rid') return scanDesc ? { beforeRid: Number(at) } : { afterRid: Number(at) };
      return scanDesc ? { beforeId: String(at) } : { afterId: String(at) };
    };
    // When decryption confirms, most candidates usually match: start with a little more than a page
    // (each candidate costs a decryption) and grow fourfold while too few pass.
    let batch = exact(planned) ? count + 1 : count + 1 + Math.max(8, Math.ceil(count / 2));
    const found: Found[] = [];
    let from = boundary;
    let scanned = 0;
    for (;; batch = Math.min(batch * 4, MAX_SCAN)) {
      const rows = await this.#o.store.searchCandidates({
        tenant: this.#o.tenant,
        type,
        clauses: planned.clauses,
        order: key === 'rid' ? (scanDesc ? 'rid-desc' : 'rid') : scanDesc ? 'id-desc' : 'id',
        limit: batch,
        ...bound(from),
      });
      found.push(...(await this.#decrypt(rows, planned)));
      scanned += rows.length;
      if (found.length > count || rows.length < batch) break;
      if (scanned > MAX_SCAN) throw tooCostly();
      from = place(rows[rows.length - 1]);
    }
    const more = found.length > count;
    const kept = found.slice(0, count);
    if (backwards) kept.reverse();
    const first = place(kept[0]);
    const last = place(kept[kept.length - 1]);
    const page: { matches: Found[]; next?: Record<string, unknown>; previous?: Record<string, unknown> } = { matches: kept };
    // Coming from a later page there is always a next one; otherwise only when more matched.
    const hasNext = backwards || more;
    const hasPrevious = backwards ? more : boundary !== undefined;
    const nextFrom = last ?? boundary;
    const previousFrom = first ?? boundary;
    if (hasNext && nextFrom !== undefined) page.next = { [nextKey]: nextFrom };
    if (hasPrevious && previousFrom !== undefined) page.previous = { [previousKey]: previousFrom };
    return page;
  }

  /** Any other sort: every match is decrypted (up to MAX_SCAN), sorted in memory, and paged by offset. */
  async #sortedPage(type: string, planned: Planned, count: number, keys: readonly SortKey[], cursor?: Record<string, unknown>) {
    const all = await this.#allPlanned(type, planned);
    const offset = typeof cursor?.['o'] === 'number' ? cursor['o'] : 0;
    const keyed = all.map((f) => ({ f, k: keys.map((k) => this.#sortValue(f, k)) }));
    keyed.sort((x, y) => {
      for (let i = 0; i < keys.length; i++) {
        const c = compareKeys(x.k[i], y.k[i], keys[i]?.descending === true);
        if (c !== 0) return c;
      }
      return x.f.id < y.f.id ? -1 : x.f.id > y.f.id ? 1 : 0;
    });
    const matches = keyed.slice(offset, offset + count).map((x) => x.f);
    const page: { matches: Found[]; total: number; next?: Record<string, unknown>; previous?: Record<string, unknown> } = { matches, total: all.length };
    if (offset + count < all.length && count > 0) page.next = { o: offset + count };
    if (offset > 0) page.previous = { o: Math.max(0, offset - count) };
    return page;
  }

  #sortValue(f: Found, key: SortKey): string | number | undefined {
    if (key.code === '_id') return f.id;
    if (key.code === '_lastUpdated') return f.lastUpdated;
    const param = key.param as SearchParam;
    const v = paramValues(f.resource, param, this.#o.fhirBaseUrl);
    if (v === undefined || v.values.length === 0) return undefined;
    // Ascending sorts by the smallest value of a resource, descending by the largest (R4 3.1.1.4.7 leaves it to the server).
    const pick = <T>(list: T[], cmp: (a: T, b: T) => number): T => list.reduce((a, b) => ((key.descending ? cmp(a, b) >= 0 : cmp(a, b) <= 0) ? a : b));
    switch (v.type) {
      case 'date':
        return key.descending ? Math.max(...v.values.map((r) => r.hi)) : Math.min(...v.values.map((r) => r.lo));
      case 'number':
        return pick(v.values, (a, b) => a - b);
      case 'quantity':
        return pick(v.values.map((q) => q.value), (a, b) => a - b);
      case 'token': {
        // Codes sort; texts only when a resource has no code at all.
        const codes = v.values.flatMap((t) => (t.code === undefined ? [] : [t.code]));
        return pick(codes.length > 0 ? codes : v.values.map((t) => normalize(t.text ?? '')), byCodePoint);
      }
      case 'string':
        return pick(v.values.map(normalize), byCodePoint);
      default:
        return pick(v.values as string[], byCodePoint);
    }
  }

  async #includes(request: SearchRequest, matches: readonly Found[], filter: AccessFilter | undefined): Promise<Found[]> {
    if (request.include.length === 0 && request.revinclude.length === 0) return [];
    const seen = new Set(matches.map((m) => `${m.type}/${m.id}`));
    const included: Found[] = [];
    let frontier: Found[] = [...matches];
    for (let depth = 0; depth <= ITERATE_DEPTH && frontier.length > 0; depth++) {
      const added: Found[] = [];
      for (const spec of request.include) {
        if (depth > 0 && !spec.iterate) continue;
        added.push(...(await this.#forward(spec, frontier, seen, filter)));
      }
      for (const spec of request.revinclude) {
        if (depth > 0 && !spec.iterate) continue;
        added.push(...(await this.#reverse(spec, frontier, seen, filter)));
      }
      included.push(...added);
      if (included.length > MAX_INCLUDES) throw tooCostly();
      frontier = added;
    }
    return included;
  }

  /** _include: the targets of the given reference parameter(s) of the frontier's resources. */
  async #forward(spec: IncludeSpec, frontier: readonly Found[], seen: Set<string>, filter: AccessFilter | undefined): Promise<Found[]> {
    const byType = new Map<string, Set<string>>();
    for (const f of frontier) {
      if (f.type !== spec.sourceType) continue;
      const params = spec.param !== undefined ? [spec.param] : [...searchParams(f.type).values()].filter((p) => p.type === 'reference');
      for (const param of params) {
        const v = paramValues(f.resource, param, this.#o.fhirBaseUrl);
        if (v?.type !== 'reference') continue;
        for (const ref of v.values) {
          const m = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/.exec(ref);
          if (m === null || (spec.targetType !== undefined && m[1] !== spec.targetType) || seen.has(ref)) continue;
          const [, t, id] = m as unknown as [string, string, string];
          if (!byType.has(t)) byType.set(t, new Set());
          byType.get(t)?.add(id);
        }
      }
    }
    const out: Found[] = [];
    for (const [t, ids] of byType) {
      if ((await filter?.clauseFor(t))?.kind === 'none') continue;
      out.push(...unseen(await this.#decrypt(await this.#o.store.readCurrentMany(this.#o.tenant, t, [...ids]), { confirm: [], filter }), seen));
    }
    return out;
  }

  /** _revinclude: resources of the source type whose reference parameter points at the frontier. */
  async #reverse(spec: IncludeSpec, frontier: readonly Found[], seen: Set<string>, filter: AccessFilter | undefined): Promise<Found[]> {
    const limit = await filter?.clauseFor(spec.sourceType);
    const params = spec.param !== undefined ? [spec.param] : [...searchParams(spec.sourceType).values()].filter((p) => p.type === 'reference');
    const out: Found[] = [];
    for (const param of params) {
      const targets = frontier.filter((f) => spec.targetType === undefined || f.type === spec.targetType).map((f) => `${f.type}/${f.id}`);
      if (targets.length === 0) continue;
      const hashes = targets.flatMap((t) => indexHashes(this.#o.blind, spec.sourceType, param, 'r', t));
      const rows = await this.#o.store.searchCandidates({
        tenant: this.#o.tenant,
        type: spec.sourceType,
        clauses: [{ kind: 'hash', param: param.code, hashes }, ...(limit === undefined ? [] : [limit])],
        order: 'id',
        limit: MAX_INCLUDES + 1,
      });
      if (rows.length > MAX_INCLUDES) throw tooCostly();
      out.push(...unseen(await this.#decrypt(rows, { confirm: [], filter }), seen));
    }
    return out;
  }

  /** Resolves a conditional reference or condition (`Patient?identifier=x|y`) to its matches. */
  async matchCondition(type: string, query: string, filter?: AccessFilter): Promise<Found[]> {
    const request = parseSearch(type, [...new URLSearchParams(query)], false);
    return this.#all(type, request.clauses, filter);
  }
}

/**
 * Feeds index clauses to `digest` exactly, to remember a search by: each value is tagged with its
 * kind and length, and hashes go in as bytes, so no text of a thousand hashes is built per request.
 */
function digestClauses(digest: Hash, value: unknown): void {
  if (value instanceof Uint8Array) {
    digest.update(`b${value.byteLength}:`).update(value);
  } else if (Array.isArray(value)) {
    digest.update(`a${value.length}:`);
    for (const v of value) digestClauses(digest, v);
  } else if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value);
    digest.update(`o${entries.length}:`);
    for (const [k, v] of entries) {
      digest.update(`${JSON.stringify(k)}:`);
      digestClauses(digest, v);
    }
  } else {
    digest.update(`v${JSON.stringify(value) ?? 'null'};`);
  }
}

/** The resources not yet in the page, marking them as seen. */
function unseen(found: readonly Found[], seen: Set<string>): Found[] {
  return found.filter((f) => {
    const key = `${f.type}/${f.id}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareKeys(a: string | number | undefined, b: string | number | undefined, descending: boolean): number {
  // Resources without a value sort last either way.
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? 1 : -1;
  const c = typeof a === 'number' && typeof b === 'number' ? a - b : byCodePoint(String(a), String(b));
  return descending ? -c : c;
}
