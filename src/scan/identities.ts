import type { Exchange, ScanClient } from './http-client.js';
import { jsonObject } from './discovery.js';

/** How the person running the scan named an identity: a token, or client credentials. */
export type IdentitySpec = { readonly token: string } | { readonly clientId: string; readonly clientSecret: string };

/** An identity ready to use: its token and what the scan knows of it. */
export interface Identity {
  readonly label: 'A' | 'B';
  readonly token: string;
  /** The granted scopes, from the token response or the token's own claims. */
  readonly scope?: string;
  /** Seconds, from the token response; or `exp - iat` from the token's claims. */
  readonly lifetime?: number;
  /** The token's claims when it is a JWT (read, never verified: the scan only looks). */
  readonly claims?: Record<string, unknown>;
  /** The token request, when the scan asked for the token itself. */
  readonly issued?: Exchange;
}

/**
 * Parses `--second-identity`: `client:ID:SECRET` for client credentials, `token:T` or a bare
 * token otherwise.
 * @example parseIdentitySpec('client:backend:s3cret') // { clientId: 'backend', clientSecret: 's3cret' }
 */
export function parseIdentitySpec(value: string): IdentitySpec | undefined {
  if (value.startsWith('client:')) {
    const rest = value.slice('client:'.length);
    const colon = rest.indexOf(':');
    if (colon <= 0 || colon === rest.length - 1) return undefined;
    return { clientId: rest.slice(0, colon), clientSecret: rest.slice(colon + 1) };
  }
  const token = value.startsWith('token:') ? value.slice('token:'.length) : value;
  return token.length > 0 ? { token } : undefined;
}

/** The payload of a JWT, unverified; undefined for opaque tokens. */
export function jwtClaims(token: string): Record<string, unknown> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1] === undefined) return undefined;
  try {
    return jsonObject(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

function fromToken(label: 'A' | 'B', token: string, response?: Record<string, unknown>, issued?: Exchange): Identity {
  const claims = jwtClaims(token);
  const scope = typeof response?.['scope'] === 'string' ? response['scope'] : typeof claims?.['scope'] === 'string' ? claims['scope'] : undefined;
  const exp = claims?.['exp'];
  const iat = claims?.['iat'];
  const lifetime = typeof response?.['expires_in'] === 'number' ? response['expires_in'] : typeof exp === 'number' && typeof iat === 'number' ? exp - iat : undefined;
  return { label, token, ...(scope === undefined ? {} : { scope }), ...(lifetime === undefined ? {} : { lifetime }), ...(claims === undefined ? {} : { claims }), ...(issued === undefined ? {} : { issued }) };
}

/**
 * Turns a spec into a usable identity; client credentials are exchanged at the token endpoint
 * (client_secret_basic). Throws an Error naming the identity, never the secret, on failure.
 */
export async function resolveIdentity(label: 'A' | 'B', spec: IdentitySpec, client: ScanClient, tokenUrl: string | undefined): Promise<Identity> {
  if ('token' in spec) return fromToken(label, spec.token);
  if (tokenUrl === undefined) throw new Error(`identity ${label}: no token endpoint was found to exchange the client credentials at`);
  if (!client.inScope(tokenUrl)) throw new Error(`identity ${label}: the token endpoint is on a host that was not given (add it with --allow-host)`);
  const basic = Buffer.from(`${encodeURIComponent(spec.clientId)}:${encodeURIComponent(spec.clientSecret)}`).toString('base64');
  const e = await client.request('POST', tokenUrl, {
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: 'grant_type=client_credentials',
  });
  const body = e.status === 200 ? jsonObject(e.body) : undefined;
  const token = body?.['access_token'];
  if (typeof token !== 'string') throw new Error(`identity ${label}: the token endpoint refused the client credentials (status ${e.status || e.error})`);
  // The Basic header went out on the request record; keep the exchange but never its credentials.
  const redacted: Exchange = { ...e, requestHeaders: { ...e.requestHeaders, authorization: 'Basic <redacted>' }, body: '' };
  return fromToken(label, token, body, redacted);
}
