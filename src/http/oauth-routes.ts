import type { FastifyInstance } from 'fastify';
import { clientCredentialsGrant } from '../auth/index.js';
import { OAuthError, VigilError } from '../errors.js';
import { RateLimiter } from './rate-limit.js';
import { FormBody } from './json-body.js';
import type { Vigil } from '../runtime/index.js';

/** The OAuth 2.0 token endpoint and the public keys that verify its tokens. */
export function registerOAuthRoutes(app: FastifyInstance, vigil: Vigil): void {
  const limiter = new RateLimiter(vigil.config.tokenRateLimit, 60_000);
  app.post('/oauth2/token', async (request, reply) => {
    // Each attempt costs a scrypt check: one address may not make the server do that endlessly.
    const wait = limiter.take(request.ip);
    if (wait > 0) {
      reply.header('retry-after', String(wait));
      throw new VigilError('ERR_RATE_LIMITED');
    }
    const type = request.headers['content-type'] ?? '';
    if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type) || !(request.body instanceof FormBody)) {
      throw new OAuthError('invalid_request', 'The body must be application/x-www-form-urlencoded');
    }
    const form = request.body.unique();
    const { token: issued, clientId } = await clientCredentialsGrant(vigil.clients, vigil.tokens, { authorization: request.headers.authorization, form });
    // Only a verified client id goes into the audit entry (a refused one could be anything).
    if (request.audit !== undefined) request.audit.client = clientId;
    return reply.header('pragma', 'no-cache').header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(issued));
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
