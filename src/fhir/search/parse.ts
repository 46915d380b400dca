import { VigilError } from '../../errors.js';
import { isKnownResourceType } from '../definitions.js';
import { searchParam, type SearchParam } from './params.js';

export type Prefix = 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le' | 'sa' | 'eb' | 'ap';
const PREFIXES = new Set<Prefix>(['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap']);

/** Modifiers this server implements, per parameter type. */
const MODIFIERS: Record<string, ReadonlySet<string>> = {
  string: new Set(['exact', 'contains', 'missing']),
  token: new Set(['not', 'text', 'missing']),
  date: new Set(['missing']),
  number: new Set(['missing']),
  quantity: new Set(['missing']),
  reference: new Set(['missing']),
  uri: new Set(['missing']),
};

/** One parameter of a search: a value test, a chain through a reference, or a reverse chain. */
export type Clause =
  | { readonly kind: 'value'; readonly param: SearchParam; readonly modifier?: string; readonly values: readonly string[] }
  | { readonly kind: 'id'; readonly values: readonly string[] }
  | { readonly kind: 'lastUpdated'; readonly values: readonly string[] }
  | { readonly kind: 'chain'; readonly param: SearchParam; readonly targetType: string; readonly inner: Clause }
  | { readonly kind: 'has'; readonly sourceType: string; readonly refParam: SearchParam; readonly inner: Clause };

export interface IncludeSpec {
  readonly sourceType: string;
  /** undefined for `*` (every reference parameter). */
  readonly param?: SearchParam;
  readonly targetType?: string;
  readonly iterate: boolean;
}

export interface SortKey {
  readonly code: string;
  readonly param?: SearchParam;
  readonly descending: boolean;
}

export interface SearchRequest {
  readonly type: string;
  readonly clauses: readonly Clause[];
  readonly count: number;
  readonly sort: readonly SortKey[];
  readonly total: 'none' | 'estimate' | 'accurate' | undefined;
  readonly summary: 'true' | 'text' | 'data' | 'count' | 'false' | undefined;
  readonly elements: readonly string[] | undefined;
  readonly include: readonly IncludeSpec[];
  readonly revinclude: readonly IncludeSpec[];
  readonly cursor: string | undefined;
  /** Parameters ignored under `Prefer: handling=lenient`. */
  readonly ignored: readonly string[];
  /** The parameters as understood, for the self link. */
  readonly canonical: readonly [string, string][];
}

export const DEFAULT_COUNT = 20;
export const MAX_COUNT = 1000;
const RESULT_PARAMS = new Set(['_count', '_sort', '_total', '_summary', '_elements', '_include', '_revinclude', '_cursor', '_format', '_pretty']);

function bad(message: string): VigilError {
  return new VigilError('ERR_BAD_REQUEST', message);
}

/** Splits a value on commas not escaped with a backslash, and unescapes `\,` `\|` `\$` `\\`. */
export function splitValues(raw: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i] as string;
    if (ch === '\\' && i + 1 < raw.length) {
      cur += `\\${raw[i + 1] as string}`;
      i++;
    } else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.filter((v) => v !== '');
}

/** Removes escapes from one value (after it was split). */
export function unescape(value: string): string {
  return value.replace(/\\([\\,$|])/g, '$1');
}

/** Splits a token or quantity value on unescaped `|`. */
export function splitPipes(value: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] as string;
    if (ch === '\\' && i + 1 < value.length) {
      cur += value[i + 1] as string;
      i++;
    } else if (ch === '|') {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  return parts;
}

/** Splits a leading comparison prefix off a date, number or quantity value. */
export function splitPrefix(value: string): { prefix: Prefix; rest: string } {
  const p = value.slice(0, 2) as Prefix;
  if (PREFIXES.has(p) && value.length > 2 && !/^[a-z]/.test(value.slice(2, 3))) return { prefix: p, rest: value.slice(2) };
  return { prefix: 'eq', rest: value };
}

function parseInclude(raw: string, iterate: boolean, reverse: boolean, type: string): IncludeSpec {
  const [sourceType, code, targetType, extra] = raw.split(':');
  if (sourceType === undefined || code === undefined || extra !== undefined || !isKnownResourceType(sourceType)) throw bad('An _include or _revinclude value is not valid');
  if (!reverse && sourceType !== type && !iterate) throw bad('_include must name the searched type (or use :iterate)');
  if (targetType !== undefined && !isKnownResourceType(targetType)) throw bad('An _include target type is not known');
  if (code === '*') return { sourceType, iterate, ...(targetType === undefined ? {} : { targetType }) };
  const param = searchParam(sourceType, code);
  if (param === undefined || param.type !== 'reference') throw bad('An _include or _revinclude parameter is not a reference parameter');
  return { sourceType, param, iterate, ...(targetType === undefined ? {} : { targetType }) };
}

/**
 * Parses one search parameter name (with modifiers, chains and `_has`) and its raw value into a
 * clause; returns undefined for an unknown parameter.
 */
function parseClause(type: string, name: string, raw: string, depth: number): Clause | undefined {
  if (depth > 4) throw bad('Chains may be at most four links long');
  if (name === '_id') return { kind: 'id', values: splitValues(raw).map(unescape) };
  if (name === '_lastUpdated') return { kind: 'lastUpdated', values: splitValues(raw) };
  if (name.startsWith('_has:')) {
    // _has:Observation:patient:code=1234-5
    const [, sourceType, refCode, ...rest] = name.split(':');
    if (sourceType === undefined || refCode === undefined || rest.length === 0 || !isKnownResourceType(sourceType)) throw bad('A _has parameter is not valid');
    const refParam = searchParam(sourceType, refCode);
    if (refParam === undefined || refParam.type !== 'reference') throw bad('A _has parameter does not name a reference parameter');
    const inner = parseClause(sourceType, rest.join(':'), raw, depth + 1);
    if (inner === undefined) return undefined;
    return { kind: 'has', sourceType, refParam, inner };
  }
  const dot = name.indexOf('.');
  if (dot > 0) {
    // subject:Patient.name=x, or general-practitioner.name=x
    const head = name.slice(0, dot);
    const [code, targetModifier] = head.split(':');
    const param = code === undefined ? undefined : searchParam(type, code);
    if (param === undefined) return undefined;
    if (param.type !== 'reference') throw bad('Only reference parameters can be chained');
    const targets = targetModifier !== undefined ? [targetModifier] : param.targets;
    if (targets.length !== 1 || targets[0] === undefined || !isKnownResourceType(targets[0]) || (targetModifier !== undefined && !param.targets.includes(targetModifier))) {
      throw bad('A chained parameter must name one target type, e.g. subject:Patient.name');
    }
    const inner = parseClause(targets[0], name.slice(dot + 1), raw, depth + 1);
    if (inner === undefined) return undefined;
    return { kind: 'chain', param, targetType: targets[0], inner };
  }
  const [code, modifier, extra] = name.split(':');
  if (code === undefined || extra !== undefined) return undefined;
  const param = searchParam(type, code);
  if (param === undefined) return undefined;
  if (param.type === 'composite' || param.type === 'special') throw bad('Composite and special search parameters are not supported');
  if (modifier !== undefined) {
    const typeModifier = param.type === 'reference' && param.targets.includes(modifier);
    if (!typeModifier && !(MODIFIERS[param.type]?.has(modifier) ?? false)) throw bad('A search modifier is not supported for this parameter');
    if (modifier === 'missing' && raw !== 'true' && raw !== 'false') throw bad(':missing takes true or false');
  }
  const values = modifier === 'missing' ? [raw] : splitValues(raw);
  if (values.length === 0) throw bad('A search parameter has no value');
  return { kind: 'value', param, ...(modifier === undefined ? {} : { modifier }), values };
}

/**
 * Parses a search (query string pairs, or the form body of `POST _search`). Unknown parameters get
 * ERR_BAD_REQUEST unless `lenient` (Prefer: handling=lenient), when they are ignored and listed.
 */
export function parseSearch(type: string, pairs: readonly [string, string][], lenient: boolean): SearchRequest {
  const clauses: Clause[] = [];
  const ignored: string[] = [];
  const canonical: [string, string][] = [];
  let count = DEFAULT_COUNT;
  let sort: SortKey[] = [];
  let total: SearchRequest['total'];
  let summary: SearchRequest['summary'];
  let elements: string[] | undefined;
  let cursor: string | undefined;
  const include: IncludeSpec[] = [];
  const revinclude: IncludeSpec[] = [];
  for (const [name, raw] of pairs) {
    if (RESULT_PARAMS.has(name) || name.startsWith('_include') || name.startsWith('_revinclude')) {
      if (name !== '_cursor' && name !== '_format' && name !== '_pretty') canonical.push([name, raw]);
      switch (name) {
        case '_count':
          if (!/^[0-9]{1,7}$/.test(raw)) throw bad('_count must be a non-negative integer');
          count = Math.min(Number(raw), MAX_COUNT);
          break;
        case '_sort':
          sort = raw.split(',').map((k) => {
            const descending = k.startsWith('-');
            const code = descending ? k.slice(1) : k;
            if (code === '_id' || code === '_lastUpdated') return { code, descending };
            const param = searchParam(type, code);
            if (param === undefined || param.type === 'composite' || param.type === 'special') throw bad('A _sort key is not a search parameter of this type');
            return { code, param, descending };
          });
          break;
        case '_total':
          if (raw !== 'none' && raw !== 'estimate' && raw !== 'accurate') throw bad('_total must be none, estimate or accurate');
          total = raw;
          break;
        case '_summary':
          if (!['true', 'text', 'data', 'count', 'false'].includes(raw)) throw bad('_summary must be true, text, data, count or false');
          summary = raw as SearchRequest['summary'];
          break;
        case '_elements':
          elements = raw.split(',').map((e) => e.trim()).filter((e) => e !== '');
          if (elements.some((e) => !/^[A-Za-z][A-Za-z0-9]*(\[x\])?$/.test(e))) throw bad('_elements lists element names');
          break;
        case '_cursor':
          cursor = raw;
          break;
        case '_format':
        case '_pretty':
          break;
        default: {
          const [base, mod] = name.split(':');
          if ((base !== '_include' && base !== '_revinclude') || (mod !== undefined && mod !== 'iterate' && mod !== 'recurse')) throw bad('An _include or _revinclude modifier is not supported');
          const spec = parseInclude(raw, mod !== undefined, base === '_revinclude', type);
          (base === '_include' ? include : revinclude).push(spec);
        }
      }
      continue;
    }
    const clause = parseClause(type, name, raw, 0);
    if (clause === undefined) {
      if (!lenient) throw bad('A search parameter is not known for this resource type');
      ignored.push(name);
      continue;
    }
    clauses.push(clause);
    canonical.push([name, raw]);
  }
  return { type, clauses, count, sort, total, summary, elements, include, revinclude, cursor, ignored, canonical };
}

/** Every type a clause reads through (chains, _has): a search needs its scope on each of them too. */
export function clauseTypes(clause: Clause): string[] {
  switch (clause.kind) {
    case 'chain':
      return [clause.targetType, ...clauseTypes(clause.inner)];
    case 'has':
      return [clause.sourceType, ...clauseTypes(clause.inner)];
    default:
      return [];
  }
}
