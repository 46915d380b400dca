import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import { OAuthError } from '../errors.js';
import type { SealedRecords } from './records.js';

/** The `client_assertion_type` of RFC 7523 section 2.2. */
export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Signature algorithms accepted in client assertions (SMART asymmetric client auth, plus EdDSA). */
export const ASSERTION_ALGS = ['RS384', 'ES384', 'EdDSA', 'RS256', 'ES256'];
/** An assertion may live at most five minutes (SMART App Launch, asymmetric client authentication). */
const MAX_LIFETIME_SECONDS = 300;
const REPLAY = 'assertion-jti';

export interface AssertionOptions {
  readonly records: SealedRecords;
  /** The token endpoint's URL: the only `aud` accepted. */
  readonly tokenUrl: string;
  readonly now?: () => Date;
  /** JWKS fetch timeout in ms (default 3000). */
  readonly timeoutMs?: number;
}

function refused(cause?: unknown): OAuthError {
  // One answer for every failure: the caller learns nothing about which check failed.
  const err = new OAuthError('invalid_client', 'Client authentication failed', 401);
  if (cause !== undefined) Object.defineProperty(err, 'cause', { value: cause });
  return err;
}

/** Only https, or http on the loopback interface, may serve a client's keys. */
function jwksLocation(text: string): URL {
  const url = new URL(text);
  const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) throw refused();
  return url;
}

/**
 * Verifies `private_key_jwt` client assertions (RFC 7523 section 3, RFC 7521 section 4.2): signed
 * with a key from the client's registered JWKS, `iss` = `sub` = the client id, `aud` = the token
 * URL, `exp` no more than five minutes ahead (and after `iat`), and a `jti` never seen before.
 */
export class ClientAssertions {
  readonly #o: AssertionOptions;
  readonly #now: () => Date;
  readonly #sets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

  constructor(options: AssertionOptions) {
    this.#o = options;
    this.#now = options.now ?? (() => new Date());
  }

  /** The client id an assertion claims (its `iss`), read without trusting it, to find the keys. */
  static claimedClient(assertion: string): string | undefined {
    try {
      const iss = decodeJwt(assertion).iss;
      return typeof iss === 'string' ? iss : undefined;
    } catch {
      return undefined;
    }
  }

  #keySet(jwksUrl: string): ReturnType<typeof createRemoteJWKSet> {
    let set = this.#sets.get(jwksUrl);
    if (set === undefined) {
      if (this.#sets.size >= 1000) this.#sets.clear();
      set = createRemoteJWKSet(jwksLocation(jwksUrl), { timeoutDuration: this.#o.timeoutMs ?? 3000, cooldownDuration: 30_000, cacheMaxAge: 300_000 });
      this.#sets.set(jwksUrl, set);
    }
    return set;
  }

  /** Verifies an assertion for a client with a registered JWKS URL; throws invalid_client otherwise. */
  async verify(assertion: string, clientId: string, jwksUrl: string): Promise<void> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(assertion, this.#keySet(jwksUrl), {
        algorithms: ASSERTION_ALGS,
        issuer: clientId,
        subject: clientId,
        audience: this.#o.tokenUrl,
        requiredClaims: ['exp', 'jti'],
        currentDate: this.#now(),
        clockTolerance: 0,
      }));
    } catch (err) {
      throw refused(err);
    }
    const nowSeconds = Math.floor(this.#now().getTime() / 1000);
    const { exp, iat, jti } = payload;
    if (typeof exp !== 'number' || typeof jti !== 'string' || jti.length === 0 || jti.length > 256) throw refused();
    // A long-lived assertion is a reusable credential in all but name.
    if (exp - nowSeconds > MAX_LIFETIME_SECONDS) throw refused();
    if (iat !== undefined && (typeof iat !== 'number' || exp - iat > MAX_LIFETIME_SECONDS || iat > nowSeconds + 60)) throw refused();
    // Remembered until it expires: after that the `exp` check refuses it anyway.
    const key = this.#o.records.keyFor(REPLAY, `${clientId}\0${jti}`);
    if (!(await this.#o.records.insert(REPLAY, key, { at: nowSeconds }, new Date((exp + 1) * 1000)))) throw refused();
  }
}
