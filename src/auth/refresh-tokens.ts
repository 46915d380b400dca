import { randomBytes } from 'node:crypto';
import type { SealedRecords } from './records.js';
import type { UserGrant } from './authorization-codes.js';

const TOKEN = 'refresh';
const SPENT = 'refresh-spent';
const FAMILY = 'refresh-family';

interface TokenRecord {
  readonly familyId: string;
  readonly grant: UserGrant;
}

interface FamilyRecord {
  readonly sessionHandle: string;
  readonly revoked: boolean;
}

/** The outcome of presenting a refresh token. */
export type RefreshUse =
  | { readonly status: 'ok'; readonly grant: UserGrant; readonly familyId: string; readonly expiresAt: Date }
  /** A spent token came back: someone holds a copy (RFC 9700 section 4.14.2). */
  | { readonly status: 'reused'; readonly familyId: string; readonly sessionHandle: string }
  | { readonly status: 'revoked' | 'unknown' };

/**
 * Rotating refresh tokens. Each token is 256 random bits, stored only as a keyed hash, and is good
 * once: using it spends it and yields the next token of its family. Every token of a family
 * lives no longer than the sign-in session it came from.
 */
export class RefreshTokens {
  readonly #records: SealedRecords;

  constructor(records: SealedRecords) {
    this.#records = records;
  }

  /** Issues a token: a new family when `familyId` is undefined. `expiresAt` is the session's end. */
  async issue(grant: UserGrant, expiresAt: Date, familyId?: string): Promise<{ token: string; familyId: string }> {
    const family = familyId ?? randomBytes(16).toString('base64url');
    if (familyId === undefined) {
      await this.#records.put(FAMILY, family, { sessionHandle: grant.sessionHandle, revoked: false } satisfies FamilyRecord, expiresAt);
    }
    const token = randomBytes(32).toString('base64url');
    await this.#records.put(TOKEN, this.#records.keyFor(TOKEN, token), { familyId: family, grant } satisfies TokenRecord, expiresAt);
    return { token, familyId: family };
  }

  /**
   * Spends a token. The spent mark is an `insert`, so of two requests racing with one token only
   * the first gets `ok`; the other is treated as the reuse it is.
   */
  async use(token: string): Promise<RefreshUse> {
    if (token.length === 0 || token.length > 200) return { status: 'unknown' };
    const key = this.#records.keyFor(TOKEN, token);
    const live = await this.#records.get<TokenRecord>(TOKEN, key);
    if (live === undefined) {
      const spent = await this.#records.get<{ familyId: string; sessionHandle: string }>(SPENT, key);
      return spent === undefined ? { status: 'unknown' } : { status: 'reused', ...spent.value };
    }
    const { familyId, grant } = live.value;
    const expiresAt = new Date(live.expiresAt ?? 0);
    const first = await this.#records.insert(SPENT, key, { familyId, sessionHandle: grant.sessionHandle }, expiresAt);
    if (!first) return { status: 'reused', familyId, sessionHandle: grant.sessionHandle };
    await this.#records.delete(TOKEN, key);
    if (await this.familyRevoked(familyId)) return { status: 'revoked' };
    return { status: 'ok', grant, familyId, expiresAt };
  }

  /** Revokes every token of a family, spent or not. */
  async revokeFamily(familyId: string): Promise<void> {
    const rec = await this.#records.get<FamilyRecord>(FAMILY, familyId);
    if (rec === undefined) return;
    await this.#records.put(FAMILY, familyId, { ...rec.value, revoked: true }, rec.expiresAt === null ? null : new Date(rec.expiresAt));
  }

  async familyRevoked(familyId: string): Promise<boolean> {
    const rec = await this.#records.get<FamilyRecord>(FAMILY, familyId);
    return rec === undefined || rec.value.revoked;
  }

  /** The family and grant of a live token, without spending it (revocation, RFC 7009). */
  async peek(token: string): Promise<{ familyId: string; grant: UserGrant } | undefined> {
    if (token.length === 0 || token.length > 200) return undefined;
    return (await this.#records.get<TokenRecord>(TOKEN, this.#records.keyFor(TOKEN, token)))?.value;
  }
}
