import { getDataType } from '@medplum/core';
import type { Bundle, BundleEntry, BundleLink, OperationOutcome, Resource } from '@medplum/fhirtypes';
import type { Found, SearchPage } from './engine.js';
import type { SearchRequest } from './parse.js';

const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' };
const ALWAYS = new Set(['resourceType', 'id', 'meta']);

/** The element name of a JSON key: `valueQuantity` is the choice element `value[x]`. */
function elementName(type: string, key: string): string {
  const elements = getDataType(type).elements;
  if (key in elements) return key;
  for (const name of Object.keys(elements)) {
    if (name.endsWith('[x]') && key.startsWith(name.slice(0, -3))) return name;
  }
  return key;
}

/** Keeps only the allowed top-level elements (plus id, meta and mandatory ones) and marks the copy SUBSETTED. */
function keep(resource: Resource, allowed: (name: string) => boolean): Resource {
  const mandatory = getDataType(resource.resourceType).mandatoryProperties ?? new Set<string>();
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(resource)) {
    const name = elementName(resource.resourceType, key);
    if (ALWAYS.has(key) || mandatory.has(name) || allowed(name) || allowed(name.replace('[x]', ''))) out[key] = value;
  }
  const meta = (out['meta'] as Record<string, unknown> | undefined) ?? {};
  out['meta'] = { ...meta, tag: [...((meta['tag'] as unknown[] | undefined) ?? []), SUBSETTED] };
  return out as unknown as Resource;
}

/** Applies `_elements` and `_summary` to one resource of a search result. */
export function project(resource: Resource, request: Pick<SearchRequest, 'elements' | 'summary'>): Resource {
  if (request.elements !== undefined) {
    const wanted = new Set(request.elements);
    return keep(resource, (k) => wanted.has(k));
  }
  switch (request.summary) {
    case 'true': {
      const summary = getDataType(resource.resourceType).summaryProperties ?? new Set<string>();
      return keep(resource, (k) => summary.has(k));
    }
    case 'text':
      return keep(resource, (k) => k === 'text');
    case 'data':
      return keep(resource, (k) => k !== 'text');
    default:
      return resource;
  }
}

export interface SearchBundleOptions {
  readonly fhirBaseUrl: string;
  readonly selfUrl: string;
  readonly nextUrl?: string;
  readonly previousUrl?: string;
  readonly warning?: OperationOutcome;
}

/** The `searchset` Bundle of one page: matches, then includes, then any warning outcome. */
export function searchBundle(request: SearchRequest, page: SearchPage, o: SearchBundleOptions): Bundle {
  const link: BundleLink[] = [{ relation: 'self', url: o.selfUrl }];
  if (o.nextUrl !== undefined) link.push({ relation: 'next', url: o.nextUrl });
  if (o.previousUrl !== undefined) link.push({ relation: 'previous', url: o.previousUrl });
  const entry = (f: Found, mode: 'match' | 'include'): BundleEntry => ({
    fullUrl: `${o.fhirBaseUrl}/${f.type}/${f.id}`,
    resource: project(f.resource, request),
    search: { mode },
  });
  const entries: BundleEntry[] = [...page.matches.map((f) => entry(f, 'match')), ...page.includes.map((f) => entry(f, 'include'))];
  if (o.warning !== undefined) entries.push({ resource: o.warning, search: { mode: 'outcome' } });
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    ...(page.total === undefined ? {} : { total: page.total }),
    link,
    ...(request.summary === 'count' ? {} : { entry: entries }),
  };
}
