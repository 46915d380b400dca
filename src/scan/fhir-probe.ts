import { fhirUrl, type ScanContext } from './context.js';
import { jsonObject } from './discovery.js';
import type { Exchange } from './http-client.js';
import type { Identity } from './identities.js';

/** One entry of a search Bundle, reduced to what the checks compare. */
export interface EntryKey {
  /** `Type/id`. */
  readonly ref: string;
  readonly mode?: string;
}

/** The `Type/id` of every resource in a Bundle body (none when the body is not a Bundle). */
export function bundleEntries(body: string): EntryKey[] {
  const bundle = jsonObject(body);
  if (bundle?.['resourceType'] !== 'Bundle') return [];
  const out: EntryKey[] = [];
  for (const entry of (bundle['entry'] as Record<string, unknown>[] | undefined) ?? []) {
    const r = entry['resource'] as Record<string, unknown> | undefined;
    const mode = (entry['search'] as Record<string, unknown> | undefined)?.['mode'];
    if (typeof r?.['resourceType'] === 'string' && typeof r['id'] === 'string' && r['resourceType'] !== 'OperationOutcome') {
      out.push({ ref: `${r['resourceType']}/${r['id']}`, ...(typeof mode === 'string' ? { mode } : {}) });
    }
  }
  return out;
}

/** The `next` link of a Bundle body, if any. */
export function nextLink(body: string): string | undefined {
  const bundle = jsonObject(body);
  for (const link of (bundle?.['link'] as Record<string, unknown>[] | undefined) ?? []) {
    if (link['relation'] === 'next' && typeof link['url'] === 'string') return link['url'];
  }
  return undefined;
}

/** True when the exchange is a 200 whose body is the resource asked for. */
export function isResource(e: Exchange, ref: string): boolean {
  const r = e.status === 200 ? jsonObject(e.body) : undefined;
  return r !== undefined && `${String(r['resourceType'])}/${String(r['id'])}` === ref;
}

/** What one identity can see, found with its own token: never guessed. */
export interface Holdings {
  readonly patients: string[];
  /** `Type/id` of the patients' other records, and the search that found them. */
  readonly records: string[];
  /** A search of the identity's that has a next page, and the link to it. */
  readonly paged?: { readonly search: string; readonly next: string };
}

/** The record types looked at for an identity's records, in order; the first with data is used. */
const RECORD_TYPES = ['Observation', 'Condition', 'Encounter', 'MedicationRequest'];

/** The patient ids a token names: SMART launch context, or a `Patient/` fhirUser. */
function patientsInClaims(identity: Identity): string[] {
  const c = identity.claims ?? {};
  const out: string[] = [];
  if (typeof c['patient'] === 'string') out.push(c['patient']);
  const fhirUser = c['fhirUser'];
  if (typeof fhirUser === 'string' && /(^|\/)Patient\/[^/]+$/.test(fhirUser)) out.push(fhirUser.replace(/^.*Patient\//, ''));
  return out;
}

/**
 * Finds a few records the identity can see with its own token: its patients (from its claims, or
 * else a small Patient search) and one page of one record type for them. At most six requests.
 */
export async function discoverHoldings(ctx: ScanContext, identity: Identity): Promise<Holdings> {
  const patients = new Set(patientsInClaims(identity));
  // A token bound to a patient is anchored there; a search could show more than it should (that is what BOLA probes).
  if (patients.size === 0) {
    const search = await ctx.client.request('GET', fhirUrl(ctx, 'Patient?_count=5'), { token: identity.token });
    for (const e of bundleEntries(search.body)) if (e.ref.startsWith('Patient/') && e.mode !== 'include') patients.add(e.ref.slice('Patient/'.length));
  }
  const records: string[] = [];
  let paged: Holdings['paged'];
  const first = [...patients][0];
  for (const type of RECORD_TYPES) {
    const path = first === undefined ? `${type}?_count=1` : `${type}?patient=${encodeURIComponent(first)}&_count=1`;
    const e = await ctx.client.request('GET', fhirUrl(ctx, path), { token: identity.token });
    const found = bundleEntries(e.body).filter((x) => x.ref.startsWith(`${type}/`));
    if (found.length === 0) continue;
    records.push(...found.map((x) => x.ref));
    const next = nextLink(e.body);
    if (next !== undefined) paged = { search: fhirUrl(ctx, path), next };
    break;
  }
  return { patients: [...patients], records, ...(paged === undefined ? {} : { paged }) };
}

/** An identity's holdings, discovered once per scan. */
export async function holdingsOf(ctx: ScanContext, identity: Identity): Promise<Holdings> {
  ctx.memo.holdings ??= new Map();
  const known = ctx.memo.holdings.get(identity.label);
  if (known !== undefined) return known;
  const found = await discoverHoldings(ctx, identity);
  ctx.memo.holdings.set(identity.label, found);
  return found;
}
