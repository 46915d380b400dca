import { createHmac, timingSafeEqual } from 'node:crypto';
import { VigilError } from '../errors.js';

/**
 * Opaque, signed paging cursors: a client can hand one back but not edit it to reach other
 * results. The payload is JSON (no health data: only sequence numbers, types, ids and times).
 */
export class CursorSigner {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    this.#key = key;
  }

  #mac(payload: string): Buffer {
    return createHmac('sha256', this.#key).update(payload).digest().subarray(0, 16);
  }

  sign(value: Record<string, unknown>): string {
    const payload = Buffer.from(JSON.stringify(value)).toString('base64url');
    return `${payload}.${this.#mac(payload).toString('base64url')}`;
  }

  /** Returns the payload of a cursor this server signed; anything else is ERR_BAD_REQUEST. */
  verify(cursor: string): Record<string, unknown> {
    const [payload, mac, extra] = cursor.split('.');
    const bad = new VigilError('ERR_BAD_REQUEST', 'The paging cursor is not valid');
    if (payload === undefined || mac === undefined || extra !== undefined) throw bad;
    const given = Buffer.from(mac, 'base64url');
    const expected = this.#mac(payload);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw bad;
    try {
      const value: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad;
      return value as Record<string, unknown>;
    } catch {
      throw bad;
    }
  }
}
