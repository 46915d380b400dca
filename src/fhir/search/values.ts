import { toTypedValue, type TypedValue } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import type { SearchParam } from './params.js';
import { dateRange, type Range } from './dates.js';

/** A token: a code with an optional system (`undefined` = no system element), plus display text. */
export interface TokenValue {
  readonly system: string | undefined;
  readonly code: string | undefined;
  readonly text?: string;
}

export interface QuantityValue {
  readonly value: number;
  readonly system: string | undefined;
  readonly code: string | undefined;
  readonly unit: string | undefined;
}

/** The values one search parameter takes in one resource, by parameter type. */
export type ParamValues =
  | { readonly type: 'string'; readonly values: string[] }
  | { readonly type: 'token'; readonly values: TokenValue[] }
  | { readonly type: 'reference'; readonly values: string[] }
  | { readonly type: 'uri'; readonly values: string[] }
  | { readonly type: 'date'; readonly values: Range[] }
  | { readonly type: 'number'; readonly values: number[] }
  | { readonly type: 'quantity'; readonly values: QuantityValue[] };

type Obj = Record<string, unknown>;

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function strings(v: unknown): string[] {
  if (Array.isArray(v)) return v.flatMap(strings);
  const s = str(v);
  return s === undefined ? [] : [s];
}

function stringValues(tv: TypedValue): string[] {
  const v = tv.value as unknown;
  if (typeof v === 'string') return [v];
  if (typeof v !== 'object' || v === null) return [];
  const o = v as Obj;
  switch (tv.type) {
    case 'HumanName':
      return [...strings(o['family']), ...strings(o['given']), ...strings(o['prefix']), ...strings(o['suffix']), ...strings(o['text'])];
    case 'Address':
      return [...strings(o['line']), ...strings(o['city']), ...strings(o['district']), ...strings(o['state']), ...strings(o['postalCode']), ...strings(o['country']), ...strings(o['text'])];
    default:
      return strings(o['text']);
  }
}

function tokenValues(tv: TypedValue): TokenValue[] {
  const v = tv.value as unknown;
  if (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') return [{ system: undefined, code: String(v) }];
  if (typeof v !== 'object' || v === null) return [];
  const o = v as Obj;
  const coding = (c: Obj): TokenValue => ({ system: str(c['system']), code: str(c['code']), ...(str(c['display']) === undefined ? {} : { text: str(c['display']) }) });
  switch (tv.type) {
    case 'Coding':
      return [coding(o)];
    case 'CodeableConcept': {
      const out = (Array.isArray(o['coding']) ? (o['coding'] as Obj[]) : []).map(coding);
      const text = str(o['text']);
      return text === undefined ? out : [...out, { system: undefined, code: undefined, text }];
    }
    case 'Identifier': {
      const typeText = str((o['type'] as Obj | undefined)?.['text']);
      return [{ system: str(o['system']), code: str(o['value']), ...(typeText === undefined ? {} : { text: typeText }) }];
    }
    case 'ContactPoint':
      return [{ system: undefined, code: str(o['value']) }];
    default:
      return [];
  }
}

/** A reference as the index keeps it: `Type/id` for relative and local absolute ones, else as written. */
export function normalizeReference(reference: string, fhirBaseUrl: string): string {
  let r = reference;
  if (r.startsWith(`${fhirBaseUrl}/`)) r = r.slice(fhirBaseUrl.length + 1);
  const m = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(\/_history\/.*)?$/.exec(r);
  return m === null ? r : `${m[1]}/${m[2]}`;
}

function referenceValues(tv: TypedValue, base: string): string[] {
  const v = tv.value as unknown;
  if (typeof v === 'string') return [v];
  if (typeof v !== 'object' || v === null) return [];
  const ref = str((v as Obj)['reference']);
  return ref === undefined ? [] : [normalizeReference(ref, base)];
}

function dateValues(tv: TypedValue): Range[] {
  const v = tv.value as unknown;
  if (typeof v === 'string') {
    const r = dateRange(v);
    return r === undefined ? [] : [r];
  }
  if (typeof v !== 'object' || v === null) return [];
  const o = v as Obj;
  if (tv.type === 'Period') {
    const start = typeof o['start'] === 'string' ? dateRange(o['start']) : undefined;
    const end = typeof o['end'] === 'string' ? dateRange(o['end']) : undefined;
    if (start === undefined && end === undefined) return [];
    return [{ lo: start?.lo ?? -Infinity, hi: end?.hi ?? Infinity }];
  }
  if (tv.type === 'Timing') {
    return strings(o['event']).flatMap((e) => {
      const r = dateRange(e);
      return r === undefined ? [] : [r];
    });
  }
  return [];
}

function numberValues(tv: TypedValue): number[] {
  const v = tv.value as unknown;
  if (typeof v === 'number') return [v];
  if (typeof v === 'object' && v !== null && typeof (v as Obj)['value'] === 'number') return [(v as Obj)['value'] as number];
  return [];
}

function quantityValues(tv: TypedValue): QuantityValue[] {
  const v = tv.value as unknown;
  if (typeof v !== 'object' || v === null) return [];
  const o = v as Obj;
  if (typeof o['value'] !== 'number') return [];
  return [{ value: o['value'], system: str(o['system']), code: str(o['code']), unit: str(o['unit']) }];
}

/**
 * Evaluates a parameter on a resource and converts what it finds to searchable values. `typed`
 * gives the resource as FHIRPath's input, built once by the caller for all its parameters.
 */
export function paramValues(resource: Resource, param: SearchParam, fhirBaseUrl: string, typed?: () => TypedValue): ParamValues | undefined {
  const found: TypedValue[] = [];
  const resolved: string[] = [];
  for (const branch of param.branches) {
    let values: TypedValue[];
    try {
      if (branch.read !== undefined) {
        values = branch.read(resource);
      } else {
        const root = typed === undefined ? toTypedValue(resource) : typed();
        values = branch.compiled.eval({ variables: { '%resource': root, '%rootResource': root } }, [root]);
      }
    } catch {
      continue;
    }
    if (branch.resolveType === undefined) found.push(...values);
    else resolved.push(...values.flatMap((tv) => referenceValues(tv, fhirBaseUrl)).filter((ref) => ref.startsWith(`${branch.resolveType}/`)));
  }
  if (found.length === 0 && resolved.length === 0) return undefined;
  if (param.type === 'reference') {
    const values = [...found.flatMap((tv) => referenceValues(tv, fhirBaseUrl)), ...resolved];
    return values.length === 0 ? undefined : { type: 'reference', values };
  }
  switch (param.type) {
    case 'string':
      return { type: 'string', values: found.flatMap(stringValues) };
    case 'token':
      return { type: 'token', values: found.flatMap(tokenValues) };
    case 'uri':
      return { type: 'uri', values: found.flatMap((tv) => strings(tv.value)) };
    case 'date':
      return { type: 'date', values: found.flatMap(dateValues) };
    case 'number':
      return { type: 'number', values: found.flatMap(numberValues) };
    case 'quantity':
      return { type: 'quantity', values: found.flatMap(quantityValues) };
    default:
      return undefined;
  }
}
