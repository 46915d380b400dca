import type { SealedRecords } from './records.js';

const KIND = 'lockout';
const MINUTE = 60_000;
/** How long a lockout is remembered for doubling the next one. */
const STRIKE_MEMORY_MS = 24 * 60 * MINUTE;

/** When failures lock a subject out: `failures` within `windowMs` lock it for `lockMs` (doubling on repeat up to `maxLockMs`). */
export interface LockoutRule {
  readonly failures: number;
  readonly windowMs: number;
  readonly lockMs: number;
  readonly maxLockMs: number;
}

/** 5 failures in 15 minutes lock an account for 15 minutes, then 30, 60... up to 4 hours. */
export const ACCOUNT_RULE: LockoutRule = { failures: 5, windowMs: 15 * MINUTE, lockMs: 15 * MINUTE, maxLockMs: 240 * MINUTE };
/** 20 failures in 15 minutes from one address block it for 15 minutes (doubling up to 4 hours). */
export const ADDRESS_RULE: LockoutRule = { failures: 20, windowMs: 15 * MINUTE, lockMs: 15 * MINUTE, maxLockMs: 240 * MINUTE };

/** What a lockout record holds (sealed). `subject` is a user id or an address, never a user name. */
interface State {
  readonly scope: 'account' | 'address' | 'unknown-name';
  readonly subject: string;
  readonly failures: number;
  readonly windowStart: number;
  readonly lockedUntil: number | null;
  readonly strikes: number;
}

/** One lockout, as the admin API lists it. */
export interface LockoutEntry {
  /** Opaque key for `DELETE /admin/lockouts/:key`. */
  readonly key: string;
  readonly scope: State['scope'];
  /** The user id or the address (empty for attempts at an unknown user name). */
  readonly subject: string;
  readonly failures: number;
  readonly lockedUntil: string | null;
}

export type LockStatus = { readonly locked: false } | { readonly locked: true; readonly retryAfterSeconds: number };

/** Who an attempt was for: a known user id, or (for unknown names) the normalized name, which is only hashed. */
export type Attempted = { readonly userId: string } | { readonly unknownName: string };

export interface LockoutOptions {
  readonly now?: () => Date;
  readonly account?: LockoutRule;
  readonly address?: LockoutRule;
}

/**
 * Sign-in throttling per account and per source address, kept in sealed records (kind `lockout`)
 * so it holds across restarts and processes. Attempts at unknown user names are counted under
 * the (hashed) name exactly like a real account, so lockouts do not reveal which names exist.
 * Counting is read-then-write: two processes racing may each miss the other's one failure.
 */
export class Lockout {
  readonly #records: SealedRecords;
  readonly #now: () => Date;
  readonly #account: LockoutRule;
  readonly #address: LockoutRule;

  constructor(records: SealedRecords, options: LockoutOptions = {}) {
    this.#records = records;
    this.#now = options.now ?? (() => new Date());
    this.#account = options.account ?? ACCOUNT_RULE;
    this.#address = options.address ?? ADDRESS_RULE;
  }

  #subjects(who: Attempted, address: string): { key: string; scope: State['scope']; subject: string; rule: LockoutRule }[] {
    const account = 'userId' in who
      ? { key: this.#records.keyFor(KIND, `user:${who.userId}`), scope: 'account' as const, subject: who.userId, rule: this.#account }
      : { key: this.#records.keyFor(KIND, `name:${who.unknownName}`), scope: 'unknown-name' as const, subject: '', rule: this.#account };
    return [account, { key: this.#records.keyFor(KIND, `addr:${address}`), scope: 'address', subject: address, rule: this.#address }];
  }

  /** Whether the account or the address is locked now, and for how long. */
  async status(who: Attempted, address: string): Promise<LockStatus> {
    const now = this.#now().getTime();
    let until = 0;
    for (const s of this.#subjects(who, address)) {
      const state = (await this.#records.get<State>(KIND, s.key))?.value;
      const lockedUntil = state?.lockedUntil ?? 0;
      if (lockedUntil > now) until = Math.max(until, lockedUntil);
    }
    return until === 0 ? { locked: false } : { locked: true, retryAfterSeconds: Math.ceil((until - now) / 1000) };
  }

  /** Counts a failed attempt (wrong password, wrong code, unknown name) against the account and the address. */
  async fail(who: Attempted, address: string): Promise<void> {
    const now = this.#now().getTime();
    for (const s of this.#subjects(who, address)) {
      const old = (await this.#records.get<State>(KIND, s.key))?.value;
      const inWindow = old !== undefined && now - old.windowStart < s.rule.windowMs;
      let next: State = {
        scope: s.scope,
        subject: s.subject,
        failures: inWindow ? old.failures + 1 : 1,
        windowStart: inWindow ? old.windowStart : now,
        lockedUntil: (old?.lockedUntil ?? 0) > now ? (old?.lockedUntil ?? null) : null,
        strikes: old?.strikes ?? 0,
      };
      if (next.failures >= s.rule.failures && next.lockedUntil === null) {
        // Each repeat lockout doubles, so a patient guesser gains nothing by waiting out the first.
        const lockMs = Math.min(s.rule.lockMs * 2 ** next.strikes, s.rule.maxLockMs);
        next = { ...next, failures: 0, windowStart: now, lockedUntil: now + lockMs, strikes: next.strikes + 1 };
      }
      const keepUntil = Math.max(next.windowStart + s.rule.windowMs, (next.lockedUntil ?? 0) + (next.strikes > 0 ? STRIKE_MEMORY_MS : 0));
      await this.#records.put(KIND, s.key, next, new Date(keepUntil));
    }
  }

  /** A successful sign-in clears the account's count (not the address's: one good password must not launder a spray). */
  async succeed(userId: string): Promise<void> {
    await this.#records.delete(KIND, this.#records.keyFor(KIND, `user:${userId}`));
  }

  /** Every live counter and lockout, newest lock first. */
  async list(): Promise<LockoutEntry[]> {
    const out = (await this.#records.list<State>(KIND)).map((r) => ({
      key: r.key,
      scope: r.value.scope,
      subject: r.value.subject,
      failures: r.value.failures,
      lockedUntil: r.value.lockedUntil === null ? null : new Date(r.value.lockedUntil).toISOString(),
    }));
    return out.sort((a, b) => (b.lockedUntil ?? '').localeCompare(a.lockedUntil ?? ''));
  }

  /** Removes one counter or lockout (its strikes too); false when there was none. */
  clear(key: string): Promise<boolean> {
    return this.#records.delete(KIND, key);
  }
}
