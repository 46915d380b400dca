import { randomBytes } from 'node:crypto';
import type { SealedRecords } from './records.js';

/** What a user granted a client: carried from consent to the code, and on to refresh tokens. */
export interface UserGrant {
  readonly clientId: string;
  readonly userId: string;
  /** The sign-in session's handle (the tokens' `sid`). */
  readonly sessionHandle: string;
  /** Every granted scope, resource scopes and `openid`, `launch/patient`, `offline_access`... alike. */
  readonly scope: string;
  readonly roles: readonly string[];
  readonly fhirUser?: string;
  readonly patient?: string;
}

/** An authorization code's record: the grant plus what the token request must repeat. */
export interface CodeRecord extends UserGrant {
  readonly redirectUri: string;
  /** The S256 PKCE challenge. */
  readonly challenge: string;
}

/** What the first redemption of a code produced, so a second one can revoke it (RFC 6749 section 4.1.2). */
export interface CodeUse {
  readonly tokenId: string;
  /** `exp` of the access token, seconds since the epoch. */
  readonly tokenExpiresAt: number;
  readonly familyId?: string;
}

const CODE = 'auth-code';
const USED = 'auth-code-used';
/** Codes live a minute: long enough for a redirect and a token request, short enough to be useless stolen. */
export const CODE_TTL_SECONDS = 60;

/**
 * One-time authorization codes. The code is 256 random bits; the store keeps only its keyed hash,
 * and `take` removes it in the same step that reads it, so two redemptions can never both win.
 */
export class AuthorizationCodes {
  readonly #records: SealedRecords;
  readonly #now: () => Date;
  readonly #rememberSeconds: number;

  /** `rememberSeconds`: how long a redeemed code is remembered, to revoke its tokens on replay. */
  constructor(records: SealedRecords, rememberSeconds: number, now: () => Date = () => new Date()) {
    this.#records = records;
    this.#rememberSeconds = rememberSeconds;
    this.#now = now;
  }

  /** Issues a code for the record; returns the code (to put in the redirect, never to log). */
  async issue(record: CodeRecord): Promise<string> {
    const code = randomBytes(32).toString('base64url');
    await this.#records.put(CODE, this.#records.keyFor(CODE, code), record, new Date(this.#now().getTime() + CODE_TTL_SECONDS * 1000));
    return code;
  }

  /**
   * Redeems a code once. A code seen before answers `replayed` with what its first use produced;
   * an unknown or expired one answers `unknown`.
   */
  async redeem(code: string): Promise<{ status: 'ok'; record: CodeRecord } | { status: 'replayed'; use: CodeUse } | { status: 'unknown' }> {
    if (code.length === 0 || code.length > 200) return { status: 'unknown' };
    const key = this.#records.keyFor(CODE, code);
    const taken = await this.#records.take<CodeRecord>(CODE, key);
    if (taken !== undefined) return { status: 'ok', record: taken.value };
    const used = await this.#records.get<CodeUse>(USED, key);
    return used === undefined ? { status: 'unknown' } : { status: 'replayed', use: used.value };
  }

  /** Remembers what a redeemed code produced. */
  async markUsed(code: string, use: CodeUse): Promise<void> {
    const until = new Date(this.#now().getTime() + this.#rememberSeconds * 1000);
    await this.#records.put(USED, this.#records.keyFor(CODE, code), use, until);
  }
}
