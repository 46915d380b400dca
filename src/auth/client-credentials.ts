import { OAuthError } from '../errors.js';
import type { RegisteredClient } from './clients.js';
import { ScopeSet, parseScope, type ResourceScope } from './scopes.js';
import type { IssuedToken, TokenService } from './tokens.js';

export interface TokenRequest {
  /** The Authorization header, if any. */
  readonly authorization: string | undefined;
  /** The form fields of the `application/x-www-form-urlencoded` body. */
  readonly form: Readonly<Record<string, string>>;
}

/** Client id and secret from HTTP Basic (RFC 6749 section 2.3.1: each form-urlencoded). */
export function basicCredentials(header: string): { id: string; secret: string } {
  const m = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header.trim());
  if (m === null) throw new OAuthError('invalid_client', 'Client authentication failed', 401);
  const decoded = Buffer.from(m[1] ?? '', 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new OAuthError('invalid_client', 'Client authentication failed', 401);
  try {
    const unescape = (s: string): string => decodeURIComponent(s.replace(/\+/g, ' '));
    return { id: unescape(decoded.slice(0, colon)), secret: unescape(decoded.slice(colon + 1)) };
  } catch {
    throw new OAuthError('invalid_client', 'Client authentication failed', 401);
  }
}

/**
 * The client credentials grant (RFC 6749 section 4.4) for a client already authenticated by
 * secret (client_secret_basic or client_secret_post) or by `private_key_jwt` (see
 * `authenticateClient`). The granted scopes are the requested `system/` ones the client is
 * allowed; with no `scope` parameter, everything the client is allowed.
 */
export async function clientCredentialsGrant(client: RegisteredClient, tokens: TokenService, form: Readonly<Record<string, string>>): Promise<IssuedToken> {
  // A public client holds no secret, so it cannot prove it is itself without a user.
  if (client.public || !client.grants.includes('client_credentials')) throw new OAuthError('unauthorized_client', 'This client may not use the client_credentials grant');
  // Restricted scopes (`?param=value`) are granted as asked; the access policy checks each resource against them.
  const allowed = new ScopeSet(ScopeSet.parse(client.scopes).scopes.filter((s) => s.context === 'system'));
  let granted = allowed;
  const requested = form['scope'];
  if (requested !== undefined) {
    const wanted = requested.split(' ').filter((s) => s !== '');
    const kept: ResourceScope[] = [];
    for (const text of wanted) {
      const scope = parseScope(text);
      // Client credentials act for the system, never for a user or a patient.
      if (scope !== undefined && scope.context === 'system' && allowed.covers(scope)) kept.push(scope);
    }
    if (kept.length === 0) throw new OAuthError('invalid_scope', 'None of the requested scopes may be granted to this client');
    granted = new ScopeSet(kept);
  }
  if (granted.scopes.length === 0) throw new OAuthError('invalid_scope', 'This client may not be granted any scope');
  return tokens.issue(client.clientId, granted, client.roles);
}
