import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { VigilError } from '../errors.js';
import { deriveKey } from '../crypto/index.js';
import { canonicalJson } from './format.js';

/**
 * The key backup: the master key sealed under a recovery secret, kept apart from the data
 * backups (which hold no key a thief could use). The secret is either a passphrase, stretched with
 * scrypt, or a recovery key file of 32 random bytes. AES-256-GCM seals the key; the format, the KDF
 * and its parameters are the associated data, so none of them can be changed unnoticed.
 *
 *   { "format": "vigil-key-backup/v1", "kdf": { "name": "scrypt", "N", "r", "p", "salt" } | { "name": "recovery-key" },
 *     "keyId": "<first 8 bytes of the master key's HKDF id, hex>", "iv", "sealed" }
 */
export const KEY_BACKUP_FORMAT = 'vigil-key-backup/v1';
const SCRYPT = { N: 1 << 17, r: 8, p: 1 } as const;
const MIN_PASSPHRASE = 12;

export type RecoverySecret = { readonly passphrase: string } | { readonly recoveryKey: Buffer };

interface KeyBackupFile {
  readonly format: string;
  readonly kdf: { readonly name: 'scrypt'; readonly N: number; readonly r: number; readonly p: number; readonly salt: string } | { readonly name: 'recovery-key' };
  readonly keyId: string;
  readonly iv: string;
  readonly sealed: string;
}

function failure(cause?: unknown): VigilError {
  // One message for a wrong secret and a damaged file alike: say nothing about which.
  return new VigilError('ERR_BACKUP', 'The key backup does not open with this passphrase or recovery key', { cause });
}

function wrappingKey(secret: RecoverySecret, kdf: KeyBackupFile['kdf']): Buffer {
  if ('recoveryKey' in secret) {
    if (kdf.name !== 'recovery-key' || secret.recoveryKey.length !== 32) throw failure();
    return secret.recoveryKey;
  }
  if (kdf.name !== 'scrypt' || kdf.N > 1 << 20 || kdf.r > 32 || kdf.p > 16) throw failure();
  return scryptSync(secret.passphrase.normalize('NFC'), Buffer.from(kdf.salt, 'base64'), 32, { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: 128 * kdf.N * kdf.r + 1024 * 1024 });
}

function aad(file: Omit<KeyBackupFile, 'iv' | 'sealed'>): Buffer {
  return Buffer.from(canonicalJson({ format: file.format, kdf: file.kdf, keyId: file.keyId }));
}

/** Seals the master key under a passphrase (at least 12 characters) or a 32-byte recovery key. */
export function exportKeyBackup(master: Buffer, keyId: string, secret: RecoverySecret): string {
  if ('passphrase' in secret && [...secret.passphrase].length < MIN_PASSPHRASE) throw new VigilError('ERR_CONFIG', `The recovery passphrase must have at least ${MIN_PASSPHRASE} characters`);
  const kdf: KeyBackupFile['kdf'] = 'passphrase' in secret ? { name: 'scrypt', ...SCRYPT, salt: randomBytes(16).toString('base64') } : { name: 'recovery-key' };
  const head = { format: KEY_BACKUP_FORMAT, kdf, keyId };
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', wrappingKey(secret, kdf), iv);
  cipher.setAAD(aad(head));
  const sealed = Buffer.concat([cipher.update(master), cipher.final(), cipher.getAuthTag()]);
  return `${JSON.stringify({ ...head, iv: iv.toString('base64'), sealed: sealed.toString('base64') }, null, 2)}\n`;
}

/** Opens a key backup; returns the master key and the key id it names. */
export function importKeyBackup(text: string, secret: RecoverySecret): { master: Buffer; keyId: string } {
  let file: KeyBackupFile;
  try {
    file = JSON.parse(text) as KeyBackupFile;
    if (file.format !== KEY_BACKUP_FORMAT || typeof file.iv !== 'string' || typeof file.sealed !== 'string') throw new Error('format');
  } catch (err) {
    throw failure(err);
  }
  try {
    const sealed = Buffer.from(file.sealed, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', wrappingKey(secret, file.kdf), Buffer.from(file.iv, 'base64'));
    decipher.setAAD(aad(file));
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    const master = Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]);
    if (master.length !== 32) throw new Error('length');
    return { master, keyId: file.keyId };
  } catch (err) {
    throw failure(err);
  }
}

/** A public fingerprint of a master key (HKDF, first 8 bytes): names it in a key backup without revealing it. */
export function masterKeyId(master: Buffer): string {
  return deriveKey(master, 'master-key-id').subarray(0, 8).toString('hex');
}
