import { decodeJwt } from 'jose';
import { OAuthError } from '../errors.js';
import type { AuthorizationCodes, UserGrant } from './authorization-codes.js';
import type { RegisteredClient } from './clients.js';
import { verifierMatches } from './pkce.js';
import type { RefreshTokens } from './refresh-tokens.js';
import type { RevokedTokens } from './revocation.js';
import type { Session, SessionStore } from './sessions.js';
import type { IssuedToken, TokenService } from './tokens.js';
import { grantableScopes, narrowScopes, resourceScopes, splitScopes } from './user-scopes.js';

/** What the token endpoint needs to know about a user when it issues or refreshes their tokens. */
export interface GrantUser {
  readonly disabled: boolean;
  readonly roles: readonly string[];
}

export interface UserGrantDeps {
  readonly tokens: TokenService;
  readonly sessions: SessionStore;
  readonly codes: AuthorizationCodes;
  readonly refreshTokens: RefreshTokens;
  readonly revoked: RevokedTokens;
  readonly users: { get(id: string): Promise<GrantUser | undefined> };
}

/** The token response of the user grants (RFC 6749 section 5.1, SMART App Launch section 2.0.8). */
export interface UserTokenResponse extends IssuedToken {
  readonly refresh_token?: string;
  readonly patient?: string;
}

/** The refusal of a spent refresh token presented again (its family is revoked, its session ended). */
export class RefreshReuseError extends OAuthError {
  constructor() {
    super('invalid_grant', 'The grant is invalid, expired, revoked or was issued to another client');
    this.name = 'RefreshReuseError';
  }
}

function invalidGrant(): OAuthError {
  // One answer for every refusal: a probe learns nothing about which check failed.
  return new OAuthError('invalid_grant', 'The grant is invalid, expired, revoked or was issued to another client');
}

/** The session, user and client are all still good for this grant; else invalid_grant. */
async function liveGrant(deps: UserGrantDeps, client: RegisteredClient, grant: UserGrant): Promise<{ session: Session; user: GrantUser }> {
  if (grant.clientId !== client.clientId) throw invalidGrant();
  const [session, user] = await Promise.all([deps.sessions.check(grant.sessionHandle), deps.users.get(grant.userId)]);
  if (session === undefined || session.userId !== grant.userId || user === undefined || user.disabled) throw invalidGrant();
  return { session, user };
}

/** Issues an access token (and, when granted, a refresh token of `familyId`'s family). */
async function issue(deps: UserGrantDeps, client: RegisteredClient, grant: UserGrant, scopes: readonly string[], session: Session, user: GrantUser, familyId?: string): Promise<{ body: UserTokenResponse; familyId?: string }> {
  const claims = { userId: grant.userId, sessionId: grant.sessionHandle, ...(grant.fhirUser === undefined ? {} : { fhirUser: grant.fhirUser }), ...(grant.patient === undefined ? {} : { patient: grant.patient }) };
  // Roles are read now, not when the code was made: a role taken away is gone from the next token.
  const issued = await deps.tokens.issue(client.clientId, resourceScopes(scopes), user.roles, claims);
  const wantsRefresh = grant.scope.split(' ').some((s) => s === 'offline_access' || s === 'online_access');
  const mayRefresh = client.grants.includes('refresh_token') || client.grants.includes('authorization_code');
  let refresh: { token: string; familyId: string } | undefined;
  if (wantsRefresh && mayRefresh) refresh = await deps.refreshTokens.issue(grant, deps.sessions.endsBy(session), familyId);
  const body: UserTokenResponse = {
    ...issued,
    // The response names every granted scope (launch and OpenID ones too), not only resource scopes.
    scope: scopes.join(' '),
    ...(refresh === undefined ? {} : { refresh_token: refresh.token }),
    ...(grant.patient === undefined ? {} : { patient: grant.patient }),
  };
  return refresh === undefined ? { body } : { body, familyId: refresh.familyId };
}

/**
 * The authorization code grant (RFC 6749 section 4.1.3) with PKCE (RFC 7636 section 4.6). The
 * code is good once; its second use is refused and revokes what the first produced.
 */
export async function authorizationCodeGrant(deps: UserGrantDeps, client: RegisteredClient, form: Readonly<Record<string, string>>): Promise<{ body: UserTokenResponse; userId: string }> {
  if (!client.grants.includes('authorization_code')) throw new OAuthError('unauthorized_client', 'This client may not use the authorization_code grant');
  const code = form['code'];
  if (code === undefined) throw new OAuthError('invalid_request', 'code is required');
  const redeemed = await deps.codes.redeem(code);
  if (redeemed.status === 'replayed') {
    // Someone used this code before: whoever that was, their tokens are not to be trusted.
    await deps.revoked.revoke(redeemed.use.tokenId, redeemed.use.tokenExpiresAt);
    if (redeemed.use.familyId !== undefined) await deps.refreshTokens.revokeFamily(redeemed.use.familyId);
    throw invalidGrant();
  }
  if (redeemed.status === 'unknown') throw invalidGrant();
  const rec = redeemed.record;
  // The code is spent whatever happens next: a wrong verifier does not leave it usable.
  if (rec.clientId !== client.clientId || form['redirect_uri'] !== rec.redirectUri || !verifierMatches(form['code_verifier'], rec.challenge)) throw invalidGrant();
  const { session, user } = await liveGrant(deps, client, rec);
  const scopes = grantableScopes(splitScopes(rec.scope), client.scopes);
  if (scopes.length === 0) throw invalidGrant();
  const grant: UserGrant = { ...rec, scope: scopes.join(' ') };
  const { body, familyId } = await issue(deps, client, grant, scopes, session, user);
  const { jti, exp } = decodeJwt(body.access_token);
  await deps.codes.markUsed(code, { tokenId: jti ?? '', tokenExpiresAt: exp ?? 0, ...(familyId === undefined ? {} : { familyId }) });
  return { body, userId: rec.userId };
}

/**
 * The refresh token grant (RFC 6749 section 6) with rotation: each use spends the token and
 * returns the next one. A spent token presented again revokes its whole family and ends the
 * sign-in session (RFC 9700 section 4.14.2). The scope may only narrow.
 */
export async function refreshTokenGrant(deps: UserGrantDeps, client: RegisteredClient, form: Readonly<Record<string, string>>): Promise<{ body: UserTokenResponse; userId: string }> {
  const token = form['refresh_token'];
  if (token === undefined) throw new OAuthError('invalid_request', 'refresh_token is required');
  // A request that is wrong on its face (another client, a wider scope) is refused before the
  // token is spent, so a client's mistake does not cost it the session.
  const live = await deps.refreshTokens.peek(token);
  if (live !== undefined) {
    if (live.grant.clientId !== client.clientId) throw invalidGrant();
    if (narrowScopes(live.grant.scope, form['scope']) === undefined) throw new OAuthError('invalid_scope', 'The requested scope exceeds the original grant');
  }
  const used = await deps.refreshTokens.use(token);
  if (used.status === 'reused') {
    await deps.refreshTokens.revokeFamily(used.familyId);
    await deps.sessions.end(used.sessionHandle);
    throw new RefreshReuseError();
  }
  if (used.status !== 'ok') throw invalidGrant();
  const { session, user } = await liveGrant(deps, client, used.grant);
  // The client's registration may have narrowed since: never refresh past what it now allows.
  const still = grantableScopes(splitScopes(used.grant.scope), client.scopes);
  const grant: UserGrant = { ...used.grant, scope: still.join(' ') };
  const scopes = narrowScopes(grant.scope, form['scope']);
  if (scopes === undefined || scopes.length === 0) throw new OAuthError('invalid_scope', 'The requested scope exceeds the original grant');
  const { body } = await issue(deps, client, grant, scopes, session, user, used.familyId);
  return { body, userId: used.grant.userId };
}
