import type { FastifyInstance } from 'fastify';
import { authenticateClient, authorizationCodeGrant, clientCredentialsGrant, refreshTokenGrant, RefreshReuseError, type UserGrantDeps } from '../auth/index.js';
import { OAuthError, VigilError } from '../errors.js';
import { RateLimiter } from './rate-limit.js';
import { oauthForm } from './oauth-form.js';
import type { Vigil } from '../runtime/index.js';
import { registerAuthorizeRoutes } from './authorize-routes.js';
import { registerSmartConfiguration } from './smart-configuration.js';
import { registerTokenLifecycleRoutes } from './token-lifecycle-routes.js';

/** What the user grants need, from the running Vigil. */
export function userGrantDeps(vigil: Vigil): UserGrantDeps {
  return { tokens: vigil.tokens, sessions: vigil.sessions, codes: vigil.oauth.codes, refreshTokens: vigil.oauth.refreshTokens, revoked: vigil.oauth.revoked, users: vigil.users };
}

/**
 * The OAuth 2.0 endpoints: token, the authorization pages, introspection, revocation, logout,
 * and the discovery documents (JWKS, SMART configuration).
 */
export function registerOAuthRoutes(app: FastifyInstance, vigil: Vigil): void {
  registerAuthorizeRoutes(app, vigil);
  registerTokenLifecycleRoutes(app, vigil);
  registerSmartConfiguration(app, vigil);
  const limiter = new RateLimiter(vigil.config.tokenRateLimit, 60_000);
  const deps = userGrantDeps(vigil);
  app.post('/oauth2/token', async (request, reply) => {
    // Each attempt costs a scrypt check: one address may not make the server do that endlessly.
    const wait = limiter.take(request.ip);
    if (wait > 0) {
      reply.header('retry-after', String(wait));
      throw new VigilError('ERR_RATE_LIMITED');
    }
    const form = oauthForm(request);
    const grantType = form['grant_type'];
    if (grantType === undefined) throw new OAuthError('invalid_request', 'grant_type is required');
    if (!['client_credentials', 'authorization_code', 'refresh_token'].includes(grantType)) {
      throw new OAuthError('unsupported_grant_type', 'Supported grant types: authorization_code, refresh_token, client_credentials');
    }
    const { client } = await authenticateClient(vigil.clients, vigil.oauth.assertions, { authorization: request.headers.authorization, form });
    // Only a verified client id goes into the audit entry (a refused one could be anything).
    if (request.audit !== undefined) request.audit.client = client.clientId;
    let body: object;
    if (grantType === 'client_credentials') {
      body = await clientCredentialsGrant(client, vigil.tokens, form);
    } else if (grantType === 'authorization_code') {
      const out = await authorizationCodeGrant(deps, client, form);
      if (request.audit !== undefined) request.audit.user = out.userId;
      body = out.body;
    } else {
      if (request.audit !== undefined) request.audit.subtype = 'token-refresh';
      try {
        const out = await refreshTokenGrant(deps, client, form);
        if (request.audit !== undefined) request.audit.user = out.userId;
        body = out.body;
      } catch (err) {
        if (err instanceof RefreshReuseError && request.audit !== undefined) request.audit.subtype = 'refresh-reuse';
        throw err;
      }
    }
    return reply.header('pragma', 'no-cache').header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(body));
  });

  app.get('/.well-known/jwks.json', async (_request, reply) => {
    // Public keys only, so verifiers may cache them briefly (new keys are published before use).
    return reply
      .header('content-type', 'application/json; charset=utf-8')
      .header('cache-control', 'public, max-age=60')
      .send(JSON.stringify(vigil.signingKeys.jwks()));
  });

  app.get('/healthz', async (_request, reply) => reply.header('content-type', 'application/json; charset=utf-8').send('{"status":"ok"}'));
}
