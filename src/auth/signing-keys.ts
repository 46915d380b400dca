import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK, type KeyObject } from 'jose';
import type { Keyring } from '../crypto/index.js';
import type { Store } from '../store/index.js';

export const SIGNING_ALG = 'EdDSA';

interface LoadedKey {
  readonly kid: string;
  readonly publicJwk: JWK;
  readonly privateKey: CryptoKey | KeyObject | Uint8Array;
}

/**
 * The token signing keys (Ed25519). Private keys are stored sealed under the key-encryption key;
 * the newest signs, and every key stays published in the JWKS so tokens it signed still verify.
 */
export class SigningKeys {
  readonly #store: Store;
  readonly #keyring: Keyring;
  #keys: LoadedKey[] = [];

  constructor(store: Store, keyring: Keyring) {
    this.#store = store;
    this.#keyring = keyring;
  }

  /** Loads the keys, creating the first one on a new store. */
  async load(): Promise<void> {
    const rows = await this.#store.listSigningKeys();
    const keys: LoadedKey[] = [];
    for (const row of rows) {
      const known = this.#keys.find((k) => k.kid === row.kid);
      if (known !== undefined) {
        keys.push(known);
        continue;
      }
      const privateJwk = JSON.parse(this.#keyring.unwrapSecret(`signing-key:${row.kid}`, row.privateBox).toString('utf8')) as JWK;
      // The public key is taken from the sealed private key, never from the stored public JWK:
      // a database writer could swap that one for a key of their own and mint tokens.
      const { crv, kty, x } = privateJwk;
      const publicJwk: JWK = { crv, kty, x, kid: row.kid, alg: SIGNING_ALG, use: 'sig' };
      keys.push({ kid: row.kid, publicJwk, privateKey: await importJWK(privateJwk, SIGNING_ALG) });
    }
    this.#keys = keys;
    if (keys.length === 0) await this.rotate();
  }

  /** Adds a new signing key; it signs from now on. */
  async rotate(now: Date = new Date()): Promise<string> {
    const kid = randomUUID();
    const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALG, { crv: 'Ed25519', extractable: true });
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: SIGNING_ALG, use: 'sig' };
    const privateJwk = await exportJWK(privateKey);
    await this.#store.insertSigningKey({
      kid,
      alg: SIGNING_ALG,
      publicJwk: JSON.stringify(publicJwk),
      privateBox: this.#keyring.wrapSecret(`signing-key:${kid}`, Buffer.from(JSON.stringify(privateJwk))),
      createdAt: now.toISOString(),
    });
    this.#keys = [...this.#keys, { kid, publicJwk, privateKey }];
    return kid;
  }

  /** The key that signs new tokens: the newest. */
  get current(): LoadedKey {
    const key = this.#keys[this.#keys.length - 1];
    if (key === undefined) throw new Error('signing keys not loaded');
    return key;
  }

  has(kid: string): boolean {
    return this.#keys.some((k) => k.kid === kid);
  }

  /** The public JWK Set, for `/.well-known/jwks.json`. */
  jwks(): { keys: JWK[] } {
    return { keys: this.#keys.map((k) => k.publicJwk) };
  }
}
