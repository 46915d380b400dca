import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { VigilError } from '../errors.js';

/**
 * The sealed-box format of every ciphertext Vigil stores:
 *
 *   0x56 'V' | format 0x01 | key version (uint32, big-endian) | IV (12) | AES-256-GCM ciphertext | tag (16)
 *
 * The 6-byte header is part of the associated data, so the key version cannot be altered, and the
 * caller's context (tenant, type, id, version) is too, so a ciphertext moved to another row fails.
 */
const MAGIC = 0x56;
const FORMAT = 0x01;
export const HEADER_LENGTH = 6;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
export const ENVELOPE_OVERHEAD = HEADER_LENGTH + IV_LENGTH + TAG_LENGTH;

/** One generic failure for every way opening can fail: never say which byte or which key. */
function integrityError(cause?: unknown): VigilError {
  return new VigilError('ERR_INTEGRITY', 'Stored data failed an integrity check', { cause });
}

/** Encrypts `plaintext` under `key` (32 bytes), naming `keyVersion` in the header. */
export function seal(key: Buffer, keyVersion: number, plaintext: Uint8Array, context: Uint8Array): Buffer {
  const header = Buffer.allocUnsafe(HEADER_LENGTH);
  header[0] = MAGIC;
  header[1] = FORMAT;
  header.writeUInt32BE(keyVersion, 2);
  const iv = randomBytes(IV_LENGTH);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.concat([header, context]));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([header, iv, body, cipher.getAuthTag()]);
}

/** The key version named in a sealed box's header; throws ERR_INTEGRITY on a malformed header. */
export function keyVersionOf(box: Uint8Array): number {
  if (box.length < ENVELOPE_OVERHEAD || box[0] !== MAGIC || box[1] !== FORMAT) throw integrityError();
  return Buffer.from(box.buffer, box.byteOffset, box.byteLength).readUInt32BE(2);
}

/** Decrypts a sealed box; any tampering, wrong key or wrong context throws one generic ERR_INTEGRITY. */
export function open(key: Buffer, box: Uint8Array, context: Uint8Array): Buffer {
  keyVersionOf(box);
  const buf = Buffer.from(box.buffer, box.byteOffset, box.byteLength);
  try {
    const header = buf.subarray(0, HEADER_LENGTH);
    const iv = buf.subarray(HEADER_LENGTH, HEADER_LENGTH + IV_LENGTH);
    const tag = buf.subarray(buf.length - TAG_LENGTH);
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(Buffer.concat([header, context]));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(buf.subarray(HEADER_LENGTH + IV_LENGTH, buf.length - TAG_LENGTH)), decipher.final()]);
  } catch (err) {
    throw integrityError(err);
  }
}
