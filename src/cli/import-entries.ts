import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { isValidId, type WindowEntry } from '../fhir/index.js';
import type { ImportError, Place } from './import-report.js';

/** One entry to store on its own (PUT or POST), and where it came from. */
export interface Item {
  readonly entry: BundleEntry;
  readonly place: Place;
}

type Json = Record<string, unknown>;

function typeOf(resource: unknown): string | undefined {
  const t = (resource as { resourceType?: unknown } | null)?.resourceType;
  return typeof t === 'string' ? t : undefined;
}

/** PUT Type/id when the resource has an id, else POST Type (a place names the source; no value is copied into an error). */
export function writeEntry(resource: Resource, place: Place): Item | ImportError {
  const type = typeOf(resource) ?? '';
  const id = (resource as { id?: unknown }).id;
  const at = { file: place.file, ...(place.line === undefined ? {} : { line: place.line }), ...(place.entry === undefined ? {} : { entry: place.entry }) };
  if (id !== undefined && (typeof id !== 'string' || !isValidId(id))) {
    return { ...at, code: 'ERR_BAD_REQUEST', message: 'The resource id does not match the FHIR id grammar' };
  }
  if (!/^[A-Z][A-Za-z]*$/.test(type)) return { ...at, code: 'ERR_UNKNOWN_TYPE', message: 'The resource type is not known' };
  const request = id === undefined ? { method: 'POST' as const, url: type } : { method: 'PUT' as const, url: `${type}/${id}` };
  return { entry: { request, resource }, place: { ...place, type } };
}

function rewrite(value: unknown, map: ReadonlyMap<string, string>): void {
  if (Array.isArray(value)) {
    for (const item of value) rewrite(item, map);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const obj = value as Json;
  for (const [key, child] of Object.entries(obj)) {
    if (key === 'reference' && typeof child === 'string') {
      const to = map.get(child);
      if (to !== undefined) obj[key] = to;
    } else if (typeof child === 'object' && child !== null) {
      rewrite(child, map);
    }
  }
}

/**
 * The resources of a collection, searchset or document Bundle, each as its own write. A resource
 * without an id but with a `urn:uuid:` fullUrl gets a new id (and a PUT), and references to any
 * entry's fullUrl become `Type/id`, so the resources keep pointing at one another once stored.
 * Search outcome entries (OperationOutcome, search.mode = outcome) are not resources to store.
 */
export function collectionItems(bundle: Bundle, file: string, newId: () => string): (Item | ImportError)[] {
  // Entries that are not objects are reported below as holding no resource.
  const entries = (bundle.entry ?? []).map((e: unknown) => (typeof e === 'object' && e !== null ? (e as BundleEntry) : {}));
  const map = new Map<string, string>();
  const resources: (Resource | undefined)[] = entries.map((e) => {
    if (e.search?.mode === 'outcome' || typeof e.resource !== 'object' || e.resource === null) return undefined;
    const resource = structuredClone(e.resource) as Resource & { id?: string };
    const type = typeOf(resource);
    if (resource.id === undefined && typeof e.fullUrl === 'string' && /^urn:(uuid|oid):/.test(e.fullUrl)) resource.id = newId();
    if (type !== undefined && typeof e.fullUrl === 'string' && typeof resource.id === 'string') map.set(e.fullUrl, `${type}/${resource.id}`);
    return resource;
  });
  const out: (Item | ImportError)[] = [];
  entries.forEach((e, index) => {
    const resource = resources[index];
    if (resource === undefined) {
      if (e.search?.mode !== 'outcome') out.push({ file, entry: index, code: 'ERR_BAD_REQUEST', message: 'The entry holds no resource' });
      return;
    }
    if (map.size > 0) rewrite(resource, map);
    out.push(writeEntry(resource, { file, entry: index }));
  });
  return out;
}

/** True for entries that mean the same in a transaction as alone: a plain PUT Type/id or POST Type. */
export function isPlainWrite(entry: BundleEntry): boolean {
  const r = entry.request;
  return r !== undefined && (r.method === 'POST' || r.method === 'PUT') && r.ifNoneExist === undefined && r.ifMatch === undefined && !r.url.includes('?');
}

/**
 * What an entry names to write: the URL of a PUT, PATCH or DELETE (an id or a condition), or the
 * If-None-Exist condition of a POST. Undefined for a plain POST and for reads.
 */
export function targetOf(entry: BundleEntry): string | undefined {
  const r = entry.request as { method?: unknown; url?: unknown; ifNoneExist?: unknown } | undefined;
  if (typeof r?.url !== 'string') return undefined;
  if (r.method === 'POST') return typeof r.ifNoneExist === 'string' ? `${r.url}?${r.ifNoneExist}` : undefined;
  return r.method === 'PUT' || r.method === 'PATCH' || r.method === 'DELETE' ? r.url : undefined;
}

/** What deciding an import window needs to know of an entry (see the Bundle windows). */
export function describeItem(item: Item): WindowEntry {
  return { target: targetOf(item.entry), resource: item.entry.resource, read: item.entry.request?.method === 'GET' };
}
