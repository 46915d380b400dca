import { randomUUID } from 'node:crypto';
import type { OAuthClientRow, Store } from '../store/index.js';
import { hashSecret, newSecret, verifySecret } from './secrets.js';

export interface NewClient {
  readonly name: string;
  readonly scopes: string;
  readonly roles: readonly string[];
}

/** Registers a confidential client; the secret is returned once and only its hash is kept. */
export async function createClient(store: Store, client: NewClient, now: Date = new Date()): Promise<{ clientId: string; clientSecret: string }> {
  const clientId = randomUUID();
  const clientSecret = newSecret();
  await store.insertClient({
    clientId,
    secretHash: await hashSecret(clientSecret),
    name: client.name,
    scopes: client.scopes,
    roles: [...client.roles],
    disabled: false,
    createdAt: now.toISOString(),
  });
  return { clientId, clientSecret };
}

/** A hash of nothing, checked for unknown client ids so their answer takes as long as a wrong secret. */
let decoyHash: Promise<string> | undefined;

/** Returns the client when the id and secret match an enabled client; undefined otherwise. */
export async function authenticateClient(store: Store, clientId: string, secret: string): Promise<OAuthClientRow | undefined> {
  const client = await store.getClient(clientId);
  if (client === undefined) {
    decoyHash ??= hashSecret(newSecret());
    await verifySecret(secret, await decoyHash);
    return undefined;
  }
  const ok = await verifySecret(secret, client.secretHash);
  return ok && !client.disabled ? client : undefined;
}
