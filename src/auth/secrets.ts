import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/** scrypt parameters (N=2^15, r=8, p=1: about 32 MiB and tens of milliseconds per check). */
const N = 32768;
const R = 8;
const P = 1;
const KEYLEN = 32;
const MAXMEM = 64 * 1024 * 1024;

function derive(secret: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, KEYLEN, { N: n, r, p, maxmem: MAXMEM }, (err, key) => (err === null ? resolve(key) : reject(err)));
  });
}

/** Hashes a secret for storage: `scrypt$N$r$p$salt$hash` (base64url). Only the hash is ever stored. */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await derive(secret, salt, N, R, P);
  return ['scrypt', N, R, P, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

/** Checks a secret against a stored hash in constant time; a malformed hash never matches. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  const [alg, n, r, p, salt, hash] = parts;
  if (parts.length !== 6 || alg !== 'scrypt' || salt === undefined || hash === undefined) return false;
  // Only the parameters this code writes are accepted: a row edited to weaken or break them never matches.
  if (n !== String(N) || r !== String(R) || p !== String(P)) return false;
  const expected = Buffer.from(hash, 'base64url');
  if (expected.length !== KEYLEN) return false;
  try {
    const actual = await derive(secret, Buffer.from(salt, 'base64url'), N, R, P);
    return timingSafeEqual(expected, actual);
  } catch {
    return false;
  }
}

/** A random secret for a machine client: 32 bytes, base64url. */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}
