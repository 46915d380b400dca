import { finding, fhirUrl, type Check, type ScanContext } from '../context.js';
import { evidenceOf } from '../evidence.js';
import { MAP } from '../mappings.js';
import { jwtClaims } from '../identities.js';

/** Access tokens living longer than an hour outlast the session they were issued for. */
export const MAX_TOKEN_SECONDS = 3600;

function lifetimes(ctx: ScanContext): void {
  for (const who of ctx.identities) {
    if (who.lifetime === undefined || who.lifetime <= MAX_TOKEN_SECONDS) continue;
    const source = who.issued === undefined ? 'the token’s exp - iat' : 'expires_in of the token response';
    const evidence = `identity ${who.label}: access token lifetime ${who.lifetime} s (${source})${who.issued === undefined ? '' : `\n${evidenceOf(who.issued, { bodyMax: 0 })}`}`;
    ctx.add(finding('token-lifetime-long', who.lifetime > 24 * 3600 ? 'high' : 'medium', 'oauth', `Access tokens live ${Math.round(who.lifetime / 60)} minutes`, evidence,
      `Issue access tokens for ${MAX_TOKEN_SECONDS / 60} minutes or less (5 to 15 is common) and use refresh tokens with rotation for longer sessions; a stolen token is then worth little.`, MAP.authn));
    return;
  }
}

function audience(ctx: ScanContext): void {
  const who = ctx.identities.find((i) => i.claims !== undefined && i.claims['aud'] === undefined);
  if (who === undefined) return;
  ctx.add(finding('token-no-audience', 'low', 'oauth', 'Access tokens carry no audience (`aud`)', `identity ${who.label}: the JWT access token has no aud claim (claims: ${Object.keys(who.claims ?? {}).join(', ')})`,
    'Put the FHIR base URL in each access token’s aud and have every resource server refuse tokens minted for another audience.', MAP.authn));
}

/** With --expired-token: the server must answer 401 to a token past its `exp`. */
async function expired(ctx: ScanContext): Promise<void> {
  const token = ctx.options.expiredToken;
  if (token === undefined) return;
  const exp = jwtClaims(token)?.['exp'];
  // A JWT that is still valid proves nothing either way.
  if (typeof exp === 'number' && exp * 1000 > ctx.options.now().getTime()) return;
  const e = await ctx.client.request('GET', fhirUrl(ctx, 'Patient?_count=1'), { token });
  if (e.status !== 200) return;
  ctx.add(finding('expired-token-accepted', 'high', 'auth', 'An expired access token is still accepted', `${typeof exp === 'number' ? `the token expired at ${new Date(exp * 1000).toISOString()}\n` : ''}${evidenceOf(e, { bodyMax: 200 })}`,
    'Check exp (and nbf) on every request, with at most a minute of clock skew, and answer 401 once a token has expired.', MAP.authn));
}

/** Token lifetimes, audience and expiry, from the identities given and the optional expired token. */
export const tokensCheck: Check = {
  name: 'tokens',
  async run(ctx) {
    lifetimes(ctx);
    audience(ctx);
    await expired(ctx);
  },
};
