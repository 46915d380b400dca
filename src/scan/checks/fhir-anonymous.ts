import { finding, fhirUrl, type Check } from '../context.js';
import { evidenceOf } from '../evidence.js';
import { MAP } from '../mappings.js';
import { bundleEntries, holdingsOf, isResource } from '../fhir-probe.js';
import type { Exchange } from '../http-client.js';

const SEARCHES = ['Patient?_count=1', 'Observation?_count=1'];

/**
 * Reads and searches with no token at all. The record read is one an identity found with its own
 * token (or one the anonymous search returned), never a guessed id.
 */
export const fhirAnonymousCheck: Check = {
  name: 'fhir without a token',
  async run(ctx) {
    let leaked: Exchange | undefined;
    const seen: string[] = [];
    for (const path of SEARCHES) {
      const e = await ctx.client.request('GET', fhirUrl(ctx, path));
      const entries = bundleEntries(e.body);
      if (e.status === 200 && entries.length > 0) {
        leaked ??= e;
        seen.push(...entries.map((x) => x.ref));
      }
    }
    if (leaked !== undefined) {
      ctx.add(finding('anonymous-search', 'critical', 'auth', 'Searches return records without any token', evidenceOf(leaked, { bodyMax: 300 }),
        'Require a valid access token on every FHIR interaction except /metadata; answer 401 without one.', MAP.noAuth));
    }
    const a = ctx.identities[0];
    const known = a === undefined ? [] : [...(await holdingsOf(ctx, a)).patients.map((p) => `Patient/${p}`), ...(await holdingsOf(ctx, a)).records];
    for (const ref of [...known, ...seen].slice(0, 3)) {
      const e = await ctx.client.request('GET', fhirUrl(ctx, ref));
      if (!isResource(e, ref)) continue;
      ctx.add(finding('anonymous-read', 'critical', 'auth', 'Records can be read by id without any token', evidenceOf(e, { bodyMax: 300 }),
        'Require a valid access token on every read; answer 401 without one, and 404 for records the caller may not see.', MAP.noAuth));
      return;
    }
  },
};
