import { mkdirSync, chmodSync, statSync } from 'node:fs';
import type { Config } from '../config/index.js';
import { Keyring, loadOrCreateMasterKey } from '../crypto/index.js';
import { openStore, type Store } from '../store/index.js';
import { CursorSigner, Repository, loadDefinitions } from '../fhir/index.js';
import { SigningKeys, TokenService, ensureBootstrapAdmin } from '../auth/index.js';

/** Everything a running Vigil (server or CLI command) works with, opened on one data directory. */
export interface Vigil {
  readonly config: Config;
  readonly store: Store;
  readonly keyring: Keyring;
  readonly repository: Repository;
  readonly signingKeys: SigningKeys;
  readonly tokens: TokenService;
  readonly cursors: CursorSigner;
  /** Path of the bootstrap admin file when this open created it. */
  readonly bootstrapFile: string | undefined;
  /** Reloads keys added by other processes (`vigil keys rotate`). */
  refreshKeys(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenOptions {
  readonly now?: () => Date;
  /** Create the bootstrap admin client on a new store (the server does; other commands need not). */
  readonly bootstrap?: boolean;
}

/** Creates the data directory (mode 0700) if needed and returns its path. */
function prepareDataDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if ((statSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

/** Opens a data directory: master key, store, keyring, signing keys, and (for the server) the first admin. */
export async function openVigil(config: Config, options: OpenOptions = {}): Promise<Vigil> {
  // Files this process creates (database, WAL, keys) are readable by its user alone.
  process.umask(0o077);
  prepareDataDir(config.dataDir);
  loadDefinitions();
  const master = loadOrCreateMasterKey(config.dataDir, config.masterKey);
  const store = openStore(config.dataDir);
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
    const bootstrapFile = options.bootstrap === true ? await ensureBootstrapAdmin(store, config.dataDir, tokenUrl) : undefined;
    return {
      config,
      store,
      keyring,
      repository: new Repository({ store, keyring, tenant: config.tenant, now }),
      signingKeys,
      tokens,
      cursors: new CursorSigner(keyring.derive(`cursor:${config.tenant}`)),
      bootstrapFile,
      async refreshKeys() {
        await keyring.refresh();
        await signingKeys.load();
        tokens.reloadKeys();
      },
      close: () => store.close(),
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}
