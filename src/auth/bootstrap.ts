import { writeFileSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../store/index.js';
import type { ClientRegistry } from './clients.js';

export const BOOTSTRAP_FILE = 'bootstrap-admin.json';

/**
 * On a new store, creates the first administrator client and writes its credentials once to
 * `<dataDir>/bootstrap-admin.json` (mode 0600). There is no default password anywhere: the secret
 * exists only in that file and, hashed, in the store. Returns the file's path when one was written.
 */
export async function ensureBootstrapAdmin(store: Store, clients: ClientRegistry, dataDir: string, tokenUrl: string): Promise<string | undefined> {
  if ((await store.countClients()) > 0) return undefined;
  const { clientId, clientSecret } = await clients.create({ name: 'bootstrap-admin', scopes: 'system/*.cruds', roles: ['security-admin'] });
  const path = join(dataDir, BOOTSTRAP_FILE);
  // A file left from an earlier store holds a secret that no longer works: replace it.
  if (existsSync(path)) rmSync(path);
  const body = { client_id: clientId, client_secret: clientSecret, token_url: tokenUrl, scope: 'system/*.cruds' };
  writeFileSync(path, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return path;
}
