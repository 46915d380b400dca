import { toTypedValue, type TypedValue } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import type { HashIndexRow, RangeIndexRow, IndexRows } from '../../store/index.js';
import { BlindIndex, PREFIX_LENGTHS, TEXT_PREFIXES, normalize, prefix, trigrams, type HashTag } from './blind-index.js';
import { INDEX_FORMAT, indexedParams, type IndexFormat, type SearchParam } from './params.js';
import { paramValues, type ParamValues } from './values.js';
import { patientsOf } from '../compartment.js';

/**
 * The internal parameter naming the patients a resource belongs to (blind-hashed `Patient/id`),
 * so the access policy can limit a search to the patients a caller may see inside SQL. Its name
 * starts with an underscore no R4 parameter uses; clients cannot search by it.
 */
export const COMPARTMENT_PARAM = '_compartment';

/**
 * The internal parameter of the presence mask (index format 3): one range row per resource, its
 * value the sum of the bits (presenceBits) of the parameters that have a value, for `:missing`.
 * Formats 1 and 2 wrote a marker hash row per such parameter instead, a fifth of all rows.
 */
export const PRESENCE_PARAM = '_present';
/** Parameters a mask can hold: it is stored as a double, whose integers are exact below 2^53. */
const PRESENCE_BITS = 52;

const presenceOrders = new WeakMap<BlindIndex, Map<string, ReadonlyMap<string, number>>>();

/**
 * The bit (a power of two) of each indexed parameter of `type` in its presence mask (format 3's
 * parameters). Bits follow the order of the parameters' marker hashes, so each index key numbers
 * them its own way: like the markers, a mask shows which resources have the same parameters, but
 * names none of them.
 */
export function presenceBits(blind: BlindIndex, type: string): ReadonlyMap<string, number> {
  let byType = presenceOrders.get(blind);
  if (byType === undefined) {
    byType = new Map();
    presenceOrders.set(blind, byType);
  }
  let bits = byType.get(type);
  if (bits === undefined) {
    const params = indexedParams(type, 3);
    if (params.length > PRESENCE_BITS) throw new Error(`${type} has more search parameters than a presence mask holds`);
    const keyed = params.map((p) => ({ code: p.code, key: blind.hash(type, p.code, 'm', '') })).sort((a, b) => Buffer.compare(a.key, b.key));
    bits = new Map(keyed.map((k, i) => [k.code, 2 ** i]));
    byType.set(type, bits);
  }
  return bits;
}

/** UTC year, month and day buckets of an instant, for identifying dates. */
export function dateBuckets(ms: number): { dy: string; dm: string; dd: string } {
  const iso = new Date(ms).toISOString();
  const year = Number(iso.slice(0, 4));
  // Years outside the enumerable span share one bucket, always a candidate for open-ended queries.
  const dy = year < BUCKET_YEAR_MIN || year > BUCKET_YEAR_MAX ? 'other' : iso.slice(0, 4);
  return { dy, dm: iso.slice(0, 7), dd: iso.slice(0, 10) };
}

/** Years whose buckets a range query enumerates; others fall in the shared `other` bucket. */
export const BUCKET_YEAR_MIN = 1800;
export const BUCKET_YEAR_MAX = 2200;

/**
 * Hash forms worth remembering: the value-less marker, token forms and uris, which repeat across
 * resources, and references (server ids, not names), which repeat across one patient's records.
 */
const CACHED_TAGS = new Set<HashTag>(['m', 'c', 's', 'n', 'y', 'x', 'u', 'r', 'i']);
/**
 * Token parameters whose values identify a person: their hashes are never remembered, so the
 * cache holds only codes, systems and displays shared by many records, not who they belong to.
 */
const PERSONAL_TOKENS = new Set(['identifier', 'telecom', 'email', 'phone']);
/** Entries kept before the cache starts over (a few MB at most). */
const CACHE_MAX = 50_000;

/**
 * Builds the index rows of one resource: blind-index hashes for strings, tokens, references, uris
 * and identifying dates; plaintext ranges only for non-identifying dates, numbers and quantities.
 */
export class IndexBuilder {
  readonly #blind: BlindIndex;
  readonly #base: string;
  /** Hashes of repeated non-identifying forms (status codes, LOINC codes, references): an HMAC costs microseconds, a lookup far less. */
  readonly #cache = new Map<string, Buffer>();
  readonly #format: IndexFormat;

  /** An earlier `format` builds the rows earlier versions wrote, for rebuilding their versions' index (restore). */
  constructor(blind: BlindIndex, fhirBaseUrl: string, format: IndexFormat = INDEX_FORMAT) {
    this.#blind = blind;
    this.#base = fhirBaseUrl;
    this.#format = format;
  }

  #hash(type: string, param: string, tag: HashTag, value: string): Buffer {
    if (!CACHED_TAGS.has(tag) || PERSONAL_TOKENS.has(param)) return this.#blind.hash(type, param, tag, value);
    const key = `${type}\u0000${param}\u0000${tag}\u0000${value}`;
    let hash = this.#cache.get(key);
    if (hash === undefined) {
      if (this.#cache.size >= CACHE_MAX) this.#cache.clear();
      hash = this.#blind.hash(type, param, tag, value);
      this.#cache.set(key, hash);
    }
    return hash;
  }

  rows(resource: Resource): IndexRows {
    const type = resource.resourceType;
    let typed: TypedValue | undefined;
    // FHIRPath's input is built only when a parameter needs FHIRPath (most are read directly).
    const root = (): TypedValue => (typed ??= toTypedValue(resource));
    const hashes = new Map<string, HashIndexRow>();
    const ranges: RangeIndexRow[] = [];
    const add = (param: string, tag: HashTag, value: string): void => {
      const hash = this.#hash(type, param, tag, value);
      hashes.set(`${param}\u0000${hash.toString('latin1')}`, { param, hash });
    };
    // Format 3 marks presence in a mask and writes no rows for an alias (plan.ts reads the rows of the parameter it narrows).
    const bits = this.#format >= 3 ? presenceBits(this.#blind, type) : undefined;
    let mask = 0;
    for (const param of indexedParams(type, this.#format)) {
      const found = paramValues(resource, param, this.#base, root);
      if (found === undefined || found.values.length === 0) continue;
      if (bits === undefined) {
        add(param.code, 'm', '');
        this.#add(type, param, found, add, ranges);
        continue;
      }
      mask += bits.get(param.code) ?? 0;
      if (param.alias === undefined) this.#add(type, param, found, add, ranges);
    }
    if (mask !== 0) ranges.push({ param: PRESENCE_PARAM, lo: mask, hi: mask, unit: null, unit2: null });
    for (const patient of patientsOf(resource, this.#base)) add(COMPARTMENT_PARAM, 'r', `Patient/${patient}`);
    return { hashes: [...hashes.values()], ranges };
  }

  #add(type: string, param: SearchParam, found: ParamValues, add: (param: string, tag: HashTag, value: string) => void, ranges: RangeIndexRow[]): void {
    const code = param.code;
    switch (found.type) {
      case 'string':
        for (const raw of found.values) {
          add(code, 'e', raw);
          const norm = normalize(raw);
          const length = Array.from(norm).length;
          for (const n of PREFIX_LENGTHS) if (n <= length) add(code, 'p', prefix(norm, n));
          for (const g of trigrams(norm, 3)) add(code, 'g', g);
        }
        return;
      case 'token':
        for (const t of found.values) {
          if (t.code !== undefined) {
            add(code, 'c', t.code);
            if (t.system !== undefined) add(code, 's', `${t.system}|${t.code}`);
            // A systemless parameter's `|code` is its code (plan.ts), from format 3 on.
            else if (param.systemless !== true || this.#format < 3) add(code, 'n', t.code);
          }
          if (t.system !== undefined) add(code, 'y', t.system);
          if (t.text !== undefined) {
            const norm = normalize(t.text);
            const length = Array.from(norm).length;
            for (const n of TEXT_PREFIXES) if (n <= length) add(code, 'x', prefix(norm, n));
          }
        }
        return;
      case 'reference':
        for (const ref of found.values) {
          add(code, 'r', ref);
          // A bare id searches the `r` form when the parameter has one target type (plan.ts), so only others need `i`.
          const slash = ref.indexOf('/');
          if (param.targets.length !== 1 && slash > 0 && !ref.includes(':')) add(code, 'i', ref.slice(slash + 1));
        }
        return;
      case 'uri':
        for (const uri of found.values) add(code, 'u', uri);
        return;
      case 'date':
        for (const r of found.values) {
          if (param.identifying) {
            // Only buckets at the value's own precision are hashed; a range query narrows by them and decrypts to confirm.
            if (!Number.isFinite(r.lo)) continue;
            const b = dateBuckets(r.lo);
            add(code, 'dy', b.dy);
            if (r.hi - r.lo < 32 * 86_400_000) add(code, 'dm', b.dm);
            if (r.hi - r.lo < 86_400_000) add(code, 'dd', b.dd);
          } else {
            ranges.push({ param: code, lo: r.lo, hi: r.hi, unit: null, unit2: null });
          }
        }
        return;
      case 'number':
        for (const v of found.values) ranges.push({ param: code, lo: v, hi: v, unit: null, unit2: null });
        return;
      case 'quantity':
        for (const q of found.values) {
          const unit = q.system !== undefined && q.code !== undefined ? this.#hash(type, code, 's', `${q.system}|${q.code}`) : null;
          const bare = q.code ?? q.unit;
          ranges.push({ param: code, lo: q.value, hi: q.value, unit, unit2: bare === undefined ? null : this.#hash(type, code, 'c', bare) });
        }
        return;
    }
  }
}
