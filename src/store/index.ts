import { join } from 'node:path';
import { SqliteStore } from './sqlite/sqlite-store.js';
import { openSqliteReader } from './sqlite/reader.js';
import type { Store, StoreOptions, StoreReader, StoreReaderSpec } from './types.js';

export type * from './types.js';
export { SqliteStore } from './sqlite/sqlite-store.js';

/** The SQLite database file inside a data directory. */
export const SQLITE_FILE = 'vigil.db';

/** Opens the store of a data directory (embedded SQLite). */
export function openStore(dataDir: string, options: StoreOptions = {}): Store {
  return new SqliteStore(join(dataDir, SQLITE_FILE), options);
}

/** Opens a read-only view of a store in a read transaction of its own (in a worker thread). */
export function openStoreReader(spec: StoreReaderSpec): StoreReader {
  return openSqliteReader(spec.path);
}
