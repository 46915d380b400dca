import { AuthorizationCodes } from './authorization-codes.js';
import { ClientAssertions } from './client-assertion.js';
import type { SealedRecords } from './records.js';
import { RefreshTokens } from './refresh-tokens.js';
import { RevokedTokens } from './revocation.js';
import { SessionStore } from './sessions.js';

/** The stored state of the user sign-in flows, all kept as sealed records. */
export interface OAuthState {
  readonly sessions: SessionStore;
  readonly codes: AuthorizationCodes;
  readonly refreshTokens: RefreshTokens;
  readonly revoked: RevokedTokens;
  readonly assertions: ClientAssertions;
  /** The clock every part of the flows reads (pinned in tests). */
  readonly now: () => Date;
}

export interface OAuthStateOptions {
  readonly records: SealedRecords;
  readonly sessionIdleSeconds: number;
  readonly sessionMaxSeconds: number;
  /** The token endpoint URL (the `aud` of client assertions). */
  readonly tokenUrl: string;
  readonly now?: () => Date;
}

/** Opens the sign-in state over the sealed records. */
export function openOAuthState(o: OAuthStateOptions): OAuthState {
  const now = o.now ?? (() => new Date());
  return {
    sessions: new SessionStore({ records: o.records, idleSeconds: o.sessionIdleSeconds, maxSeconds: o.sessionMaxSeconds, now }),
    // A redeemed code is remembered as long as a session can last: its refresh tokens live no longer.
    codes: new AuthorizationCodes(o.records, o.sessionMaxSeconds, now),
    refreshTokens: new RefreshTokens(o.records),
    revoked: new RevokedTokens(o.records),
    assertions: new ClientAssertions({ records: o.records, tokenUrl: o.tokenUrl, now }),
    now,
  };
}
