import { finding, fhirUrl, type Check, type ScanContext } from '../context.js';
import { evidenceOf } from '../evidence.js';
import { MAP } from '../mappings.js';
import { bundleEntries, holdingsOf, isResource, type Holdings } from '../fhir-probe.js';
import type { Exchange } from '../http-client.js';
import type { Identity } from '../identities.js';

const FIX = 'Check, on every read, search, _include/_revinclude and page, that the caller may see each record returned (patient compartment, care relationship, scopes); bind paging links to the caller who made the search; answer 404 for records the caller may not see.';

/** B's records that A did not find with its own token: the ones A must not be able to reach. */
function foreignRecords(a: Holdings, b: Holdings): { patients: string[]; records: string[] } {
  const mine = new Set([...a.patients.map((p) => `Patient/${p}`), ...a.records]);
  return {
    patients: b.patients.filter((p) => !mine.has(`Patient/${p}`)),
    records: b.records.filter((r) => !mine.has(r)),
  };
}

function leaks(e: Exchange, foreign: Set<string>, mode?: 'include'): string[] {
  if (e.status !== 200) return [];
  return bundleEntries(e.body).filter((x) => foreign.has(x.ref) && (mode === undefined || x.mode === mode)).map((x) => x.ref);
}

async function probe(ctx: ScanContext, a: Identity, b: Identity, ha: Holdings, hb: Holdings, foreign: { patients: string[]; records: string[] }): Promise<void> {
  const all = new Set([...foreign.patients.map((p) => `Patient/${p}`), ...foreign.records]);
  const say = (id: string, title: string, e: Exchange, refs: readonly string[]): void =>
    ctx.add(finding(id, 'critical', 'bola', title, `identity A reached ${refs.length} record(s) of identity B (${refs.join(', ')})\n${evidenceOf(e, { bodyMax: 300 })}`, FIX, MAP.bola));

  for (const ref of [...all].slice(0, 3)) {
    const e = await ctx.client.request('GET', fhirUrl(ctx, ref), { token: a.token });
    if (isResource(e, ref)) {
      say('bola-read', 'One identity can read another’s records by id', e, [ref]);
      break;
    }
  }
  const patient = foreign.patients[0];
  const recordType = foreign.records[0]?.split('/')[0];
  const searches = [
    ...(patient === undefined ? [] : [`Patient?_id=${encodeURIComponent(patient)}`]),
    ...(patient === undefined || recordType === undefined ? [] : [`${recordType}?patient=${encodeURIComponent(patient)}`]),
  ];
  for (const path of searches) {
    const e = await ctx.client.request('GET', fhirUrl(ctx, path), { token: a.token });
    const got = leaks(e, all);
    if (got.length > 0) {
      say('bola-search', 'One identity can search another’s records', e, got);
      break;
    }
  }
  // Includes are often resolved after the access filter, or from the unfiltered matches.
  const includes = [
    ...(patient === undefined || recordType === undefined ? [] : [`${recordType}?patient=${encodeURIComponent(patient)}&_include=${recordType}:patient`]),
    ...(patient === undefined || recordType === undefined ? [] : [`Patient?_id=${encodeURIComponent(patient)}&_revinclude=${recordType}:patient`]),
  ];
  for (const path of includes) {
    const e = await ctx.client.request('GET', fhirUrl(ctx, path), { token: a.token });
    const got = leaks(e, all, 'include');
    if (got.length > 0) {
      say('bola-include', 'One identity can pull another’s records in through _include or _revinclude', e, got);
      break;
    }
  }
  // B's own next-page link, replayed with A's token: is the cursor bound to the one who searched?
  if (hb.paged !== undefined && ctx.client.inScope(hb.paged.next)) {
    const control = await ctx.client.request('GET', hb.paged.next, { token: b.token });
    const bPage = new Set([...all, ...bundleEntries(control.body).map((x) => x.ref)]);
    const mine = new Set([...ha.patients.map((p) => `Patient/${p}`), ...ha.records]);
    for (const ref of mine) bPage.delete(ref);
    const e = await ctx.client.request('GET', hb.paged.next, { token: a.token });
    const got = leaks(e, bPage);
    if (got.length > 0) say('bola-paging', 'One identity can page through another’s search results', e, got);
  }
}

/**
 * Broken object-level authorization with two identities: B's records are found with B's own
 * token, then requested with A's. Needs two identities that should share no records (two patients,
 * or clinicians of unrelated organisations).
 */
export const bolaCheck: Check = {
  name: 'bola',
  async run(ctx) {
    const [a, b] = ctx.identities;
    if (a === undefined || b === undefined) return;
    const ha = await holdingsOf(ctx, a);
    const hb = await holdingsOf(ctx, b);
    const foreign = foreignRecords(ha, hb);
    if (foreign.patients.length === 0 && foreign.records.length === 0) {
      ctx.add(finding('bola-untested', 'info', 'bola', 'Object-level authorization could not be tested', `identity B's own token found ${hb.patients.length} patient(s) and ${hb.records.length} record(s), none that identity A did not also find`,
        'Give a second identity that holds records the first must not see (e.g. two patient users).', MAP.bola));
      return;
    }
    await probe(ctx, a, b, ha, hb, foreign);
  },
};
