import { createHmac } from 'node:crypto';
import type { Keyring } from '../crypto/index.js';
import type { Store } from '../store/index.js';

/** One record read back: its key, value and expiry (ms since the epoch, or null). */
export interface SealedRecord<T> {
  readonly key: string;
  readonly value: T;
  readonly expiresAt: number | null;
}

/**
 * The auth module's records (users, sessions, codes, refresh tokens, lockouts), sealed under the
 * data keys with the kind and key as associated data. Someone who can write the database but
 * lacks the master key can neither read them nor move one into another's place: a record that
 * does not open is treated as absent. Keys made from names are keyed HMACs (see `keyFor`).
 */
export class SealedRecords {
  readonly #store: Store;
  readonly #keyring: Keyring;
  readonly #tenant: string;
  readonly #hmacKey: Buffer;
  readonly #now: () => Date;

  constructor(store: Store, keyring: Keyring, tenant: string, now: () => Date = () => new Date()) {
    this.#store = store;
    this.#keyring = keyring;
    this.#tenant = tenant;
    this.#hmacKey = keyring.derive(`auth-record-keys:${tenant}`);
    this.#now = now;
  }

  /** A record key for a natural key such as a user name: a keyed HMAC, so the name is not stored. */
  keyFor(kind: string, natural: string): string {
    return createHmac('sha256', this.#hmacKey).update(`${kind}\0${natural}`).digest('base64url');
  }

  #context(kind: string, key: string): Buffer {
    return Buffer.from(`vigil:auth:${this.#tenant}:${kind}:${key}`, 'utf8');
  }

  #seal(kind: string, key: string, value: unknown): Buffer {
    return this.#keyring.encrypt(Buffer.from(JSON.stringify(value), 'utf8'), this.#context(kind, key));
  }

  #open<T>(kind: string, row: { key: string; box: Uint8Array; expiresAt: number | null } | undefined): SealedRecord<T> | undefined {
    if (row === undefined) return undefined;
    if (row.expiresAt !== null && row.expiresAt <= this.#now().getTime()) return undefined;
    try {
      const value = JSON.parse(this.#keyring.decrypt(row.box, this.#context(kind, row.key)).toString('utf8')) as T;
      return { key: row.key, value, expiresAt: row.expiresAt };
    } catch {
      // Tampered, moved or sealed under a key this process does not hold: not a record.
      return undefined;
    }
  }

  async get<T>(kind: string, key: string): Promise<SealedRecord<T> | undefined> {
    return this.#open<T>(kind, await this.#store.getAuthRecord(kind, key));
  }

  /** Inserts or replaces. `expiresAt` is a time, or null for a record that does not expire. */
  async put(kind: string, key: string, value: unknown, expiresAt: Date | null = null): Promise<void> {
    await this.#store.putAuthRecord(kind, { key, box: this.#seal(kind, key, value), expiresAt: expiresAt?.getTime() ?? null });
  }

  /** Inserts only when the key is new (an expired record with the key is replaced); false if taken. */
  async insert(kind: string, key: string, value: unknown, expiresAt: Date | null = null): Promise<boolean> {
    const row = { key, box: this.#seal(kind, key, value), expiresAt: expiresAt?.getTime() ?? null };
    if (await this.#store.insertAuthRecord(kind, row)) return true;
    const existing = await this.#store.getAuthRecord(kind, key);
    if (existing?.expiresAt === null || existing === undefined || existing.expiresAt > this.#now().getTime()) return false;
    await this.#store.deleteAuthRecord(kind, key);
    return this.#store.insertAuthRecord(kind, row);
  }

  /** Removes and returns a record in one step (one-time codes). */
  async take<T>(kind: string, key: string): Promise<SealedRecord<T> | undefined> {
    return this.#open<T>(kind, await this.#store.takeAuthRecord(kind, key));
  }

  delete(kind: string, key: string): Promise<boolean> {
    return this.#store.deleteAuthRecord(kind, key);
  }

  /** Every live record of a kind that opens. */
  async list<T>(kind: string): Promise<SealedRecord<T>[]> {
    const out: SealedRecord<T>[] = [];
    for (const row of await this.#store.listAuthRecords(kind)) {
      const r = this.#open<T>(kind, row);
      if (r !== undefined) out.push(r);
    }
    return out;
  }

  /** Deletes expired records of every kind. */
  purge(): Promise<number> {
    return this.#store.purgeAuthRecords(this.#now().getTime());
  }
}
