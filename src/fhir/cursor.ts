import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { VigilError } from '../errors.js';

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const IV = 12;
const TAG = 16;
const CONTEXT = Buffer.from('vigil:cursor:v1');

/**
 * Opaque paging cursors: the payload (sequence numbers, types, ids, times; never health data) is
 * sealed with AES-256-GCM, so a client can hand a cursor back but can neither read nor edit it.
 */
export class CursorSigner {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    this.#key = key;
  }

  sign(value: Record<string, unknown>): string {
    const iv = randomBytes(IV);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(CONTEXT);
    const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
  }

  /** Returns the payload of a cursor this server made; anything else is ERR_BAD_REQUEST. */
  verify(cursor: string): Record<string, unknown> {
    const bad = new VigilError('ERR_BAD_REQUEST', 'The paging cursor is not valid');
    // Node's base64url decoder skips unknown characters; only the exact alphabet is accepted.
    if (!BASE64URL.test(cursor)) throw bad;
    const raw = Buffer.from(cursor, 'base64url');
    if (raw.length < IV + TAG + 2 || raw.toString('base64url') !== cursor) throw bad;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, IV));
      decipher.setAAD(CONTEXT);
      decipher.setAuthTag(raw.subarray(raw.length - TAG));
      const text = Buffer.concat([decipher.update(raw.subarray(IV, raw.length - TAG)), decipher.final()]).toString('utf8');
      const value: unknown = JSON.parse(text);
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad;
      return value as Record<string, unknown>;
    } catch {
      throw bad;
    }
  }
}
