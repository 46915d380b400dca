import { randomUUID } from 'node:crypto';
import { VigilError } from '../errors.js';
import type { SealedRecords } from './records.js';
import { isPrivileged, type Role } from './roles.js';
import { assertAcceptablePassword, hashPassword, verifyPassword } from './passwords.js';
import { Lockout, type LockoutOptions } from './lockout.js';
import { acceptTotp, newTotpSecret, totpUri } from './totp.js';
import { checkClearances, checkLink, checkOrganizations, checkRoles, checkUsername, normalizeUsername } from './user-input.js';

/** A user as every getter returns it: never the password hash or the TOTP secret. */
export interface User {
  readonly id: string;
  readonly username: string;
  readonly roles: readonly Role[];
  /** `Practitioner/ID`, `Patient/ID` or `RelatedPerson/ID`. */
  readonly fhirUser?: string;
  /** Organization ids the user works for (the "same organization" care relationship). */
  readonly organizations: readonly string[];
  /** Security-label codes the user may see (`R`, `V`, `HIV`, `PSY`, `SUD`, `ETH`...). */
  readonly clearances: readonly string[];
  readonly disabled: boolean;
  readonly mfa: { readonly enrolled: boolean };
  readonly createdAt: string;
}

export interface NewUser {
  readonly username: string;
  readonly roles: readonly string[];
  readonly fhirUser?: string;
  readonly organizations?: readonly string[];
  readonly clearances?: readonly string[];
  readonly password: string;
}

/** The answer to a sign-in step: the same `invalid` for an unknown name, a wrong secret or a disabled user. */
export type SignInResult =
  | { readonly ok: true; readonly user: User }
  | { readonly ok: false; readonly reason: 'invalid' | 'locked'; readonly retryAfterSeconds?: number };

/** The sealed user record (kind `user`, keyed by the user id). */
interface UserRecord extends Omit<User, 'mfa'> {
  readonly passwordHash: string;
  /** `secret` once confirmed; `pending` between enrolment and confirmation; `lastStep` refuses replays. */
  readonly mfa: { readonly secret?: string; readonly pending?: string; readonly lastStep?: number };
}

const USER = 'user';
const USERNAME = 'username';

function publicUser(r: UserRecord): User {
  const { passwordHash: _h, mfa, ...rest } = r;
  return { ...rest, roles: [...r.roles], organizations: [...r.organizations], clearances: [...r.clearances], mfa: { enrolled: mfa.secret !== undefined } };
}

/**
 * The user directory: accounts, passwords, TOTP and sign-in with lockout, kept in sealed records.
 * User names are stored only inside sealed values; the lookup index is keyed by a keyed HMAC.
 */
export class UserDirectory {
  readonly #records: SealedRecords;
  readonly #now: () => Date;
  readonly lockout: Lockout;
  #decoy: Promise<string> | undefined;

  constructor(records: SealedRecords, options: LockoutOptions = {}) {
    this.#records = records;
    this.#now = options.now ?? (() => new Date());
    this.lockout = new Lockout(records, options);
  }

  async #byId(id: string): Promise<UserRecord | undefined> {
    if (typeof id !== 'string' || id.length === 0 || id.length > 64) return undefined;
    const r = (await this.#records.get<UserRecord>(USER, id))?.value;
    // The key is bound into the seal, but the id inside must agree too.
    return r?.id === id ? r : undefined;
  }

  async #byName(name: string): Promise<UserRecord | undefined> {
    const n = normalizeUsername(name);
    if (n === undefined) return undefined;
    const index = await this.#records.get<{ userId: string }>(USERNAME, this.#records.keyFor(USERNAME, n));
    const r = index === undefined ? undefined : await this.#byId(index.value.userId);
    return r?.username === n ? r : undefined;
  }

  async #mustName(name: string): Promise<UserRecord> {
    const r = await this.#byName(name);
    if (r === undefined) throw new VigilError('ERR_NOT_FOUND', 'No such user');
    return r;
  }

  async #mustId(id: string): Promise<UserRecord> {
    const r = await this.#byId(id);
    if (r === undefined) throw new VigilError('ERR_NOT_FOUND', 'No such user');
    return r;
  }

  #save(r: UserRecord): Promise<void> {
    return this.#records.put(USER, r.id, r);
  }

  /**
   * Adds a user. Throws ERR_BAD_REQUEST for a bad name, role, link or password and ERR_CONFLICT
   * when the name is taken.
   *
   * @example
   * await users.add({ username: 'dr.grey', roles: ['clinician'], fhirUser: 'Practitioner/17', password });
   */
  async add(input: NewUser): Promise<User> {
    const username = checkUsername(input.username);
    const fhirUser = checkLink(input.fhirUser);
    const roles = checkRoles(input.roles, fhirUser);
    const organizations = checkOrganizations(input.organizations);
    const clearances = checkClearances(input.clearances);
    assertAcceptablePassword(input.password, { username, privileged: isPrivileged(roles) });
    const id = randomUUID();
    const record: UserRecord = {
      id,
      username,
      roles,
      ...(fhirUser === undefined ? {} : { fhirUser }),
      organizations,
      clearances,
      disabled: false,
      createdAt: this.#now().toISOString(),
      passwordHash: await hashPassword(input.password),
      mfa: {},
    };
    // The index entry is inserted first, and only once: two adds of one name cannot both win.
    if (!(await this.#records.insert(USERNAME, this.#records.keyFor(USERNAME, username), { userId: id }))) {
      throw new VigilError('ERR_CONFLICT', 'A user with this name exists');
    }
    try {
      await this.#save(record);
    } catch (err) {
      await this.#records.delete(USERNAME, this.#records.keyFor(USERNAME, username));
      throw err;
    }
    return publicUser(record);
  }

  async get(id: string): Promise<User | undefined> {
    const r = await this.#byId(id);
    return r === undefined ? undefined : publicUser(r);
  }

  async byUsername(name: string): Promise<User | undefined> {
    const r = await this.#byName(name);
    return r === undefined ? undefined : publicUser(r);
  }

  /** Every user whose record opens, by name. */
  async list(): Promise<User[]> {
    const all = await this.#records.list<UserRecord>(USER);
    return all.filter((r) => r.value.id === r.key).map((r) => publicUser(r.value)).sort((a, b) => a.username.localeCompare(b.username));
  }

  async disable(name: string): Promise<User> {
    const r = await this.#mustName(name);
    return this.#update({ ...r, disabled: true });
  }

  async enable(name: string): Promise<User> {
    const r = await this.#mustName(name);
    return this.#update({ ...r, disabled: false });
  }

  /** Replaces a user's roles; the link they need must already be set. */
  async setRoles(name: string, roles: readonly string[]): Promise<User> {
    const r = await this.#mustName(name);
    return this.#update({ ...r, roles: checkRoles(roles, r.fhirUser) });
  }

  async setPassword(name: string, password: string): Promise<User> {
    const r = await this.#mustName(name);
    assertAcceptablePassword(password, { username: r.username, privileged: isPrivileged(r.roles) });
    return this.#update({ ...r, passwordHash: await hashPassword(password) });
  }

  /** Clears the user's second factor: their next sign-in must enrol again. */
  async mfaReset(name: string): Promise<User> {
    const r = await this.#mustName(name);
    return this.#update({ ...r, mfa: {} });
  }

  async #update(r: UserRecord): Promise<User> {
    await this.#save(r);
    return publicUser(r);
  }

  /** Whether sign-in needs a TOTP code: a privileged role, or a user who enrolled. */
  mfaRequired(user: User): boolean {
    return isPrivileged(user.roles) || user.mfa.enrolled;
  }

  /**
   * The password step of sign-in, with throttling. Unknown names, wrong passwords and disabled
   * users all answer `invalid` after the same scrypt work, and all count toward lockout.
   */
  async signIn(username: string, password: string, address: string): Promise<SignInResult> {
    const r = await this.#byName(username);
    const who = r === undefined ? { unknownName: normalizeUsername(username) ?? String(username).slice(0, 256) } : { userId: r.id };
    const status = await this.lockout.status(who, address);
    if (status.locked) return { ok: false, reason: 'locked', retryAfterSeconds: status.retryAfterSeconds };
    // Unknown names check against a decoy hash, so they take as long as wrong passwords.
    this.#decoy ??= hashPassword(randomUUID());
    const ok = await verifyPassword(typeof password === 'string' ? password : '', r?.passwordHash ?? (await this.#decoy));
    if (r === undefined || !ok || r.disabled) {
      await this.lockout.fail(who, address);
      return { ok: false, reason: 'invalid' };
    }
    await this.lockout.succeed(r.id);
    return { ok: true, user: publicUser(r) };
  }

  /** Starts TOTP enrolment: a new secret, pending until `confirmMfa`. Refused once enrolled (reset first). */
  async beginMfaEnrolment(userId: string): Promise<{ secret: string; uri: string }> {
    const r = await this.#mustId(userId);
    // A stolen session must not swap the factor: replacing one takes an admin's mfa-reset.
    if (r.mfa.secret !== undefined) throw new VigilError('ERR_CONFLICT', 'MFA is already enrolled; an administrator must reset it first');
    const secret = newTotpSecret();
    await this.#save({ ...r, mfa: { pending: secret } });
    return { secret, uri: totpUri(secret, r.username) };
  }

  /** Confirms enrolment with a first code from the app; with an address, a wrong code counts toward lockout. */
  async confirmMfa(userId: string, otp: string, address?: string): Promise<boolean> {
    const r = await this.#mustId(userId);
    const pending = r.mfa.pending;
    const step = pending === undefined || r.disabled ? undefined : acceptTotp(pending, otp, this.#now(), undefined);
    if (pending === undefined || step === undefined) {
      if (address !== undefined) await this.lockout.fail({ userId }, address);
      return false;
    }
    await this.#save({ ...r, mfa: { secret: pending, lastStep: step } });
    return true;
  }

  /** The TOTP step of sign-in: wrong, replayed or old codes answer `invalid` and count toward lockout. */
  async verifyOtp(userId: string, otp: string, address: string): Promise<SignInResult> {
    const r = await this.#byId(userId);
    if (r === undefined) return { ok: false, reason: 'invalid' };
    const status = await this.lockout.status({ userId }, address);
    if (status.locked) return { ok: false, reason: 'locked', retryAfterSeconds: status.retryAfterSeconds };
    const secret = r.mfa.secret;
    const step = secret === undefined || r.disabled ? undefined : acceptTotp(secret, otp, this.#now(), r.mfa.lastStep);
    if (secret === undefined || step === undefined) {
      await this.lockout.fail({ userId }, address);
      return { ok: false, reason: 'invalid' };
    }
    // The step is remembered before answering, so the same code cannot be used again.
    await this.#save({ ...r, mfa: { secret, lastStep: step } });
    await this.lockout.succeed(userId);
    return { ok: true, user: publicUser(r) };
  }
}
