import type { FastifyInstance, FastifyRequest } from 'fastify';
import { decodeJwt } from 'jose';
import { authenticateClient, readCookie, sessionCookie, sessionCookieName, type Principal, type RegisteredClient } from '../auth/index.js';
import { OAuthError, VigilError } from '../errors.js';
import type { Vigil } from '../runtime/index.js';
import { oauthForm } from './oauth-form.js';

/** Who may introspect: a confidential client (its own tokens; any, with the security-admin role) or a security-admin user's bearer token. */
type Introspector = { readonly kind: 'client'; readonly client: RegisteredClient } | { readonly kind: 'admin'; readonly principal: Principal };

function bearer(request: FastifyRequest): string | undefined {
  const m = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/.exec(request.headers.authorization ?? '');
  return m?.[1];
}

function json(body: unknown): string {
  return JSON.stringify(body);
}

/**
 * Token introspection (RFC 7662), revocation (RFC 7009) and logout. Introspection answers only
 * `{"active":false}` for anything it will not vouch for, never why; revocation always answers 200
 * to an authenticated client, so it cannot be used to probe which tokens exist.
 */
export function registerTokenLifecycleRoutes(app: FastifyInstance, vigil: Vigil): void {
  const https = vigil.config.publicUrl.startsWith('https:');
  const audit = (request: FastifyRequest, fields: { client?: string; user?: string }): void => {
    if (request.audit === undefined) return;
    if (fields.client !== undefined) request.audit.client = fields.client;
    if (fields.user !== undefined) request.audit.user = fields.user;
  };

  const introspector = async (request: FastifyRequest, form: Record<string, string>): Promise<Introspector> => {
    const token = bearer(request);
    if (token !== undefined) {
      const principal = await vigil.tokens.verify(token);
      // Reading any token's claims is an administrator's power, not every user's.
      if (!principal.roles.includes('security-admin')) throw new VigilError('ERR_SCOPE', 'Introspection needs the security-admin role');
      return { kind: 'admin', principal };
    }
    const { client, method } = await authenticateClient(vigil.clients, vigil.oauth.assertions, { authorization: request.headers.authorization, form });
    if (method === 'none') throw new OAuthError('invalid_client', 'Introspection needs an authenticated confidential client', 401);
    return { kind: 'client', client };
  };

  app.post('/oauth2/introspect', async (request, reply) => {
    const form = oauthForm(request);
    const who = await introspector(request, form);
    audit(request, who.kind === 'client' ? { client: who.client.clientId } : { client: who.principal.clientId, ...(who.principal.userId === undefined ? {} : { user: who.principal.userId }) });
    // A client sees only its own tokens (no scanning others'), unless it is a security-admin client.
    const ownOnly = who.kind === 'client' && !who.client.roles.includes('security-admin') ? who.client.clientId : undefined;
    const token = form['token'] ?? '';
    let body: Record<string, unknown> = { active: false };
    if (token.includes('.')) {
      const p = await vigil.tokens.verify(token).catch(() => undefined);
      if (p !== undefined && (ownOnly === undefined || ownOnly === p.clientId)) {
        const iat = decodeJwt(token).iat;
        body = {
          active: true,
          scope: p.scopes.toString(),
          client_id: p.clientId,
          sub: p.userId ?? p.clientId,
          exp: p.expiresAt,
          ...(typeof iat === 'number' ? { iat } : {}),
          iss: vigil.config.publicUrl,
          aud: vigil.config.fhirBaseUrl,
          token_type: 'Bearer',
          ...(p.fhirUser === undefined ? {} : { fhirUser: p.fhirUser }),
          ...(p.patient === undefined ? {} : { patient: p.patient }),
          ...(p.roles.length === 0 ? {} : { roles: [...p.roles] }),
        };
      }
    } else if (token !== '') {
      const r = await vigil.oauth.refreshTokens.peek(token);
      const live = r !== undefined && !(await vigil.oauth.refreshTokens.familyRevoked(r.familyId)) ? await vigil.sessions.check(r.grant.sessionHandle) : undefined;
      if (r !== undefined && live !== undefined && (ownOnly === undefined || ownOnly === r.grant.clientId)) {
        body = { active: true, scope: r.grant.scope, client_id: r.grant.clientId, sub: r.grant.userId, exp: Math.floor(vigil.sessions.endsBy(live).getTime() / 1000), token_type: 'refresh_token' };
      }
    }
    return reply.header('pragma', 'no-cache').header('content-type', 'application/json; charset=utf-8').send(json(body));
  });

  app.post('/oauth2/revoke', async (request, reply) => {
    const form = oauthForm(request);
    const { client } = await authenticateClient(vigil.clients, vigil.oauth.assertions, { authorization: request.headers.authorization, form });
    audit(request, { client: client.clientId });
    const token = form['token'] ?? '';
    if (token.includes('.')) {
      // Signature, issuer and audience are checked (expired ones need no revoking); only the
      // token's own client may revoke it (RFC 7009 section 2.1).
      const p = await vigil.tokens.verify(token).catch(() => undefined);
      if (p !== undefined && p.clientId === client.clientId) {
        await vigil.oauth.revoked.revoke(p.tokenId, p.expiresAt);
        audit(request, p.userId === undefined ? {} : { user: p.userId });
      }
    } else if (token !== '') {
      const r = await vigil.oauth.refreshTokens.peek(token);
      if (r !== undefined && r.grant.clientId === client.clientId) {
        await vigil.oauth.refreshTokens.revokeFamily(r.familyId);
        audit(request, { user: r.grant.userId });
      }
    }
    return reply.header('content-type', 'application/json; charset=utf-8').send('{}');
  });

  app.post('/oauth2/logout', async (request, reply) => {
    const token = bearer(request);
    const cookieName = sessionCookieName(https);
    let handle: string | undefined;
    if (token !== undefined) {
      const p = await vigil.tokens.verify(token);
      if (p.sessionId === undefined) throw new OAuthError('invalid_request', 'Only a user’s token belongs to a session');
      handle = p.sessionId;
      audit(request, { client: p.clientId, ...(p.userId === undefined ? {} : { user: p.userId }) });
    } else {
      const id = readCookie(request.headers.cookie, cookieName);
      const session = id === undefined ? undefined : await vigil.sessions.resume(id);
      if (session === undefined) throw new VigilError('ERR_UNAUTHENTICATED', 'No session to end');
      handle = session.handle;
      audit(request, { user: session.userId });
    }
    // Ending the session stops its access tokens at once and its refresh tokens on next use.
    await vigil.sessions.end(handle);
    return reply.header('set-cookie', sessionCookie('', https, 0)).header('content-type', 'application/json; charset=utf-8').send('{"status":"signed-out"}');
  });
}
