import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { VigilError, type ErrorCode } from '../../errors.js';
import { isKnownResourceType } from '../definitions.js';
import { isValidId, parseVersionId } from '../ids.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** One Bundle entry's request, checked and taken apart. */
export interface EntryRequest {
  readonly index: number;
  readonly method: Method;
  readonly type: string;
  readonly id?: string;
  readonly versionId?: number;
  /** The query of a conditional update or delete, or of a search (GET). */
  readonly query?: string;
  readonly ifNoneExist?: string;
  readonly ifMatch?: number;
  readonly fullUrl?: string;
  readonly resource?: Resource;
}

/** An error about one entry: keeps the underlying code (and so the status) and names the entry. */
export function entryError(index: number, err: unknown): VigilError {
  const code: ErrorCode = err instanceof VigilError ? err.code : 'ERR_INTERNAL';
  const message = err instanceof VigilError ? err.message : 'An internal error occurred';
  return new VigilError(code, `Bundle entry ${index}: ${message}`, {
    cause: err,
    issues: err instanceof VigilError ? err.issues.map((i) => ({ ...i, message: `Bundle entry ${index}: ${i.message}`, ...(i.path === undefined ? {} : { path: `Bundle.entry[${index}].resource.${i.path.replace(/^[A-Za-z]+\./, '')}` }) })) : [],
  });
}

function bad(index: number, message: string): VigilError {
  return new VigilError('ERR_BAD_REQUEST', `Bundle entry ${index}: ${message}`);
}

/** Parses `request.url` of an entry: `Type`, `Type/id`, `Type/id/_history/vid`, `Type?query`. */
function parseUrl(index: number, raw: string, fhirBaseUrl: string): { type: string; id?: string; versionId?: number; query?: string } {
  let url = raw.startsWith(`${fhirBaseUrl}/`) ? raw.slice(fhirBaseUrl.length + 1) : raw;
  url = url.replace(/^\/+/, '');
  const q = url.indexOf('?');
  const path = q >= 0 ? url.slice(0, q) : url;
  const query = q >= 0 ? url.slice(q + 1) : undefined;
  const parts = path.split('/');
  const type = parts[0] ?? '';
  if (!isKnownResourceType(type)) throw new VigilError('ERR_UNKNOWN_TYPE', `Bundle entry ${index}: the resource type is not known`);
  if (parts.length === 1) return query === undefined ? { type } : { type, query };
  const id = parts[1] ?? '';
  if (!isValidId(id) || query !== undefined) throw bad(index, 'request.url is not a supported form');
  if (parts.length === 2) return { type, id };
  const versionId = parts[2] === '_history' && parts.length === 4 ? parseVersionId(parts[3] ?? '') : undefined;
  if (versionId === undefined) throw bad(index, 'request.url is not a supported form');
  return { type, id, versionId };
}

function etagVersion(index: number, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const m = /^\s*(?:W\/)?"([1-9][0-9]{0,9})"\s*$/.exec(raw);
  if (m === null) throw bad(index, 'request.ifMatch must be an ETag such as W/"1"');
  return Number(m[1]);
}

/**
 * Checks a batch or transaction Bundle and parses each entry's request. An entry that cannot be
 * parsed is returned as its error, so a batch can answer it alone; a transaction fails on it.
 */
export function parseEntries(bundle: unknown, fhirBaseUrl: string): { type: 'batch' | 'transaction'; entries: (EntryRequest | VigilError)[] } {
  if (typeof bundle !== 'object' || bundle === null || (bundle as Bundle).resourceType !== 'Bundle') {
    throw new VigilError('ERR_BAD_REQUEST', 'POST /fhir takes a batch or transaction Bundle');
  }
  const b = bundle as Bundle;
  if (b.type !== 'batch' && b.type !== 'transaction') throw new VigilError('ERR_BAD_REQUEST', 'Bundle.type must be batch or transaction');
  if (b.entry !== undefined && !Array.isArray(b.entry)) throw new VigilError('ERR_BAD_REQUEST', 'Bundle.entry must be an array');
  const entries = (b.entry ?? []).map((raw: BundleEntry, index): EntryRequest | VigilError => {
    try {
      return parseEntry(raw, index, fhirBaseUrl);
    } catch (err) {
      return err instanceof VigilError ? err : bad(index, 'the entry is malformed');
    }
  });
  return { type: b.type, entries };
}

function parseEntry(raw: BundleEntry, index: number, fhirBaseUrl: string): EntryRequest {
  {
    if (typeof raw !== 'object' || raw === null) throw bad(index, 'the entry is not an object');
    const req = raw.request;
    if (req === undefined || typeof req.method !== 'string' || typeof req.url !== 'string') throw bad(index, 'request.method and request.url are required');
    const method = req.method as string;
    if (method !== 'GET' && method !== 'POST' && method !== 'PUT' && method !== 'DELETE') {
      throw new VigilError('ERR_NOT_SUPPORTED', `Bundle entry ${index}: the method is not supported`);
    }
    const target = parseUrl(index, req.url, fhirBaseUrl);
    if ((method === 'POST' || method === 'PUT') && (typeof raw.resource !== 'object' || raw.resource === null)) throw bad(index, 'a POST or PUT entry needs a resource');
    if (method === 'POST' && (target.id !== undefined || target.query !== undefined)) throw bad(index, 'POST must target a type');
    if (method === 'PUT' && target.id === undefined && target.query === undefined) throw bad(index, 'PUT must target Type/id or Type?query');
    if (method === 'DELETE' && target.id === undefined && target.query === undefined) throw bad(index, 'DELETE must target Type/id or Type?query');
    if (method !== 'GET' && target.versionId !== undefined) throw bad(index, 'only GET may name a version');
    const ifMatch = etagVersion(index, req.ifMatch);
    return {
      index,
      method,
      ...target,
      ...(req.ifNoneExist === undefined ? {} : { ifNoneExist: req.ifNoneExist }),
      ...(ifMatch === undefined ? {} : { ifMatch }),
      ...(raw.fullUrl === undefined ? {} : { fullUrl: raw.fullUrl }),
      ...(raw.resource === undefined ? {} : { resource: raw.resource }),
    };
  }
}
