import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyring } from '../crypto/index.js';
import { openStore, SQLITE_FILE, type Store } from '../store/index.js';
import { ClientRegistry, SealedRecords } from '../auth/index.js';

/** A store, keyring, sealed records and client registry on a temporary directory, without the HTTP app. */
export interface AuthFixture {
  readonly dir: string;
  /** The SQLite file, for tests that tamper with rows directly. */
  readonly dbPath: string;
  readonly store: Store;
  readonly keyring: Keyring;
  readonly records: SealedRecords;
  readonly clients: ClientRegistry;
  /** The fixture's clock: tests move it with `advance`. */
  now(): Date;
  advance(ms: number): void;
  close(): Promise<void>;
}

/** Opens a fresh fixture; its clock starts at 2025-01-01T00:00:00Z and moves only when told. */
export async function openAuthFixture(): Promise<AuthFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-auth-'));
  const store = openStore(dir);
  let t = Date.parse('2025-01-01T00:00:00Z');
  const now = (): Date => new Date(t);
  const keyring = await Keyring.open(Buffer.alloc(32, 0x5a), store, now);
  return {
    dir,
    dbPath: join(dir, SQLITE_FILE),
    store,
    keyring,
    records: new SealedRecords(store, keyring, 'default', now),
    clients: new ClientRegistry(store, keyring.derive('oauth-client-rows')),
    now,
    advance(ms: number) {
      t += ms;
    },
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
