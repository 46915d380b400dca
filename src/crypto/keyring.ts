import { randomBytes } from 'node:crypto';
import { VigilError } from '../errors.js';
import { deriveKey } from './master-key.js';
import { keyVersionOf, open, seal } from './envelope.js';

/** A data key as persisted: wrapped (sealed) under the key-encryption key. */
export interface WrappedDataKey {
  readonly version: number;
  readonly wrapped: Uint8Array;
  readonly createdAt: string;
}

/** Where wrapped data keys live; the store implements it. */
export interface DataKeyStore {
  listDataKeys(): Promise<WrappedDataKey[]>;
  /** Adds the next version (max + 1) atomically and returns it; `wrap` seals the key for that version. */
  addDataKey(wrap: (version: number) => Uint8Array, createdAt: string): Promise<number>;
}

/** Version 0 in a header means "sealed by the key-encryption key", never by a data key. */
const KEK_VERSION = 0;

function dataKeyContext(version: number): Buffer {
  return Buffer.from(`vigil:data-key:${version}`);
}

/**
 * The keyring: the key-encryption key (derived from the master key) unwraps the data keys; the
 * newest data key seals new writes, and every older one stays readable until `keys rewrap`.
 */
export class Keyring {
  readonly #kek: Buffer;
  readonly #master: Buffer;
  readonly #store: DataKeyStore;
  readonly #keys = new Map<number, Buffer>();
  #current = 0;

  private constructor(master: Buffer, store: DataKeyStore) {
    this.#master = master;
    this.#kek = deriveKey(master, 'key-encryption');
    this.#store = store;
  }

  /** Opens the keyring, creating data key version 1 on a new store. A wrong master key fails here. */
  static async open(master: Buffer, store: DataKeyStore, now: () => Date = () => new Date()): Promise<Keyring> {
    const ring = new Keyring(master, store);
    await ring.refresh();
    if (ring.#current === 0) await ring.rotate(now);
    return ring;
  }

  /** Loads data keys added by another process (e.g. `vigil keys rotate` while the server runs). */
  async refresh(): Promise<void> {
    for (const row of await this.#store.listDataKeys()) {
      if (!this.#keys.has(row.version)) {
        let key: Buffer;
        try {
          key = open(this.#kek, row.wrapped, dataKeyContext(row.version));
        } catch (err) {
          throw new VigilError('ERR_KEY', 'The master key does not open the data keys of this data directory', { cause: err });
        }
        this.#keys.set(row.version, key);
      }
      if (row.version > this.#current) this.#current = row.version;
    }
  }

  /** Adds a new data key version; new writes use it, older versions stay readable. */
  async rotate(now: () => Date = () => new Date()): Promise<number> {
    const key = randomBytes(32);
    const version = await this.#store.addDataKey((v) => seal(this.#kek, KEK_VERSION, key, dataKeyContext(v)), now().toISOString());
    this.#keys.set(version, key);
    if (version > this.#current) this.#current = version;
    return version;
  }

  get currentVersion(): number {
    return this.#current;
  }

  get versions(): number[] {
    return [...this.#keys.keys()].sort((a, b) => a - b);
  }

  has(version: number): boolean {
    return this.#keys.has(version);
  }

  /** Seals `plaintext` under the newest data key, bound to `context`. */
  encrypt(plaintext: Uint8Array, context: Uint8Array): Buffer {
    const key = this.#keys.get(this.#current);
    if (key === undefined) throw new VigilError('ERR_KEY', 'No data key is loaded');
    return seal(key, this.#current, plaintext, context);
  }

  /** Opens a sealed box with the data key its header names. Call `refresh()` first for unknown versions. */
  decrypt(box: Uint8Array, context: Uint8Array): Buffer {
    const key = this.#keys.get(keyVersionOf(box));
    // An unknown version reads as tampering to the caller: one generic error, no key detail.
    if (key === undefined) throw new VigilError('ERR_INTEGRITY', 'Stored data failed an integrity check');
    return open(key, box, context);
  }

  /** Seals a secret of the server itself (e.g. a token signing key) under the key-encryption key. */
  wrapSecret(purpose: string, secret: Uint8Array): Buffer {
    return seal(this.#kek, KEK_VERSION, secret, Buffer.from(`vigil:secret:${purpose}`));
  }

  unwrapSecret(purpose: string, box: Uint8Array): Buffer {
    return open(this.#kek, box, Buffer.from(`vigil:secret:${purpose}`));
  }

  /** A purpose-bound key derived from the master key (blind indexes, signed cursors). */
  derive(purpose: string): Buffer {
    return deriveKey(this.#master, purpose);
  }
}

/** Associated data binding a resource version's ciphertext to its row. */
export function resourceContext(tenant: string, type: string, id: string, versionId: number): Buffer {
  return Buffer.from(`vigil:resource:v1\u0000${tenant}\u0000${type}\u0000${id}\u0000${versionId}`);
}
