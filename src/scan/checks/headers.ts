import { finding, fhirUrl, originOf, type Check, type ScanContext } from '../context.js';
import { evidenceOf } from '../evidence.js';
import { header, type Exchange } from '../http-client.js';
import { MAP } from '../mappings.js';
import { bundleEntries } from '../fhir-probe.js';

/** Headers every response should carry, and the one-line reason each matters. */
const EXPECTED: readonly { name: string; present: (e: Exchange) => boolean; why: string }[] = [
  { name: 'x-content-type-options', present: (e) => /nosniff/i.test(header(e, 'x-content-type-options') ?? ''), why: 'stops browsers from running a JSON body as script or HTML' },
  { name: 'x-frame-options', present: (e) => header(e, 'x-frame-options') !== undefined || /frame-ancestors/i.test(header(e, 'content-security-policy') ?? ''), why: 'stops other sites from framing pages (clickjacking)' },
  { name: 'content-security-policy', present: (e) => header(e, 'content-security-policy') !== undefined, why: 'limits what a page may load or run if markup is ever injected' },
  { name: 'referrer-policy', present: (e) => header(e, 'referrer-policy') !== undefined, why: 'keeps URLs with ids and search values out of other sites’ logs' },
];

/** Headers whose mere presence advertises the software, and `Server` when it carries a version. */
const BANNERS = ['x-powered-by', 'x-aspnet-version', 'x-aspnetmvc-version', 'x-generator', 'x-runtime'];

function versionBanners(e: Exchange): string[] {
  const out: string[] = [];
  const server = header(e, 'server');
  if (server !== undefined && /\d/.test(server)) out.push(`server: ${server}`);
  for (const h of BANNERS) {
    const v = header(e, h);
    if (v !== undefined) out.push(`${h}: ${v}`);
  }
  return out;
}

/** The FHIR search response with a token, the one that would carry PHI; undefined without a token. */
async function phiResponse(ctx: ScanContext): Promise<Exchange | undefined> {
  const a = ctx.identities[0];
  if (a === undefined) return undefined;
  const e = await ctx.client.request('GET', fhirUrl(ctx, 'Patient?_count=1'), { token: a.token });
  return e.status === 200 && bundleEntries(e.body).length > 0 ? e : undefined;
}

export const headersCheck: Check = {
  name: 'headers',
  async run(ctx) {
    const exchanges = [await ctx.client.request('GET', `${ctx.base}/metadata`), await ctx.client.request('GET', `${originOf(ctx)}/`)].filter((e) => e.status !== 0);
    const missing = new Map<string, Exchange>();
    for (const e of exchanges) for (const h of EXPECTED) if (!h.present(e) && !missing.has(h.name)) missing.set(h.name, e);
    if (missing.size > 0) {
      const names = [...missing.keys()];
      const evidence = [...new Set(missing.values())].map((e) => evidenceOf(e, { headers: names, bodyMax: 0 })).join('\n');
      const why = EXPECTED.filter((h) => missing.has(h.name)).map((h) => `${h.name} (${h.why})`).join('; ');
      ctx.add(finding('missing-security-headers', 'low', 'headers', `Security headers missing: ${names.join(', ')}`, evidence, `Send these on every response: ${why}. E.g. \`X-Content-Type-Options: nosniff\`, \`Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\`, \`Referrer-Policy: no-referrer\`.`, MAP.misconfig));
    }
    const banners = exchanges.flatMap((e) => versionBanners(e).map((b) => ({ b, e })));
    const first = banners[0];
    if (first !== undefined) {
      ctx.add(finding('version-banner', 'low', 'headers', 'Responses name the server software and its version', `${[...new Set(banners.map((x) => x.b))].join(' | ')}\n${evidenceOf(first.e, { headers: ['server', ...BANNERS], bodyMax: 0 })}`, 'Remove X-Powered-By and similar headers and the version from Server (nginx `server_tokens off;`, Express `app.disable("x-powered-by")`); version lists let attackers pick known exploits.', MAP.inventory));
    }
    const phi = await phiResponse(ctx);
    if (phi !== undefined && !/no-store/i.test(header(phi, 'cache-control') ?? '')) {
      ctx.add(finding('cacheable-phi', 'medium', 'headers', 'Responses with health data may be stored by caches', evidenceOf(phi, { headers: ['cache-control', 'pragma'], bodyMax: 120 }), 'Send `Cache-Control: no-store` on every response that carries health data, so browsers and proxies keep no copy.', MAP.misconfig));
    }
  },
};
