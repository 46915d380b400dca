import type { FastifyInstance } from 'fastify';
import { ASSERTION_ALGS, USER_SPECIAL_SCOPES } from '../auth/index.js';
import type { Vigil } from '../runtime/index.js';

/**
 * The SMART App Launch 2.x discovery document (`/.well-known/smart-configuration`). It claims only
 * what the server does: the code flow with PKCE S256 (never `plain`, never the implicit grant),
 * client credentials, rotating refresh tokens, and the client authentication methods it checks.
 */
export function smartConfiguration(publicUrl: string): Record<string, unknown> {
  const oauth = `${publicUrl}/oauth2`;
  return {
    issuer: publicUrl,
    jwks_uri: `${publicUrl}/.well-known/jwks.json`,
    authorization_endpoint: `${oauth}/authorize`,
    token_endpoint: `${oauth}/token`,
    introspection_endpoint: `${oauth}/introspect`,
    revocation_endpoint: `${oauth}/revoke`,
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
    token_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGS],
    grant_types_supported: ['authorization_code', 'client_credentials', 'refresh_token'],
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
    scopes_supported: [...USER_SPECIAL_SCOPES, 'patient/*.cruds', 'user/*.cruds', 'system/*.cruds', 'patient/*.read', 'user/*.read', 'system/*.read'],
    capabilities: [
      'launch-standalone',
      'client-public',
      'client-confidential-symmetric',
      'client-confidential-asymmetric',
      'context-standalone-patient',
      'permission-offline',
      'permission-online',
      'permission-patient',
      'permission-user',
      'permission-v1',
      'permission-v2',
      'authorize-post',
    ],
  };
}

export function registerSmartConfiguration(app: FastifyInstance, vigil: Vigil): void {
  const body = JSON.stringify(smartConfiguration(vigil.config.publicUrl));
  // SMART App Launch looks for it under the FHIR base; the site root serves it too.
  for (const path of ['/.well-known/smart-configuration', '/fhir/.well-known/smart-configuration']) {
    app.get(path, async (_request, reply) => reply.header('content-type', 'application/json; charset=utf-8').header('cache-control', 'public, max-age=300').send(body));
  }
}
