import type { SealedRecords } from './records.js';
import type { SessionStore } from './sessions.js';
import type { Principal, RevocationCheck } from './tokens.js';

const REVOKED = 'revoked-jti';

/** What the revocation check needs to know about a client: whether it was disabled. */
export interface ClientStatus {
  isDisabled(clientId: string): Promise<boolean>;
}

/** What the revocation check needs to know about a user: whether the account still works. */
export interface UserStatus {
  get(id: string): Promise<{ readonly disabled: boolean } | undefined>;
}

/**
 * Revoked access tokens, by `jti`, kept until the token would have expired anyway (after that
 * the signature check refuses it on its own).
 */
export class RevokedTokens {
  readonly #records: SealedRecords;

  constructor(records: SealedRecords) {
    this.#records = records;
  }

  /** Revokes the token with this id; `expiresAt` is its `exp` in seconds since the epoch. */
  async revoke(tokenId: string, expiresAt: number): Promise<void> {
    await this.#records.put(REVOKED, this.#records.keyFor(REVOKED, tokenId), { at: Date.now() }, new Date(expiresAt * 1000 + 1000));
  }

  async isRevoked(tokenId: string): Promise<boolean> {
    return (await this.#records.get(REVOKED, this.#records.keyFor(REVOKED, tokenId))) !== undefined;
  }
}

/**
 * The check every verified token goes through (installed with `TokenService.setRevocationCheck`):
 * true (refuse) when its `jti` was revoked, or, for a user's token, when its session ended
 * (logout, idle logoff, absolute lifetime, refresh-token reuse), the session belongs to someone
 * else, or the user is disabled or gone. Point reads only, made in parallel; the session's
 * "last seen" is written at most once a minute (see SessionStore.check).
 */
export function revocationCheck(revoked: RevokedTokens, sessions: SessionStore, users: UserStatus, clients?: ClientStatus): RevocationCheck {
  return async (p: Principal): Promise<boolean> => {
    // A disabled client's tokens stop with it (detection's lock, or an admin), whoever they act for.
    const clientGone = clients === undefined ? Promise.resolve(false) : clients.isDisabled(p.clientId);
    if (p.kind === 'client') return (await Promise.all([revoked.isRevoked(p.tokenId), clientGone])).some((x) => x);
    // A user token with no session or no user id was not issued by this server's flows.
    if (p.sessionId === undefined || p.userId === undefined) return true;
    const [gone, session, user, disabledClient] = await Promise.all([revoked.isRevoked(p.tokenId), sessions.check(p.sessionId), users.get(p.userId), clientGone]);
    return gone || disabledClient || session === undefined || session.userId !== p.userId || user === undefined || user.disabled;
  };
}
