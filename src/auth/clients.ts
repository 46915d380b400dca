import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { VigilError } from '../errors.js';
import type { OAuthClientRow, Store } from '../store/index.js';
import { hashSecret, newSecret, verifySecret } from './secrets.js';
import { parseScope } from './scopes.js';
import { isRole } from './roles.js';
import { checkSettings, parseSettings, settingsJson, type GrantType } from './client-settings.js';

export interface NewClient {
  readonly name: string;
  readonly scopes: string;
  readonly roles: readonly string[];
  /** Default `['client_credentials']`. */
  readonly grants?: readonly GrantType[];
  readonly redirectUris?: readonly string[];
  /** A public client gets no secret (authorization code with PKCE only). */
  readonly public?: boolean;
  /** With a JWKS URL the client authenticates with `private_key_jwt` and gets no secret. */
  readonly jwksUrl?: string;
}

/** A client as the OAuth flows see it: enabled, untampered, with its settings parsed. */
export interface RegisteredClient {
  readonly clientId: string;
  readonly name: string;
  readonly scopes: string;
  readonly roles: readonly string[];
  readonly grants: readonly GrantType[];
  readonly redirectUris: readonly string[];
  readonly public: boolean;
  readonly jwksUrl?: string;
  readonly disabled: boolean;
}

/** A client as the admin sees it: also disabled or tampered ones. */
export interface ClientSummary extends RegisteredClient {
  readonly createdAt: string;
  /** How the client proves itself at the token endpoint. */
  readonly authMethod: 'client_secret' | 'private_key_jwt' | 'none';
  /** False when the row's MAC or settings do not check: the client is refused everywhere. */
  readonly intact: boolean;
}

/** The canonical text a client row's MAC covers: every field that grants or limits access. */
function canonical(row: Omit<OAuthClientRow, 'rowMac'>): string {
  const fields = [row.clientId, row.secretHash, row.name, row.scopes, [...row.roles], row.disabled, row.createdAt];
  // Rows made before clients had settings keep their first MAC form.
  return JSON.stringify(row.settings === '{}' ? ['vigil:oauth-client:v1', ...fields] : ['vigil:oauth-client:v2', ...fields, row.settings]);
}

/** Non-resource scopes a client may be allowed (OpenID Connect and SMART launch). */
const OTHER_SCOPE = /^(openid|fhirUser|profile|offline_access|online_access|launch|launch\/[a-z]{1,32})$/;

function checkNewClient(client: NewClient): void {
  if (typeof client.name !== 'string' || client.name.trim() === '' || client.name.length > 100 || /[\u0000-\u001f\u007f]/.test(client.name)) {
    throw new VigilError('ERR_BAD_REQUEST', 'The client name must be 1 to 100 printable characters');
  }
  const scopes = typeof client.scopes === 'string' ? client.scopes.split(' ') : [];
  if (scopes.length === 0 || scopes.length > 100 || scopes.some((s) => parseScope(s) === undefined && !OTHER_SCOPE.test(s))) {
    throw new VigilError('ERR_BAD_REQUEST', 'The scopes must be SMART scopes separated by single spaces');
  }
  if (!Array.isArray(client.roles) || !client.roles.every(isRole)) throw new VigilError('ERR_BAD_REQUEST', 'Unknown role (see GET /admin/roles)');
}

/**
 * The registered OAuth clients. Each row carries a MAC keyed from the master key, so someone
 * who can write the database but lacks the master key cannot add a client or widen one's scopes.
 */
/** How long a client's disabled state is remembered between reads. */
const DISABLED_CACHE_MS = 1000;

export class ClientRegistry {
  readonly #disabledCache = new Map<string, { at: number; disabled: boolean }>();
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

  #intact(row: OAuthClientRow): boolean {
    const { rowMac, ...fields } = row;
    const expected = Buffer.from(this.#mac(fields));
    const given = Buffer.from(rowMac);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  /**
   * Registers a client. A confidential client gets a secret, returned once (only its hash is
   * kept); a public client or one with a JWKS URL gets none.
   *
   * @example
   * const { clientId, clientSecret } = await clients.create({ name: 'lab feed', scopes: 'system/Observation.c', roles: [] });
   */
  create(client: NewClient & { public?: false; jwksUrl?: undefined }, now?: Date): Promise<{ clientId: string; clientSecret: string }>;
  create(client: NewClient, now?: Date): Promise<{ clientId: string; clientSecret?: string }>;
  async create(client: NewClient, now: Date = new Date()): Promise<{ clientId: string; clientSecret?: string }> {
    checkNewClient(client);
    const settings = checkSettings(client);
    const clientId = randomUUID();
    const clientSecret = settings.public || settings.jwksUrl !== undefined ? undefined : newSecret();
    const row = {
      clientId,
      // No secret: an empty hash, which verifySecret never matches.
      secretHash: clientSecret === undefined ? '' : await hashSecret(clientSecret),
      name: client.name,
      scopes: client.scopes,
      roles: [...client.roles],
      disabled: false,
      createdAt: now.toISOString(),
      settings: settingsJson(settings),
    };
    await this.#store.insertClient({ ...row, rowMac: this.#mac(row) });
    return clientSecret === undefined ? { clientId } : { clientId, clientSecret };
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
    return ok && this.#intact(client) && !client.disabled ? client : undefined;
  }

  #summary(row: OAuthClientRow): ClientSummary | undefined {
    const settings = parseSettings(row.settings);
    if (settings === undefined) return undefined;
    const authMethod = settings.public ? 'none' : row.secretHash === '' ? 'private_key_jwt' : 'client_secret';
    const base = { clientId: row.clientId, name: row.name, scopes: row.scopes, roles: [...row.roles], grants: settings.grants, redirectUris: settings.redirectUris, public: settings.public, disabled: row.disabled };
    return { ...base, ...(settings.jwksUrl === undefined ? {} : { jwksUrl: settings.jwksUrl }), createdAt: row.createdAt, authMethod, intact: this.#intact(row) };
  }

  /** The client with this id, or undefined when it is unknown, disabled or its row fails its MAC. */
  async lookup(clientId: string): Promise<RegisteredClient | undefined> {
    if (typeof clientId !== 'string' || clientId.length === 0 || clientId.length > 128) return undefined;
    const row = await this.#store.getClient(clientId);
    if (row === undefined || row.disabled || !this.#intact(row)) return undefined;
    const s = this.#summary(row);
    if (s === undefined) return undefined;
    const { createdAt: _c, authMethod: _a, intact: _i, ...client } = s;
    return client;
  }

  /**
   * Whether a registered client has been disabled (or its row no longer passes its MAC): its
   * tokens stop at once. An id with no row (a token minted in process, as tests do) is not.
   */
  async isDisabled(clientId: string): Promise<boolean> {
    // Asked on every request: a second's memory (cleared by this process's own changes) saves a
    // read and a MAC each time; another process's change is seen within that second.
    const t = Date.now();
    const hit = this.#disabledCache.get(clientId);
    if (hit !== undefined && t - hit.at < DISABLED_CACHE_MS) return hit.disabled;
    const row = await this.#store.getClient(clientId);
    const disabled = row !== undefined && (row.disabled || !this.#intact(row));
    if (this.#disabledCache.size > 10_000) this.#disabledCache.clear();
    this.#disabledCache.set(clientId, { at: t, disabled });
    return disabled;
  }

  /** Every client, disabled and tampered ones included (flagged), for the admin. */
  async list(): Promise<ClientSummary[]> {
    const rows = await this.#store.listClients();
    return rows.map((row) => this.#summary(row) ?? { clientId: row.clientId, name: row.name, scopes: '', roles: [], grants: [], redirectUris: [], public: false, disabled: true, createdAt: row.createdAt, authMethod: 'none' as const, intact: false });
  }

  async disable(clientId: string): Promise<void> {
    await this.#setDisabled(clientId, true);
  }

  async enable(clientId: string): Promise<void> {
    await this.#setDisabled(clientId, false);
  }

  async #setDisabled(clientId: string, disabled: boolean): Promise<void> {
    const row = typeof clientId === 'string' && clientId.length <= 128 ? await this.#store.getClient(clientId) : undefined;
    if (row === undefined) throw new VigilError('ERR_NOT_FOUND', 'No such client');
    // Re-MACing a tampered row would launder the tampering: refuse it.
    if (!this.#intact(row)) throw new VigilError('ERR_INTEGRITY', 'The client record failed its integrity check');
    const { rowMac: _old, ...fields } = row;
    const next = { ...fields, roles: [...fields.roles], disabled };
    await this.#store.updateClient({ ...next, rowMac: this.#mac(next) });
    // After the write: a read racing it must not keep the old state for a second.
    this.#disabledCache.delete(clientId);
  }
}
