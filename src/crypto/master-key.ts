import { randomBytes, hkdfSync } from 'node:crypto';
import { readFileSync, writeFileSync, existsSync, chmodSync, statSync } from 'node:fs';
import { VigilError } from '../errors.js';

export const MASTER_KEY_FILE = 'master.key';

/**
 * Returns the master key: the one given (from VIGIL_MASTER_KEY), else the key file at `path`,
 * created with mode 0600 when `create` is set and there is none. The master key never encrypts
 * data directly; it only derives the key-encryption and index keys below.
 */
export function loadOrCreateMasterKey(path: string, given: Buffer | undefined, create: boolean): Buffer {
  if (given !== undefined) return given;
  if (!existsSync(path)) {
    if (!create) throw new VigilError('ERR_KEY', 'The master key file is missing; set VIGIL_MASTER_KEY or VIGIL_MASTER_KEY_FILE');
    const key = randomBytes(32);
    writeFileSync(path, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    return key;
  }
  // A key file others can read is a key others may have: tighten it before use.
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new VigilError('ERR_KEY', `${MASTER_KEY_FILE} does not hold a 32-byte key`);
  return key;
}

/** Derives a 32-byte purpose-bound key from the master key (HKDF-SHA256). */
export function deriveKey(master: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.from('vigil/v1'), Buffer.from(purpose), 32));
}
