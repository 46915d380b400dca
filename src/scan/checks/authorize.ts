import { createHash, randomBytes } from 'node:crypto';
import { finding, type Check, type ScanContext } from '../context.js';
import { loadSmartConfig, oauthUri } from '../discovery.js';
import { evidenceOf } from '../evidence.js';
import { header, type Exchange } from '../http-client.js';
import { MAP } from '../mappings.js';
import { PROBE_ORIGIN } from './cors.js';

/** How an authorize endpoint answered one request. */
export type Verdict = 'issued' | 'accepted' | 'refused' | 'unknown';

function title(e: Exchange): string | undefined {
  return /<title>([^<]*)<\/title>/i.exec(e.body)?.[1]?.trim();
}

/**
 * `issued`: a code or token came straight back; `accepted`: it went on as the well-formed control
 * request did (the same sign-in page, or a redirect without `error=`); `refused`: an error status,
 * a redirect carrying `error=`, or a page other than the control's. Without a control, a 200 page
 * counts as accepted unless its title says error.
 */
export function verdict(e: Exchange, control?: Exchange): Verdict {
  if (e.status === 0) return 'unknown';
  if (e.status >= 300 && e.status < 400) {
    const location = header(e, 'location') ?? '';
    if (/[?&#]error=/.test(location)) return 'refused';
    return /[?&#](code|access_token)=/.test(location) ? 'issued' : 'accepted';
  }
  if (e.status >= 400) return 'refused';
  if (control === undefined) return /error|invalid/i.test(title(e) ?? '') ? 'refused' : 'accepted';
  // The sign-in page a well-formed request gets, again: the probe was let through.
  return control.status === e.status && title(control) === title(e) ? 'accepted' : 'refused';
}

function authorizeUrl(endpoint: string, params: Record<string, string | undefined>): string {
  const u = new URL(endpoint);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, v);
  return u.href;
}

/**
 * Probes the authorize endpoint with the client id and redirect URI given for it: first a
 * well-formed request (the control), then the same without a PKCE challenge, with `plain`, with a
 * foreign `aud`, and asking for a token directly (implicit). Nobody signs in, nothing is written:
 * a code issued to the probe is never exchanged.
 */
export const authorizeCheck: Check = {
  name: 'authorize endpoint',
  async run(ctx: ScanContext) {
    const clientId = ctx.options.authorizeClientId;
    const redirectUri = ctx.options.redirectUri;
    await loadSmartConfig(ctx.client, ctx.base, ctx.memo);
    const fromSmart = ctx.memo.smart?.['authorization_endpoint'];
    const endpoint = typeof fromSmart === 'string' ? fromSmart : oauthUri(ctx.memo.metadata, 'authorize');
    if (clientId === undefined || redirectUri === undefined || endpoint === undefined || !ctx.client.inScope(endpoint)) return;
    const verifier = randomBytes(32).toString('base64url');
    const s256 = createHash('sha256').update(verifier).digest('base64url');
    const base = { response_type: 'code', client_id: clientId, redirect_uri: redirectUri, scope: 'openid fhirUser launch/patient patient/*.rs', state: randomBytes(8).toString('hex'), aud: ctx.base };
    const send = (params: Record<string, string | undefined>): Promise<Exchange> => ctx.client.request('GET', authorizeUrl(endpoint, params), { headers: { accept: 'text/html' } });

    const control = await send({ ...base, code_challenge: s256, code_challenge_method: 'S256' });
    const judged = verdict(control);
    if (judged === 'refused' || judged === 'unknown') {
      ctx.add(finding('authorize-untested', 'info', 'oauth', 'The authorize endpoint could not be probed', `a well-formed request was refused, so the probes would prove nothing\n${evidenceOf(control, { headers: ['location'], bodyMax: 200 })}`,
        'Give a registered client id (--auth-client-id) and one of its exact redirect URIs (--redirect-uri).', MAP.authn));
      return;
    }
    const opts = { headers: ['location'], bodyMax: 200 } as const;
    const none = await send(base);
    if (verdict(none, control) !== 'refused') {
      ctx.add(finding('pkce-not-required', 'high', 'oauth', 'The authorize endpoint accepts a request without a PKCE challenge', evidenceOf(none, opts),
        'Require code_challenge with code_challenge_method=S256 on every authorization request and refuse the request otherwise (RFC 9700, SMART App Launch 2).', MAP.authn));
    }
    const plain = await send({ ...base, code_challenge: verifier, code_challenge_method: 'plain' });
    if (verdict(plain, control) !== 'refused') {
      ctx.add(finding('pkce-plain-accepted', 'medium', 'oauth', 'The authorize endpoint accepts the PKCE `plain` method', evidenceOf(plain, opts),
        'Accept code_challenge_method=S256 only; `plain` gives the verifier away to whoever sees the request.', MAP.authn));
    }
    const foreign = await send({ ...base, aud: `${PROBE_ORIGIN}/fhir`, code_challenge: s256, code_challenge_method: 'S256' });
    if (verdict(foreign, control) !== 'refused') {
      ctx.add(finding('aud-not-checked', 'medium', 'oauth', 'The authorize endpoint does not check `aud` against its own FHIR base', evidenceOf(foreign, opts),
        'Refuse an authorization request whose aud is not this server’s FHIR base URL (SMART App Launch), so a token cannot be minted for, or leaked to, another server.', MAP.authn));
    }
    const implicit = await send({ ...base, response_type: 'token' });
    const implicitVerdict = verdict(implicit, control);
    if (implicitVerdict === 'issued' || implicitVerdict === 'accepted') {
      ctx.add(finding('implicit-grant', implicitVerdict === 'issued' ? 'high' : 'medium', 'oauth', 'The authorize endpoint accepts response_type=token (implicit grant)', evidenceOf(implicit, opts),
        'Refuse response_type=token; offer the authorization code flow with PKCE S256 only.', MAP.authn));
    }
  },
};
