import { OAuthError } from '../errors.js';
import type { ClientRegistry } from './clients.js';
import { ScopeSet, parseScope, type ResourceScope } from './scopes.js';
import type { IssuedToken, TokenService } from './tokens.js';

export interface TokenRequest {
  /** The Authorization header, if any. */
  readonly authorization: string | undefined;
  /** The form fields of the `application/x-www-form-urlencoded` body. */
  readonly form: Readonly<Record<string, string>>;
}

/** Client id and secret from HTTP Basic (RFC 6749 section 2.3.1: each form-urlencoded). */
function basicCredentials(header: string): { id: string; secret: string } {
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
 * The client credentials grant (RFC 6749 section 4.4) with client_secret_basic or
 * client_secret_post. The granted scopes are the requested ones the client is allowed; with no
 * `scope` parameter, everything the client is allowed.
 */
export async function clientCredentialsGrant(clients: ClientRegistry, tokens: TokenService, req: TokenRequest): Promise<{ token: IssuedToken; clientId: string }> {
  const { form } = req;
  if (form['grant_type'] !== 'client_credentials') {
    throw new OAuthError(form['grant_type'] === undefined ? 'invalid_request' : 'unsupported_grant_type', 'Only grant_type=client_credentials is supported');
  }
  const inBody = form['client_secret'] !== undefined;
  if (req.authorization !== undefined && inBody) throw new OAuthError('invalid_request', 'Use one client authentication method, not two');
  let id: string;
  let secret: string;
  if (req.authorization !== undefined) ({ id, secret } = basicCredentials(req.authorization));
  else if (inBody && form['client_id'] !== undefined) [id, secret] = [form['client_id'], form['client_secret'] ?? ''];
  else throw new OAuthError('invalid_client', 'Client authentication is required', 401);
  if (form['client_id'] !== undefined && form['client_id'] !== id) throw new OAuthError('invalid_request', 'client_id does not match the authenticated client');

  const client = await clients.authenticate(id, secret);
  if (client === undefined) throw new OAuthError('invalid_client', 'Client authentication failed', 401);

  // Restricted scopes (`?param=value`) cannot be enforced yet, so they are never granted.
  const allowed = new ScopeSet(ScopeSet.parse(client.scopes).scopes.filter((s) => s.restriction === undefined));
  let granted = allowed;
  const requested = form['scope'];
  if (requested !== undefined) {
    const wanted = requested.split(' ').filter((s) => s !== '');
    const kept: ResourceScope[] = [];
    for (const text of wanted) {
      const scope = parseScope(text);
      // Client credentials act for the system, never for a user or a patient.
      if (scope !== undefined && scope.context === 'system' && scope.restriction === undefined && allowed.covers(scope)) kept.push(scope);
    }
    if (kept.length === 0) throw new OAuthError('invalid_scope', 'None of the requested scopes may be granted to this client');
    granted = new ScopeSet(kept);
  }
  if (granted.scopes.length === 0) throw new OAuthError('invalid_scope', 'This client may not be granted any scope');
  return { token: await tokens.issue(client.clientId, granted, client.roles), clientId: client.clientId };
}
