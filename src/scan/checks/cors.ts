import { finding, fhirUrl, type Check } from '../context.js';
import { evidenceOf } from '../evidence.js';
import { header, type Exchange } from '../http-client.js';
import { MAP } from '../mappings.js';

/** An origin nobody owns (RFC 6761 reserves .invalid): if the server trusts it, it trusts any. */
export const PROBE_ORIGIN = 'https://vigil-scan-probe.invalid';
const CORS_HEADERS = ['access-control-allow-origin', 'access-control-allow-credentials', 'access-control-allow-methods', 'vary'];

function credentialed(e: Exchange): boolean {
  return (header(e, 'access-control-allow-credentials') ?? '').trim().toLowerCase() === 'true';
}

export const corsCheck: Check = {
  name: 'cors',
  async run(ctx) {
    const a = ctx.identities[0];
    const origin = { origin: PROBE_ORIGIN };
    const exchanges: Exchange[] = [
      await ctx.client.request('GET', `${ctx.base}/metadata`, { headers: origin }),
      await ctx.client.request('GET', fhirUrl(ctx, 'Patient?_count=1'), { headers: origin, ...(a === undefined ? {} : { token: a.token }) }),
      // A preflight as a browser sends it before a cross-site request with a bearer token.
      await ctx.client.request('OPTIONS', fhirUrl(ctx, 'Patient'), { headers: { ...origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } }),
    ].filter((e) => e.status !== 0);
    const reflected = exchanges.find((e) => header(e, 'access-control-allow-origin') === PROBE_ORIGIN);
    if (reflected !== undefined) {
      const withCredentials = exchanges.some((e) => header(e, 'access-control-allow-origin') === PROBE_ORIGIN && credentialed(e));
      ctx.add(finding('cors-reflected-origin', withCredentials ? 'high' : 'medium', 'cors', withCredentials ? 'Any web site may call the API with the user’s credentials (origin reflected, credentials allowed)' : 'Any web site may call the API (the request origin is reflected)',
        evidenceOf(reflected, { headers: CORS_HEADERS, bodyMax: 0 }), 'Allow only the exact origins of your own apps (an allowlist), never echo the Origin header back, and allow credentials only for those origins.', MAP.misconfig));
    }
    const wildcard = exchanges.find((e) => header(e, 'access-control-allow-origin') === '*' && credentialed(e));
    if (wildcard !== undefined) {
      ctx.add(finding('cors-wildcard-credentials', 'medium', 'cors', 'CORS allows any origin together with credentials', evidenceOf(wildcard, { headers: CORS_HEADERS, bodyMax: 0 }),
        'Never combine `Access-Control-Allow-Origin: *` with `Access-Control-Allow-Credentials: true`; list your own apps’ origins instead. Browsers refuse the pair, so it also shows a CORS setup nobody has reviewed.', MAP.misconfig));
    }
  },
};
