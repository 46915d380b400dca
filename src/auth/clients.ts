import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { OAuthClientRow, Store } from '../store/index.js';
import { hashSecret, newSecret, verifySecret } from './secrets.js';

export interface NewClient {
  readonly name: string;
  readonly scopes: string;
  readonly roles: readonly string[];
}

/** The canonical text a client row's MAC covers: every field that grants or limits access. */
function canonical(row: Omit<OAuthClientRow, 'rowMac'>): string {
  const fields = [row.clientId, row.secretHash, row.name, row.scopes, [...row.roles], row.disabled, row.createdAt];
  // Rows made before clients had settings keep their first MAC form.
  return JSON.stringify(row.settings === '{}' ? ['vigil:oauth-client:v1', ...fields] : ['vigil:oauth-client:v2', ...fields, row.settings]);
}

/**
 * The registered OAuth clients. Each row carries a MAC keyed from the master key, so someone
 * who can write the database but lacks the master key cannot add a client or widen one's scopes.
 */
export class ClientRegistry {
  readonly #store: Store;
  readonly #macKey: Buffer;
  #decoyHash: Promise<string> | undefined;

  constructor(store: Store, macKey: Buffer) {
    this.#store = store;
    this.#macKey = macKey;
  }

  #mac(row: Omit<OAuthClientRow, 'rowMac'>): string {
    return createHmac('sha256', this.#macKey).update(canonical(row)).digest('base64url');
  }

  /** Registers a confidential client; the secret is returned once and only its hash is kept. */
  async create(client: NewClient, now: Date = new Date()): Promise<{ clientId: string; clientSecret: string }> {
    const clientId = randomUUID();
    const clientSecret = newSecret();
    const row = {
      clientId,
      secretHash: await hashSecret(clientSecret),
      name: client.name,
      scopes: client.scopes,
      roles: [...client.roles],
      disabled: false,
      createdAt: now.toISOString(),
      settings: '{}',
    };
    await this.#store.insertClient({ ...row, rowMac: this.#mac(row) });
    return { clientId, clientSecret };
  }

  /** Returns the client when the id and secret match an enabled, untampered client; else undefined. */
  async authenticate(clientId: string, secret: string): Promise<OAuthClientRow | undefined> {
    const client = await this.#store.getClient(clientId);
    if (client === undefined) {
      // Unknown ids take as long as wrong secrets, so ids cannot be probed by timing.
      this.#decoyHash ??= hashSecret(newSecret());
      await verifySecret(secret, await this.#decoyHash);
      return undefined;
    }
    const ok = await verifySecret(secret, client.secretHash);
    const { rowMac, ...fields } = client;
    const expected = Buffer.from(this.#mac(fields));
    const given = Buffer.from(rowMac);
    const untampered = expected.length === given.length && timingSafeEqual(expected, given);
    return ok && untampered && !client.disabled ? client : undefined;
  }
}
