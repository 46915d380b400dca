import { OAuthError } from '../errors.js';
import type { ClientRegistry, RegisteredClient } from './clients.js';
import { ClientAssertions, JWT_BEARER_ASSERTION } from './client-assertion.js';
import { basicCredentials, type TokenRequest } from './client-credentials.js';

/** How a client proved itself at the token endpoint. */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';

export interface AuthenticatedClient {
  readonly client: RegisteredClient;
  readonly method: ClientAuthMethod;
}

function failed(): OAuthError {
  return new OAuthError('invalid_client', 'Client authentication failed', 401);
}

/**
 * Authenticates the client of a token, introspection or revocation request (RFC 6749 section
 * 2.3): HTTP Basic or form secret, a `private_key_jwt` assertion (RFC 7523), or, for a public
 * client, its `client_id` alone (public clients hold no secret; PKCE protects their codes).
 * Exactly one method per request. A confidential client never passes with its id alone.
 */
export async function authenticateClient(clients: ClientRegistry, assertions: ClientAssertions, req: TokenRequest): Promise<AuthenticatedClient> {
  const { form } = req;
  const formId = form['client_id'];
  const methods = [req.authorization !== undefined, form['client_secret'] !== undefined, form['client_assertion'] !== undefined || form['client_assertion_type'] !== undefined];
  if (methods.filter(Boolean).length > 1) throw new OAuthError('invalid_request', 'Use one client authentication method, not two');

  if (methods[2]) {
    const assertion = form['client_assertion'];
    if (form['client_assertion_type'] !== JWT_BEARER_ASSERTION || assertion === undefined) throw failed();
    const id = ClientAssertions.claimedClient(assertion);
    if (id === undefined || (formId !== undefined && formId !== id)) throw failed();
    const client = await clients.lookup(id);
    if (client === undefined || client.jwksUrl === undefined) throw failed();
    await assertions.verify(assertion, client.clientId, client.jwksUrl);
    return { client, method: 'private_key_jwt' };
  }

  if (methods[0] || methods[1]) {
    let id: string;
    let secret: string;
    if (req.authorization !== undefined) ({ id, secret } = basicCredentials(req.authorization));
    else if (formId !== undefined) [id, secret] = [formId, form['client_secret'] ?? ''];
    else throw new OAuthError('invalid_client', 'Client authentication is required', 401);
    if (formId !== undefined && formId !== id) throw new OAuthError('invalid_request', 'client_id does not match the authenticated client');
    const row = await clients.authenticate(id, secret);
    const client = row === undefined ? undefined : await clients.lookup(row.clientId);
    if (client === undefined) throw failed();
    return { client, method: req.authorization !== undefined ? 'client_secret_basic' : 'client_secret_post' };
  }

  if (formId === undefined) throw new OAuthError('invalid_client', 'Client authentication is required', 401);
  const client = await clients.lookup(formId);
  // Only a client registered as public may skip authentication.
  if (client === undefined || !client.public) throw failed();
  return { client, method: 'none' };
}
