import type { Resource } from '@medplum/fhirtypes';
import { VigilError } from '../../errors.js';
import type { RangeCondition, SearchClause } from '../../store/index.js';
import { BlindIndex, CONTAINS_MIN, normalize, prefix, prefixLength, textPrefixLength, trigrams } from './blind-index.js';
import { BUCKET_YEAR_MAX, BUCKET_YEAR_MIN, PRESENCE_PARAM, dateBuckets, presenceBits } from './index-rows.js';
import { numberConditions, parseDateValue, rangeConditions, rangeMatches } from './conditions.js';
import { storedUnder, type SearchParam } from './params.js';
import { splitPipes, splitPrefix, unescape, type Clause } from './parse.js';
import { normalizeReference, paramValues, type TokenValue } from './values.js';

/** A test run on decrypted candidates, for what the index can only narrow (long prefixes, :contains, identifying dates). */
export type Confirm = (resource: Resource) => boolean;

export interface PlannedClause {
  readonly clauses: SearchClause[];
  readonly confirm?: Confirm;
}

export interface PlanContext {
  readonly type: string;
  /** Whether the store may hold marker rows of index formats 1 and 2 for `type` (default: it may). */
  readonly markers?: boolean;
  readonly blind: BlindIndex;
  readonly fhirBaseUrl: string;
  readonly now: number;
  /** Runs a nested search (chains, _has) and returns the matching ids of `type`. */
  readonly resolveIds: (type: string, clause: Clause) => Promise<string[]>;
  /** Reference values of `param` in the resources of `type` matching `clause` (for _has). */
  readonly resolveReferences: (type: string, clause: Clause, param: SearchParam) => Promise<string[]>;
}

const MAX_BUCKETS = 5000;

type Tag = Parameters<BlindIndex['hash']>[2];

/**
 * The hashes a value of `param` is indexed under: one, one per part of a union parameter
 * (`combo-code` matches what `code` or `component-code` holds), or for an alias the narrowed
 * parameter's (`Observation.patient=Patient/1` is `subject=Patient/1`; any other type, none).
 * Listed in one clause, they are OR-ed.
 */
export function indexHashes(blind: BlindIndex, type: string, param: SearchParam, tag: Tag, value: string): Uint8Array[] {
  // An alias's values are the rows of the parameter it narrows that point at its type; it holds no other.
  const alias = tag === 'm' ? undefined : param.alias;
  if (alias !== undefined) return value.startsWith(`${alias.type}/`) ? [blind.hash(type, alias.of.code, tag, value)] : [];
  return storedUnder(param).map((part) => blind.hash(type, part.code, tag, value));
}

/** A clause that marks a parameter as present: the mask bits (range) or an old-format marker (hash). */
type Mark = Extract<SearchClause, { kind: 'range' }> | Extract<SearchClause, { kind: 'hash' }>;

/**
 * Where `param` (a union: any of its parts) is marked as having a value: its bits in the presence
 * mask (index format 3), and its marker hash (rows written in formats 1 and 2, which a store
 * keeps until they are rewritten: both are read, so a store of mixed formats answers alike, unless
 * the store holds no marker of the type, `ctx.markers` false).
 */
function presence(ctx: PlanContext, param: SearchParam): Mark[] {
  const bits = presenceBits(ctx.blind, ctx.type);
  const mask = storedUnder(param).reduce((sum, part) => sum + (bits.get(part.code) ?? 0), 0);
  const marks: Mark[] = [{ kind: 'range', param: PRESENCE_PARAM, any: [{ bits: mask }] }];
  if (ctx.markers !== false) marks.push({ kind: 'hash', param: param.code, hashes: indexHashes(ctx.blind, ctx.type, param, 'm', '') });
  return marks;
}

/** Matches the resources where `param` has a value (`:missing=false`): any mark. */
function present(ctx: PlanContext, param: SearchParam): SearchClause {
  const marks = presence(ctx, param);
  return marks.length === 1 ? (marks[0] as SearchClause) : { kind: 'any', groups: marks.map((m) => [m]) };
}

/** Matches the resources where `param` has no value (`:missing=true`): no mark. */
function absent(ctx: PlanContext, param: SearchParam): SearchClause[] {
  return presence(ctx, param).map((m) => ({ ...m, negate: true }));
}

/**
 * One value's range clauses over the rows of `param` (a union's are its parts'): matching when any
 * part has a row in range or, with `negate`, when none has.
 */
function rangeClauses(param: SearchParam, conditions: (part: SearchParam) => readonly RangeCondition[], negate: boolean): SearchClause[] {
  const clauses = storedUnder(param).map((part): SearchClause => ({ kind: 'range', param: part.code, any: conditions(part), ...(negate ? { negate } : {}) }));
  return negate || clauses.length === 1 ? clauses : [{ kind: 'any', groups: clauses.map((c) => [c]) }];
}

/**
 * OR of several values: when any value needs confirming, every value's exact test runs (a
 * candidate found through an exact value must not be dropped, nor one found through a loose one kept).
 */
function anyConfirm(planned: { test: Confirm; loose: boolean }[]): Confirm | undefined {
  if (!planned.some((p) => p.loose)) return undefined;
  return (r) => planned.some((p) => p.test(r));
}

/** Plans one value of a string parameter. */
function stringValue(ctx: PlanContext, param: SearchParam, modifier: string | undefined, raw: string): { group: SearchClause[]; test: Confirm; loose: boolean } {
  const value = unescape(raw);
  const h = (tag: Tag, v: string): Uint8Array[] => indexHashes(ctx.blind, ctx.type, param, tag, v);
  const values = (r: Resource): string[] => {
    const found = paramValues(r, param, ctx.fhirBaseUrl);
    return found?.type === 'string' ? found.values : [];
  };
  if (modifier === 'exact') return { group: [{ kind: 'hash', param: param.code, hashes: h('e', value) }], test: (r) => values(r).includes(value), loose: false };
  const norm = normalize(value);
  const length = Array.from(norm).length;
  if (modifier === 'contains') {
    const test: Confirm = (r) => values(r).some((v) => normalize(v).includes(norm));
    if (length < CONTAINS_MIN) return { group: [present(ctx, param)], test, loose: true };
    // One of the three alignments of the query lines up with the value's indexed trigrams.
    const alignments: SearchClause[][] = [0, 1, 2].map((offset) => trigrams(norm, 3, offset).map((g) => ({ kind: 'hash', param: param.code, hashes: h('g', g) })));
    return { group: [{ kind: 'any', groups: alignments }], test, loose: true };
  }
  const indexed = prefixLength(length);
  if (indexed === 0) return { group: [present(ctx, param)], test: () => true, loose: false };
  const group: SearchClause[] = [{ kind: 'hash', param: param.code, hashes: h('p', prefix(norm, indexed)) }];
  return { group, test: (r) => values(r).some((v) => normalize(v).startsWith(norm)), loose: indexed !== length };
}

/** Plans one value of a token parameter (hash forms only; `:not` is applied by the caller). */
function tokenHashes(ctx: PlanContext, param: SearchParam, modifier: string | undefined, raw: string): { hashes: Uint8Array[]; test: Confirm; loose: boolean; anyValue?: true } {
  const h = (tag: Tag, v: string): Uint8Array[] => indexHashes(ctx.blind, ctx.type, param, tag, v);
  const tokens = (r: Resource): TokenValue[] => {
    const found = paramValues(r, param, ctx.fhirBaseUrl);
    return found?.type === 'token' ? found.values : [];
  };
  if (modifier === 'text') {
    const norm = normalize(unescape(raw));
    const test: Confirm = (r) => tokens(r).some((t) => t.text !== undefined && normalize(t.text).startsWith(norm));
    const length = Array.from(norm).length;
    const indexed = textPrefixLength(length);
    // Shorter than the shortest indexed prefix: every resource with a value is a candidate.
    if (indexed === 0) return { hashes: [], test, loose: true, anyValue: true };
    return { hashes: h('x', prefix(norm, indexed)), test, loose: indexed !== length };
  }
  const parts = splitPipes(raw);
  if (parts.length === 1) {
    const code = parts[0] ?? '';
    return { hashes: h('c', code), test: (r) => tokens(r).some((t) => t.code === code), loose: false };
  }
  if (parts.length !== 2) throw new VigilError('ERR_BAD_REQUEST', 'A token search value has more than one |');
  const [system, code] = parts as [string, string];
  if (system === '' && code === '') throw new VigilError('ERR_BAD_REQUEST', 'A token search value is empty');
  // `|code`: a systemless parameter's codes have no system, so its code rows are the ones (formats 1 and 2 wrote both).
  if (system === '') return { hashes: storedUnder(param).map((part) => ctx.blind.hash(ctx.type, part.code, part.systemless === true ? 'c' : 'n', code)), test: (r) => tokens(r).some((t) => t.system === undefined && t.code === code), loose: false };
  if (code === '') return { hashes: h('y', system), test: (r) => tokens(r).some((t) => t.system === system), loose: false };
  return { hashes: h('s', `${system}|${code}`), test: (r) => tokens(r).some((t) => t.system === system && t.code === code), loose: false };
}

function referenceHashes(ctx: PlanContext, param: SearchParam, modifier: string | undefined, raw: string): Uint8Array[] {
  const value = unescape(raw);
  const h = (tag: 'r' | 'i', v: string): Uint8Array[] => indexHashes(ctx.blind, ctx.type, param, tag, v);
  if (modifier !== undefined) return h('r', `${modifier}/${value}`);
  if (value.includes('/')) return h('r', normalizeReference(value, ctx.fhirBaseUrl));
  if (param.targets.length === 1) return h('r', `${param.targets[0] ?? ''}/${value}`);
  return h('i', value);
}

/** Year (then month, day) bucket hashes that cover every identifying date the range test could accept. */
function bucketHashes(ctx: PlanContext, param: SearchParam, lo: number, hi: number): Uint8Array[] {
  const h = (tag: 'dy' | 'dm' | 'dd', v: string): Uint8Array[] => indexHashes(ctx.blind, ctx.type, param, tag, v);
  const out: Uint8Array[] = h('dy', 'other');
  const fromYear = Math.max(BUCKET_YEAR_MIN, Number.isFinite(lo) ? new Date(lo).getUTCFullYear() : BUCKET_YEAR_MIN);
  const toYear = Math.min(BUCKET_YEAR_MAX, Number.isFinite(hi) ? new Date(hi).getUTCFullYear() : BUCKET_YEAR_MAX);
  if (toYear - fromYear > MAX_BUCKETS) throw new VigilError('ERR_BAD_REQUEST', 'A date range is too wide');
  if (fromYear === toYear && Number.isFinite(lo) && Number.isFinite(hi) && hi - lo < 32 * 86_400_000) {
    // Within one month or less: day buckets when the range is a few days, else the month's bucket.
    if (hi - lo <= 7 * 86_400_000) {
      for (let t = lo; t <= hi + 86_400_000; t += 86_400_000) out.push(...h('dd', dateBuckets(Math.min(t, hi)).dd));
      // Dates of month or year precision can also satisfy the test (e.g. `ne`, `ap`): keep their buckets.
      out.push(...h('dm', dateBuckets(lo).dm), ...h('dy', dateBuckets(lo).dy));
      return out;
    }
  }
  for (let y = fromYear; y <= toYear; y++) out.push(...h('dy', String(y)));
  return out;
}

/**
 * The span the start of an identifying date value can lie in to pass `raw` (prefix and date):
 * values of year precision or finer lie within one year, so the year of a value's start bounds
 * which values each prefix can accept. Undefined for `ne` (no bound).
 */
function identifyingWindow(ctx: PlanContext, raw: string): { lo: number; hi: number } | undefined {
  const { prefix: p, rest } = splitPrefix(raw);
  const q = parseDateValue(rest);
  const windows: Partial<Record<typeof p, { lo: number; hi: number }>> = {
    eq: q,
    ap: { lo: q.lo - 0.2 * Math.abs(ctx.now - q.lo) - 86_400_000 * 2, hi: q.hi + 0.2 * Math.abs(ctx.now - q.hi) + 86_400_000 * 2 },
    gt: { lo: q.lo, hi: Infinity },
    ge: { lo: q.lo, hi: Infinity },
    sa: { lo: q.hi, hi: Infinity },
    lt: { lo: -Infinity, hi: q.lo },
    eb: { lo: -Infinity, hi: q.lo },
    le: { lo: -Infinity, hi: q.hi },
  };
  return windows[p];
}

/**
 * Plans the AND-ed clauses of one search. Several one-value clauses on the same identifying date
 * (`birthdate=ge1960&birthdate=lt1965`) are narrowed together: one hash clause lists only the
 * years all of them accept (each alone would list every year from 1960 on, or up to 1965), and
 * each clause's own test still confirms every candidate.
 */
export async function planClauses(ctx: PlanContext, clauses: readonly Clause[]): Promise<PlannedClause[]> {
  const out: PlannedClause[] = [];
  const dates = new Map<SearchParam, Extract<Clause, { kind: 'value' }>[]>();
  for (const clause of clauses) {
    if (clause.kind === 'value' && clause.param.identifying && clause.modifier === undefined && clause.values.length === 1) {
      dates.set(clause.param, [...(dates.get(clause.param) ?? []), clause]);
    } else {
      out.push(await planClause(ctx, clause));
    }
  }
  for (const [param, group] of dates) {
    const windows = group.map((c) => identifyingWindow(ctx, c.values[0] ?? ''));
    if (group.length === 1 || windows.some((w) => w === undefined)) {
      for (const clause of group) out.push(await planClause(ctx, clause));
      continue;
    }
    const lo = Math.max(...windows.map((w) => w?.lo ?? -Infinity));
    const hi = Math.min(...windows.map((w) => w?.hi ?? Infinity));
    const tests = group.map((c) => dateValue(ctx, param, c.values[0] ?? '').test);
    // Windows that do not overlap leave no year: nothing can pass every clause.
    const clause: SearchClause = lo > hi ? { kind: 'none' } : { kind: 'hash', param: param.code, hashes: bucketHashes(ctx, param, lo, hi) };
    out.push({ clauses: [clause], confirm: (r) => tests.every((t) => t(r)) });
  }
  return out;
}

/** Plans a date value: plaintext range rows for clinical dates, bucket hashes plus decryption for identifying ones. */
function dateValue(ctx: PlanContext, param: SearchParam, raw: string): { group: SearchClause[]; test: Confirm; loose: boolean } {
  const { prefix: p, rest } = splitPrefix(raw);
  const q = parseDateValue(rest);
  const test: Confirm = (r) => {
    const found = paramValues(r, param, ctx.fhirBaseUrl);
    const values = found?.type === 'date' ? found.values : [];
    if (p === 'ne') return values.length > 0 && !values.some((v) => rangeMatches('eq', v, q, ctx.now));
    return values.some((v) => rangeMatches(p, v, q, ctx.now));
  };
  if (param.identifying) {
    const wide = identifyingWindow(ctx, raw);
    const group = wide === undefined ? [present(ctx, param)] : [{ kind: 'hash', param: param.code, hashes: bucketHashes(ctx, param, wide.lo, wide.hi) } as const];
    return { group, test, loose: true };
  }
  const { any, negate } = rangeConditions(p, q, ctx.now);
  // A `ne` value is "has a value and none equal".
  return { group: negate ? [present(ctx, param), ...rangeClauses(param, () => any, true)] : rangeClauses(param, () => any, false), test, loose: false };
}

/** One number or quantity value's range clauses; a unit is hashed under the parameter whose rows are read. */
function quantityValue(ctx: PlanContext, param: SearchParam, raw: string): SearchClause[] {
  const parts = splitPipes(raw);
  const { prefix: p, rest } = splitPrefix(parts[0] ?? '');
  const { any, negate } = numberConditions(p, rest);
  let conditions: (part: SearchParam) => readonly RangeCondition[] = () => any;
  if (param.type === 'quantity' && parts.length > 1) {
    if (parts.length !== 3) throw new VigilError('ERR_BAD_REQUEST', 'A quantity search value must be number|system|code');
    const [, system, code] = parts as [string, string, string];
    const unit = (part: SearchParam): { unit?: Uint8Array; unit2?: Uint8Array } =>
      system !== '' ? { unit: ctx.blind.hash(ctx.type, part.code, 's', `${system}|${code}`) } : code !== '' ? { unit2: ctx.blind.hash(ctx.type, part.code, 'c', code) } : {};
    conditions = (part: SearchParam) => any.map((c) => ({ ...c, ...unit(part) }));
  }
  // A `ne` value is "has a value and none equal".
  return negate ? [present(ctx, param), ...rangeClauses(param, conditions, true)] : rangeClauses(param, conditions, false);
}

/**
 * Turns one parsed clause into store clauses (AND-ed) and an optional confirmation test. Several
 * comma-separated values are OR-ed.
 */
export async function planClause(ctx: PlanContext, clause: Clause): Promise<PlannedClause> {
  switch (clause.kind) {
    case 'id':
      return { clauses: [{ kind: 'id', ids: [...clause.values] }] };
    case 'lastUpdated': {
      const any: RangeCondition[] = [];
      const negated: RangeCondition[] = [];
      for (const raw of clause.values) {
        const { prefix: p, rest } = splitPrefix(raw);
        const c = rangeConditions(p, parseDateValue(rest), ctx.now);
        (c.negate ? negated : any).push(...c.any);
      }
      const out: SearchClause[] = [];
      if (any.length > 0) out.push({ kind: 'lastUpdated', any });
      if (negated.length > 0) out.push({ kind: 'lastUpdated', any: negated, negate: true });
      return { clauses: out };
    }
    case 'chain': {
      const ids = await ctx.resolveIds(clause.targetType, clause.inner);
      if (ids.length === 0) return { clauses: [{ kind: 'none' }] };
      return { clauses: [{ kind: 'hash', param: clause.param.code, hashes: ids.flatMap((id) => indexHashes(ctx.blind, ctx.type, clause.param, 'r', `${clause.targetType}/${id}`)) }] };
    }
    case 'has': {
      const refs = await ctx.resolveReferences(clause.sourceType, clause.inner, clause.refParam);
      const ids = refs.flatMap((ref) => (ref.startsWith(`${ctx.type}/`) ? [ref.slice(ctx.type.length + 1)] : []));
      return { clauses: ids.length === 0 ? [{ kind: 'none' }] : [{ kind: 'id', ids: [...new Set(ids)] }] };
    }
    case 'value':
      return planValue(ctx, clause.param, clause.modifier, clause.values);
  }
}

function planValue(ctx: PlanContext, param: SearchParam, modifier: string | undefined, values: readonly string[]): PlannedClause {
  const code = param.code;
  if (modifier === 'missing') {
    return { clauses: values[0] === 'true' ? absent(ctx, param) : [present(ctx, param)] };
  }
  switch (param.type) {
    case 'string': {
      const planned = values.map((v) => stringValue(ctx, param, modifier, v));
      return { clauses: [{ kind: 'any', groups: planned.map((p) => p.group) }], ...optional(anyConfirm(planned)) };
    }
    case 'token': {
      const planned = values.map((v) => tokenHashes(ctx, param, modifier, v));
      const hashes = planned.flatMap((p) => p.hashes);
      if (modifier === 'not') return { clauses: [{ kind: 'hash', param: code, hashes, negate: true }] };
      // A value too short for the text index is a candidate wherever the parameter has a value, and so is the OR.
      if (planned.some((p) => p.anyValue === true)) return { clauses: [present(ctx, param)], ...optional(anyConfirm(planned)) };
      return { clauses: [{ kind: 'hash', param: code, hashes }], ...optional(anyConfirm(planned)) };
    }
    case 'reference':
      return { clauses: [{ kind: 'hash', param: code, hashes: values.flatMap((v) => referenceHashes(ctx, param, modifier, v)) }] };
    case 'uri':
      return { clauses: [{ kind: 'hash', param: code, hashes: values.flatMap((v) => indexHashes(ctx.blind, ctx.type, param, 'u', unescape(v))) }] };
    case 'date': {
      const planned = values.map((v) => dateValue(ctx, param, v));
      return { clauses: [{ kind: 'any', groups: planned.map((p) => p.group) }], ...optional(anyConfirm(planned)) };
    }
    case 'number':
    case 'quantity':
      return { clauses: [{ kind: 'any', groups: values.map((v) => quantityValue(ctx, param, v)) }] };
    default:
      throw new VigilError('ERR_BAD_REQUEST', 'This search parameter type is not supported');
  }
}

function optional(confirm: Confirm | undefined): { confirm?: Confirm } {
  return confirm === undefined ? {} : { confirm };
}
