import { randomBytes } from 'node:crypto';
import type { SealedRecords } from './records.js';

/** A sign-in session: one per completed user sign-in (password, and OTP when MFA applies). */
export interface Session {
  /** The session's public handle: the `sid` claim of its tokens. Not the browser cookie. */
  readonly handle: string;
  readonly userId: string;
  /** The client the user signed in through. */
  readonly clientId: string;
  /** Times in ms since the epoch. */
  readonly createdAt: number;
  readonly lastSeen: number;
}

export interface SessionStoreOptions {
  readonly records: SealedRecords;
  /** A session unused this long ends (idle logoff). */
  readonly idleSeconds: number;
  /** A session ends this long after sign-in, whatever its use. */
  readonly maxSeconds: number;
  readonly now?: () => Date;
}

const KIND = 'session';
/** Tombstones of ended sessions, so a late "last seen" write cannot bring one back. */
const ENDED = 'session-ended';
/** "Last seen" is written at most this often per session, so a busy token costs one read per request. */
const TOUCH_MS = 60_000;

interface Stored {
  readonly userId: string;
  readonly clientId: string;
  readonly createdAt: number;
  readonly lastSeen: number;
}

/**
 * Sign-in sessions, kept as sealed records. A session has two names: a secret id (256 random
 * bits, the browser cookie's value, never stored: only its keyed hash is) and that hash, the
 * public handle, which tokens carry as `sid`. Knowing a token therefore never yields the cookie.
 *
 * @example
 * const { id, session } = await sessions.start(user.id, client.clientId);
 * reply.header('set-cookie', sessionCookie(id, https));
 * // later, for each token: (await sessions.check(principal.sessionId)) === undefined → revoked
 */
export class SessionStore {
  readonly #o: SessionStoreOptions;
  readonly #now: () => Date;

  constructor(options: SessionStoreOptions) {
    this.#o = options;
    this.#now = options.now ?? (() => new Date());
  }

  /** The public handle of a secret session id. */
  handleOf(id: string): string {
    return this.#o.records.keyFor(KIND, id);
  }

  /** Starts a session; returns its secret id (for the cookie) and the session. */
  async start(userId: string, clientId: string): Promise<{ id: string; session: Session }> {
    const id = randomBytes(32).toString('base64url');
    const handle = this.handleOf(id);
    const now = this.#now().getTime();
    const stored: Stored = { userId, clientId, createdAt: now, lastSeen: now };
    await this.#o.records.put(KIND, handle, stored, new Date(now + this.#o.maxSeconds * 1000));
    return { id, session: { handle, ...stored } };
  }

  /** The live session a browser cookie names (and marks it used), or undefined. */
  resume(id: string): Promise<Session | undefined> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return Promise.resolve(undefined);
    return this.check(this.handleOf(id));
  }

  /**
   * The live session with this handle, or undefined when it ended: logged out, idle for longer
   * than `idleSeconds`, or older than `maxSeconds`. Marks it used (at most one write a minute).
   */
  async check(handle: string): Promise<Session | undefined> {
    const rec = await this.#o.records.get<Stored>(KIND, handle);
    if (rec === undefined) return undefined;
    const now = this.#now().getTime();
    const s = rec.value;
    if (now >= s.createdAt + this.#o.maxSeconds * 1000) return undefined;
    if (now >= s.lastSeen + this.#o.idleSeconds * 1000) {
      // Idle logoff: the session is over for good, even if the clock were later turned back.
      await this.end(handle);
      return undefined;
    }
    if (now - s.lastSeen >= TOUCH_MS) {
      const touched: Stored = { ...s, lastSeen: now };
      await this.#o.records.put(KIND, handle, touched, rec.expiresAt === null ? null : new Date(rec.expiresAt));
      // An end() that raced this write left a tombstone: honour it.
      if ((await this.#o.records.get(ENDED, handle)) !== undefined) {
        await this.#o.records.delete(KIND, handle);
        return undefined;
      }
      return { handle, ...touched };
    }
    return { handle, ...s };
  }

  /** Ends a session by its handle (logout, refresh-token reuse). Its tokens stop working at once. */
  async end(handle: string): Promise<void> {
    const expires = new Date(this.#now().getTime() + this.#o.maxSeconds * 1000);
    await this.#o.records.put(ENDED, handle, { at: this.#now().getTime() }, expires);
    await this.#o.records.delete(KIND, handle);
  }

  /** Ends every session of a user (disabled account, password reset, MFA reset). Returns how many. */
  async endAllForUser(userId: string): Promise<number> {
    let n = 0;
    for (const rec of await this.#o.records.list<Stored>(KIND)) {
      if (rec.value.userId !== userId) continue;
      await this.end(rec.key);
      n++;
    }
    return n;
  }

  /** When a session ends at the latest (its absolute lifetime), as a Date. */
  endsBy(session: Session): Date {
    return new Date(session.createdAt + this.#o.maxSeconds * 1000);
  }
}

/** The browser cookie's name: `__Host-` (bound to this origin, Secure) over https only. */
export function sessionCookieName(https: boolean): string {
  return https ? '__Host-vigil_session' : 'vigil_session';
}

/** A `Set-Cookie` value for the session id (or, with `id` empty, one that clears it). */
export function sessionCookie(id: string, https: boolean, maxSeconds: number): string {
  const attrs = [`${sessionCookieName(https)}=${id}`, 'Path=/', 'HttpOnly', 'SameSite=Lax', `Max-Age=${id === '' ? 0 : maxSeconds}`];
  // Secure only over https: a plain loopback server would otherwise never get its cookie back.
  if (https) attrs.push('Secure');
  return attrs.join('; ');
}

/** Reads one cookie from a Cookie header; undefined when absent or repeated (a planted duplicate). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  const found = header
    .split(';')
    .map((p) => p.trim())
    .filter((p) => p.startsWith(`${name}=`))
    .map((p) => p.slice(name.length + 1));
  return found.length === 1 ? found[0] : undefined;
}
