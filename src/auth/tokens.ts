import { randomUUID } from 'node:crypto';
import { SignJWT, createLocalJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { VigilError } from '../errors.js';
import { ScopeSet } from './scopes.js';
import { SIGNING_ALG, type SigningKeys } from './signing-keys.js';

/**
 * Who is calling, as proven by a verified access token: a client acting for itself (client
 * credentials, `system/` scopes) or a user signed in through a client (`user/` and `patient/`).
 */
export interface Principal {
  readonly kind: 'client' | 'user';
  readonly clientId: string;
  /** The signed-in user's id (users only). */
  readonly userId?: string;
  readonly scopes: ScopeSet;
  /** Roles (e.g. `clinician`, `security-admin`), as registered when the token was issued. */
  readonly roles: readonly string[];
  /** The FHIR resource the user is: `Practitioner/1`, `Patient/2` or `RelatedPerson/3`. */
  readonly fhirUser?: string;
  /** The id of the patient in context (SMART `launch/patient`), if any. */
  readonly patient?: string;
  /** The sign-in session the token belongs to (users only); ending it ends the token. */
  readonly sessionId?: string;
  readonly tokenId: string;
  /** Expiry of the token, in seconds since the epoch. */
  readonly expiresAt: number;
}

/** What a token says about the user it was issued to (absent for client credentials). */
export interface UserClaims {
  readonly userId: string;
  readonly sessionId: string;
  readonly fhirUser?: string;
  readonly patient?: string;
}

/** The cause of a 401 for a genuine token that was revoked (or whose session or user ended). */
export class RevokedToken extends Error {
  readonly principal: Principal;
  constructor(principal: Principal) {
    super('revoked');
    this.principal = principal;
  }
}

/** Answers whether a verified token has since been revoked (logout, revocation, disabled user). */
export type RevocationCheck = (principal: Principal) => Promise<boolean>;

export interface TokenServiceOptions {
  readonly keys: SigningKeys;
  /** `iss` of every token: the server's public origin. */
  readonly issuer: string;
  /** `aud` of every token: the FHIR base URL. */
  readonly audience: string;
  readonly ttlSeconds: number;
  readonly now?: () => Date;
}

export interface IssuedToken {
  readonly access_token: string;
  readonly token_type: 'Bearer';
  readonly expires_in: number;
  readonly scope: string;
}

/** Verified tokens are remembered until they expire, so each is checked by signature only once. */
const CACHE_LIMIT = 10_000;

function unauthenticated(cause?: unknown): VigilError {
  // One message for every failure: never tell a caller which check its token failed.
  return new VigilError('ERR_UNAUTHENTICATED', 'The access token is missing, invalid or expired', { cause });
}

/** Issues and verifies JWT access tokens (RFC 9068 `at+jwt`, EdDSA). */
export class TokenService {
  readonly #o: TokenServiceOptions;
  readonly #now: () => Date;
  #jwks: ReturnType<typeof createLocalJWKSet>;
  readonly #verified = new Map<string, Principal>();
  #revoked: RevocationCheck | undefined;

  constructor(options: TokenServiceOptions) {
    this.#o = options;
    this.#now = options.now ?? (() => new Date());
    this.#jwks = createLocalJWKSet(options.keys.jwks());
  }

  /** Sets the check every verification consults (sessions and revocations live in the store). */
  setRevocationCheck(check: RevocationCheck): void {
    this.#revoked = check;
  }

  /** Issues an access token to a client, or (with `user`) to a user signed in through it. */
  async issue(clientId: string, scopes: ScopeSet, roles: readonly string[] = [], user?: UserClaims): Promise<IssuedToken> {
    const key = this.#o.keys.current;
    const nowSeconds = Math.floor(this.#now().getTime() / 1000);
    const scope = scopes.toString();
    const claims: JWTPayload = { scope, client_id: clientId, ...(roles.length === 0 ? {} : { roles: [...roles] }) };
    if (user !== undefined) {
      claims['sid'] = user.sessionId;
      if (user.fhirUser !== undefined) claims['fhirUser'] = user.fhirUser;
      if (user.patient !== undefined) claims['patient'] = user.patient;
    }
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: SIGNING_ALG, kid: key.kid, typ: 'at+jwt' })
      .setIssuer(this.#o.issuer)
      .setAudience(this.#o.audience)
      .setSubject(user?.userId ?? clientId)
      .setJti(randomUUID())
      .setIssuedAt(nowSeconds)
      .setExpirationTime(nowSeconds + this.#o.ttlSeconds)
      .sign(key.privateKey);
    return { access_token: token, token_type: 'Bearer', expires_in: this.#o.ttlSeconds, scope };
  }

  /** Verifies a bearer token: signature (EdDSA only), `typ`, issuer, audience, expiry. */
  async verify(token: string): Promise<Principal> {
    const principal = await this.#verifySignature(token);
    // The caller sees the one 401; the audit entry may name whose (genuine) token it was.
    if (this.#revoked !== undefined && (await this.#revoked(principal))) throw unauthenticated(new RevokedToken(principal));
    return principal;
  }

  async #verifySignature(token: string): Promise<Principal> {
    const nowSeconds = Math.floor(this.#now().getTime() / 1000);
    const cached = this.#verified.get(token);
    if (cached !== undefined) {
      if (cached.expiresAt > nowSeconds) return cached;
      this.#verified.delete(token);
      throw unauthenticated();
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.#jwks, {
        algorithms: [SIGNING_ALG],
        issuer: this.#o.issuer,
        audience: this.#o.audience,
        typ: 'at+jwt',
        requiredClaims: ['exp', 'iat', 'jti', 'sub'],
        currentDate: this.#now(),
        clockTolerance: 0,
      }));
    } catch (err) {
      throw unauthenticated(err);
    }
    const { sub, jti, exp, scope } = payload;
    if (typeof sub !== 'string' || typeof jti !== 'string' || typeof exp !== 'number' || typeof scope !== 'string') throw unauthenticated();
    // A token that claims to outlive the configured lifetime was not made by this server's rules.
    if (typeof payload.iat !== 'number' || exp - payload.iat > this.#o.ttlSeconds) throw unauthenticated();
    const roles = Array.isArray(payload['roles']) ? payload['roles'].filter((r): r is string => typeof r === 'string') : [];
    const text = (name: string): string | undefined => (typeof payload[name] === 'string' ? (payload[name] as string) : undefined);
    const sid = text('sid');
    const clientId = text('client_id') ?? sub;
    const fhirUser = text('fhirUser');
    const patient = text('patient');
    const principal: Principal =
      sid === undefined
        ? { kind: 'client', clientId: sub, scopes: ScopeSet.parse(scope), roles, tokenId: jti, expiresAt: exp }
        : {
            kind: 'user',
            clientId,
            userId: sub,
            sessionId: sid,
            scopes: ScopeSet.parse(scope),
            roles,
            ...(fhirUser === undefined ? {} : { fhirUser }),
            ...(patient === undefined ? {} : { patient }),
            tokenId: jti,
            expiresAt: exp,
          };
    this.#remember(token, principal, nowSeconds);
    return principal;
  }

  /** Picks up signing keys added since start (e.g. by `vigil keys rotate --signing`). */
  reloadKeys(): void {
    this.#jwks = createLocalJWKSet(this.#o.keys.jwks());
  }

  #remember(token: string, principal: Principal, nowSeconds: number): void {
    if (this.#verified.size >= CACHE_LIMIT) {
      for (const [t, p] of this.#verified) if (p.expiresAt <= nowSeconds) this.#verified.delete(t);
      if (this.#verified.size >= CACHE_LIMIT) this.#verified.clear();
    }
    this.#verified.set(token, principal);
  }
}
