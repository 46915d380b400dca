import type { Bundle, BundleEntry, BundleLink, Resource } from '@medplum/fhirtypes';
import type { HistoryEntry } from './repository.js';

export interface HistoryBundleOptions {
  readonly fhirBaseUrl: string;
  readonly selfUrl: string;
  readonly nextUrl?: string;
  /** Left out when the caller may not see everything counted. */
  readonly total?: number;
  readonly entries: readonly HistoryEntry[];
}

/** A `history` Bundle, newest version first, as FHIR R4 section 3.1.0.11 describes. */
export function historyBundle(o: HistoryBundleOptions): Bundle {
  const link: BundleLink[] = [{ relation: 'self', url: o.selfUrl }];
  if (o.nextUrl !== undefined) link.push({ relation: 'next', url: o.nextUrl });
  const entry: BundleEntry[] = o.entries.map((e) => {
    const url = `${e.type}/${e.id}`;
    const response = { status: e.deleted ? '204' : e.versionId === 1 ? '201' : '200', etag: `W/"${e.versionId}"`, lastModified: e.lastUpdated };
    if (e.deleted) return { fullUrl: `${o.fhirBaseUrl}/${url}`, request: { method: 'DELETE', url }, response };
    return {
      fullUrl: `${o.fhirBaseUrl}/${url}`,
      resource: JSON.parse(e.json ?? '{}') as Resource,
      request: e.versionId === 1 ? { method: 'POST', url: e.type } : { method: 'PUT', url },
      response,
    };
  });
  return { resourceType: 'Bundle', type: 'history', ...(o.total === undefined ? {} : { total: o.total }), link, entry };
}
