import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { VigilError } from '../errors.js';
import { CursorSigner } from './cursor.js';

const KEY = Buffer.alloc(32, 0x31);
const signer = new CursorSigner(KEY);
const VALUE = { seq: 1234, type: 'Patient', id: 'p1', since: '2024-01-01T00:00:00.000Z' };

function assertBadCursor(fn: () => unknown, what: string): void {
  assert.throws(
    fn,
    (err: unknown) => {
      assert.ok(err instanceof VigilError, `${what}: a VigilError`);
      assert.equal(err.code, 'ERR_BAD_REQUEST', what);
      assert.equal(err.message, 'The paging cursor is not valid', what);
      return true;
    },
    what,
  );
}

/** Replaces the character at `i` by another base64url character. */
function changeChar(s: string, i: number): string {
  const other = s[i] === 'A' ? 'g' : 'A';
  return `${s.slice(0, i)}${other}${s.slice(i + 1)}`;
}

/** Seals arbitrary text the way CursorSigner does, with `key`. */
function forge(key: Buffer, text: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from('vigil:cursor:v1'));
  const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
}

describe('CursorSigner', () => {
  it('round-trips a value, URL-safe', () => {
    const cursor = signer.sign(VALUE);
    assert.match(cursor, /^[A-Za-z0-9_-]+$/);
    assert.deepEqual(signer.verify(cursor), VALUE);
    const odd = signer.sign({ q: '?&=/+ é' });
    assert.equal(encodeURIComponent(odd), odd);
    assert.deepEqual(signer.verify(odd), { q: '?&=/+ é' });
  });

  it('is opaque: the payload cannot be read from the cursor', () => {
    const cursor = signer.sign(VALUE);
    const raw = Buffer.from(cursor, 'base64url').toString('latin1');
    for (const visible of ['Patient', '1234', 'seq', '2024']) assert.ok(!raw.includes(visible) && !cursor.includes(visible), visible);
    assert.notEqual(signer.sign(VALUE), cursor, 'two cursors of one value differ');
  });

  it('another signer with the same key reads it; one with another key does not', () => {
    assert.deepEqual(new CursorSigner(Buffer.from(KEY)).verify(signer.sign(VALUE)), VALUE);
    assertBadCursor(() => new CursorSigner(Buffer.alloc(32, 0x32)).verify(signer.sign(VALUE)), 'other key');
  });

  it('refuses every tampered or junk cursor', () => {
    const cursor = signer.sign(VALUE);
    const cases: [string, string][] = [
      ['first character changed', changeChar(cursor, 0)],
      ['middle character changed', changeChar(cursor, Math.floor(cursor.length / 2))],
      ['last character changed', changeChar(cursor, cursor.length - 1)],
      ['truncated', cursor.slice(0, -1)],
      ['truncated to the IV', cursor.slice(0, 16)],
      ['character appended', `${cursor}A`],
      ['empty', ''],
      ['garbage', 'not-a-cursor'],
      ['old signed format', `${Buffer.from(JSON.stringify(VALUE)).toString('base64url')}.AAAAAAAAAAAAAAAAAAAAAA`],
      ...['!', '=', '==', ' ', '%', '~~', '.', '+', '/'].map((junk): [string, string] => [`junk ${JSON.stringify(junk)} appended`, `${cursor}${junk}`]),
    ];
    for (const [what, bad] of cases) assertBadCursor(() => signer.verify(bad), what);
  });

  it('refuses a correctly sealed payload that is not a JSON object', () => {
    for (const text of ['[1,2]', '"x"', '42', 'null', 'true', 'not json', '']) assertBadCursor(() => signer.verify(forge(KEY, text)), text);
    assert.deepEqual(signer.verify(forge(KEY, '{"a":1}')), { a: 1 }, 'control: the forge helper seals like the signer');
  });
});
