import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { VigilError } from '../errors.js';
import { decodeBase64Strict, isKeyName } from './strict-text.js';

/**
 * Ed25519 keys for C2SP signed notes: the 4-byte key ID that names a key in a signature line, and
 * the verifier key string that auditors configure, `<name>+<hex key ID>+<base64(0x01 || key)>`.
 */

/** The signature type byte of Ed25519 in the signed-note registry. */
export const ED25519_SIGNATURE_TYPE = 0x01;

const ED25519_KEY_SIZE = 32;

/** A key that can check note signatures. */
export interface NoteVerifier {
  readonly name: string;
  /** The 4-byte key ID, big-endian, as it prefixes each signature. */
  readonly keyId: Buffer;
  readonly publicKey: KeyObject;
}

/** A key that can sign notes. */
export interface NoteSigner {
  readonly name: string;
  readonly keyId: Buffer;
  readonly privateKey: KeyObject;
}

function keyError(): VigilError {
  return new VigilError('ERR_KEY', 'The note key is malformed');
}

function rawPublicKey(key: KeyObject): Buffer {
  if (key.asymmetricKeyType !== 'ed25519') throw keyError();
  const x = key.export({ format: 'jwk' }).x;
  const raw = typeof x === 'string' ? Buffer.from(x, 'base64url') : undefined;
  if (raw?.length !== ED25519_KEY_SIZE) throw keyError();
  return raw;
}

/**
 * The key ID of an Ed25519 note key: the first 4 bytes of SHA-256(name || 0x0A || 0x01 || key),
 * so the same key under another name, or another algorithm, gets another ID.
 */
export function ed25519KeyId(name: string, publicKey: Uint8Array): Buffer {
  if (!isKeyName(name) || publicKey.length !== ED25519_KEY_SIZE) throw keyError();
  const digest = createHash('sha256').update(name, 'utf8').update(Buffer.of(0x0a, ED25519_SIGNATURE_TYPE)).update(publicKey).digest();
  return digest.subarray(0, 4);
}

/** A note signer for an Ed25519 private key under a key name (for Vigil, usually the log origin). */
export function noteSigner(name: string, privateKey: KeyObject): NoteSigner {
  if (privateKey.type !== 'private') throw keyError();
  const keyId = ed25519KeyId(name, rawPublicKey(createPublicKey(privateKey)));
  return { name, keyId, privateKey };
}

/** A note verifier for an Ed25519 public key under a key name. */
export function noteVerifier(name: string, publicKey: KeyObject): NoteVerifier {
  if (publicKey.type !== 'public') throw keyError();
  return { name, keyId: ed25519KeyId(name, rawPublicKey(publicKey)), publicKey };
}

/**
 * The verifier key string of a verifier, as the Go sumdb/note tools and C2SP witnesses read it.
 *
 * @example
 * verifierKeyString(noteVerifier('vigil.example/acme', publicKey)); // 'vigil.example/acme+1a2b3c4d+AUx...'
 */
export function verifierKeyString(verifier: NoteVerifier): string {
  const material = Buffer.concat([Buffer.of(ED25519_SIGNATURE_TYPE), rawPublicKey(verifier.publicKey)]);
  return `${verifier.name}+${verifier.keyId.toString('hex')}+${material.toString('base64')}`;
}

/**
 * Parses a verifier key string. Refuses any other algorithm, a key ID that does not match the name
 * and key, a key of the wrong length and any non-canonical spelling.
 */
export function parseVerifierKey(text: string): NoteVerifier {
  const first = text.indexOf('+');
  const second = first < 0 ? -1 : text.indexOf('+', first + 1);
  if (second < 0) throw keyError();
  const name = text.slice(0, first);
  const idHex = text.slice(first + 1, second);
  const material = decodeBase64Strict(text.slice(second + 1));
  if (!isKeyName(name) || !/^[0-9a-f]{8}$/.test(idHex) || material === undefined) throw keyError();
  if (material.length !== 1 + ED25519_KEY_SIZE || material[0] !== ED25519_SIGNATURE_TYPE) throw keyError();
  const raw = material.subarray(1);
  const keyId = ed25519KeyId(name, raw);
  if (keyId.toString('hex') !== idHex) throw keyError();
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
  return { name, keyId, publicKey };
}
