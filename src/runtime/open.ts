import { mkdirSync, chmodSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { VigilError } from '../errors.js';
import type { Config } from '../config/index.js';
import { Keyring, loadOrCreateMasterKey } from '../crypto/index.js';
import { openStore, SQLITE_FILE, type Store, type WriteGate } from '../store/index.js';
import { CursorSigner, Repository, loadDefinitions } from '../fhir/index.js';
import { ClientRegistry, SealedRecords, SigningKeys, TokenService, ensureBootstrapAdmin } from '../auth/index.js';
import { openOAuthState, revocationCheck, type OAuthState, type SessionStore } from '../auth/index.js';
import { UserDirectory } from '../auth/users.js';
import { AccessPolicy } from '../policy/index.js';
import { Detection } from '../detect/index.js';
import { TransparencyLog, logKeys, logOrigin } from '../audit/log.js';

/** Everything a running Vigil (server or CLI command) works with, opened on one data directory. */
export interface Vigil {
  readonly config: Config;
  readonly store: Store;
  readonly keyring: Keyring;
  readonly repository: Repository;
  /** The access decision: roles, scopes, care relationships, Consent, labels, break-the-glass. */
  readonly policy: AccessPolicy;
  /** Detection: the server mode, alerts and the streaming engine (started by the server). */
  readonly detection: Detection;
  readonly signingKeys: SigningKeys;
  readonly clients: ClientRegistry;
  readonly tokens: TokenService;
  /** Sealed records of the auth module: users, sessions, codes, refresh tokens, lockouts. */
  readonly records: SealedRecords;
  /** Users, passwords, TOTP and sign-in lockout (auth/users.ts). */
  readonly users: UserDirectory;
  /** Sign-in sessions (idle logoff, absolute lifetime, logout). */
  readonly sessions: SessionStore;
  /** Codes, refresh tokens, revoked tokens and client assertions of the OAuth flows. */
  readonly oauth: OAuthState;
  readonly cursors: CursorSigner;
  /** The tamper-evident log over every version, audit entry and rewrap. */
  readonly log: TransparencyLog;
  /** Path of the bootstrap admin file when this open created it. */
  readonly bootstrapFile: string | undefined;
  /** Reloads keys added by other processes (`vigil keys rotate`). */
  refreshKeys(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenOptions {
  readonly now?: () => Date;
  /**
   * Create what is missing: data directory, master key, store and the bootstrap admin client
   * (the server does). Other commands refuse a directory that holds no store, so a mistyped
   * `--data` does not quietly make a new one.
   */
  readonly create?: boolean;
  /** Shared with other threads of this process that write the same store (see WriteGate). */
  readonly writeGate?: WriteGate;
  /** A bulk loader's store (see StoreOptions.bulk). */
  readonly bulk?: boolean;
  /** Told when a remote witness could not be reached. */
  readonly onWitnessError?: (err: unknown) => void;
}

/** Creates the data directory (mode 0700) if needed and returns its path. */
function prepareDataDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if ((statSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

/** Opens a data directory: master key, store, keyring, signing keys, and (for the server) the first admin. */
export async function openVigil(config: Config, options: OpenOptions = {}): Promise<Vigil> {
  // Files this process creates (database, WAL, keys) are readable by its user alone.
  // (A worker thread shares its process's umask and may not change it.)
  if (isMainThread) process.umask(0o077);
  const create = options.create === true;
  if (!create && !existsSync(join(config.dataDir, SQLITE_FILE))) {
    throw new VigilError('ERR_CONFIG', `No Vigil data directory at ${config.dataDir} (start the server once with \`vigil serve\` to create one)`);
  }
  prepareDataDir(config.dataDir);
  // The server loads the R4 definitions up front (its first request should not wait); other
  // commands load them when they first validate or search.
  if (create) loadDefinitions();
  const master = loadOrCreateMasterKey(config.masterKeyFile, config.masterKey, create);
  const store = openStore(config.dataDir, { ...(options.writeGate === undefined ? {} : { writeGate: options.writeGate }), bulk: options.bulk === true, cacheMb: config.sqliteCacheMb });
  try {
    const now = options.now ?? (() => new Date());
    const keyring = await Keyring.open(master, store, now);
    const signingKeys = new SigningKeys(store, keyring);
    await signingKeys.load();
    const tokens = new TokenService({
      keys: signingKeys,
      issuer: config.publicUrl,
      audience: config.fhirBaseUrl,
      ttlSeconds: config.tokenTtlSeconds,
      now,
    });
    const tokenUrl = `${config.publicUrl}/oauth2/token`;
    const clients = new ClientRegistry(store, keyring.derive('oauth-client-rows'));
    const origin = logOrigin(keyring.derive('log-origin'), config.tenant);
    const bootstrapFile = create ? await ensureBootstrapAdmin(store, clients, config.dataDir, tokenUrl) : undefined;
    const records = new SealedRecords(store, keyring, config.tenant, now);
    const oauth = openOAuthState({ records, sessionIdleSeconds: config.sessionIdleSeconds, sessionMaxSeconds: config.sessionMaxSeconds, tokenUrl, now });
    const repository = new Repository({ store, keyring, tenant: config.tenant, fhirBaseUrl: config.fhirBaseUrl, now });
    const users = new UserDirectory(records, { now });
    const policy = new AccessPolicy({
      repository,
      records,
      users,
      fhirBaseUrl: config.fhirBaseUrl,
      breakGlassSeconds: config.breakGlassSeconds,
      sameOrganizationAccess: config.sameOrganizationAccess,
      now,
    });
    const vigil: Vigil = {
      config,
      store,
      keyring,
      repository,
      policy,
      detection: new Detection({ config, store, records, repository, policy, users, sessions: oauth.sessions, clients, now }),
      signingKeys,
      clients,
      tokens,
      records,
      users,
      sessions: oauth.sessions,
      oauth,
      cursors: new CursorSigner(keyring.derive(`cursor:${config.tenant}`)),
      log: new TransparencyLog({
        store,
        origin,
        ...logKeys(keyring.derive(`log-signing:${config.tenant}`), origin),
        ...(config.witnessFile === undefined ? {} : { witnessFile: config.witnessFile }),
        ...(config.witnessUrl === undefined ? {} : { witnessUrl: config.witnessUrl }),
        ...(config.witnessSyslog === undefined ? {} : { witnessSyslog: config.witnessSyslog }),
        ...(options.onWitnessError === undefined ? {} : { onWitnessError: options.onWitnessError }),
        now,
      }),
      bootstrapFile,
      async refreshKeys() {
        await keyring.refresh();
        await signingKeys.load();
        tokens.reloadKeys();
      },
      close: () => store.close(),
    };
    // Every verified token is checked against its session, its user and the revoked list.
    tokens.setRevocationCheck(revocationCheck(oauth.revoked, oauth.sessions, vigil.users, clients));
    return vigil;
  } catch (err) {
    await store.close();
    throw err;
  }
}
