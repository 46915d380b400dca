import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { VigilError } from '../errors.js';
import { ENVELOPE_OVERHEAD, HEADER_LENGTH, keyVersionOf, open, seal } from './envelope.js';
import { resourceContext } from './keyring.js';

const KEY = Buffer.alloc(32, 7);
const OTHER_KEY = Buffer.alloc(32, 8);
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const GENERIC = 'Stored data failed an integrity check';
const PLAINTEXT = Buffer.from('{"resourceType":"Patient","name":[{"family":"Xylophonia"}]}');
const CONTEXT = resourceContext('default', 'Patient', 'p1', 3);

/** Asserts the one generic integrity failure: right class, code and message, no detail. */
function assertIntegrity(fn: () => unknown): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof VigilError, 'a VigilError');
    assert.equal(err.code, 'ERR_INTEGRITY');
    assert.equal(err.message, GENERIC);
    assert.deepEqual(err.issues, []);
    return true;
  });
}

function flip(box: Buffer, index: number, bit = 0x01): Buffer {
  const copy = Buffer.from(box);
  copy[index] = (copy[index] ?? 0) ^ bit;
  return copy;
}

describe('envelope seal/open', () => {
  it('round-trips plaintext bound to its context', () => {
    const box = seal(KEY, 5, PLAINTEXT, CONTEXT);
    assert.equal(box.length, PLAINTEXT.length + ENVELOPE_OVERHEAD);
    assert.deepEqual(open(KEY, box, CONTEXT), PLAINTEXT);
  });

  it('round-trips an empty plaintext', () => {
    const box = seal(KEY, 1, Buffer.alloc(0), CONTEXT);
    assert.equal(box.length, ENVELOPE_OVERHEAD);
    assert.equal(open(KEY, box, CONTEXT).length, 0);
  });

  it('never stores the plaintext in clear and never repeats a ciphertext (fresh IV)', () => {
    const a = seal(KEY, 1, PLAINTEXT, CONTEXT);
    const b = seal(KEY, 1, PLAINTEXT, CONTEXT);
    assert.notDeepEqual(a, b);
    assert.equal(a.includes(Buffer.from('Xylophonia')), false);
    assert.notDeepEqual(a.subarray(HEADER_LENGTH, HEADER_LENGTH + IV_LENGTH), b.subarray(HEADER_LENGTH, HEADER_LENGTH + IV_LENGTH));
  });

  it('opens a box that is a view into a larger buffer at an offset', () => {
    const box = seal(KEY, 9, PLAINTEXT, CONTEXT);
    const big = Buffer.concat([Buffer.from('junk-before'), box, Buffer.from('junk-after')]);
    const view = new Uint8Array(big.buffer, big.byteOffset + 11, box.length);
    assert.equal(keyVersionOf(view), 9);
    assert.deepEqual(open(KEY, view, CONTEXT), PLAINTEXT);
  });

  it('writes the header: magic V, format 1, key version big-endian', () => {
    const box = seal(KEY, 0x01020304, PLAINTEXT, CONTEXT);
    assert.deepEqual([...box.subarray(0, HEADER_LENGTH)], [0x56, 0x01, 0x01, 0x02, 0x03, 0x04]);
  });
});

describe('envelope keyVersionOf', () => {
  it('reads the key version from the header', () => {
    for (const v of [0, 1, 2, 255, 256, 65536, 0xffffffff]) {
      assert.equal(keyVersionOf(seal(KEY, v, PLAINTEXT, CONTEXT)), v);
    }
  });

  it('refuses a malformed header with the generic error', () => {
    const box = seal(KEY, 1, PLAINTEXT, CONTEXT);
    assertIntegrity(() => keyVersionOf(flip(box, 0)));
    assertIntegrity(() => keyVersionOf(flip(box, 1)));
    assertIntegrity(() => keyVersionOf(Buffer.alloc(0)));
    assertIntegrity(() => keyVersionOf(box.subarray(0, ENVELOPE_OVERHEAD - 1)));
  });
});

describe('envelope open refuses every tampered input with one generic error', () => {
  const box = seal(KEY, 2, PLAINTEXT, CONTEXT);
  const ivAt = HEADER_LENGTH;
  const bodyAt = HEADER_LENGTH + IV_LENGTH;
  const tagAt = box.length - TAG_LENGTH;
  const cases: [string, () => unknown][] = [
    ['flipped bit in the magic byte', () => open(KEY, flip(box, 0), CONTEXT)],
    ['magic replaced by another letter', () => open(KEY, Buffer.concat([Buffer.from('W'), box.subarray(1)]), CONTEXT)],
    ['flipped bit in the format byte', () => open(KEY, flip(box, 1), CONTEXT)],
    ['format byte set to 2', () => open(KEY, Buffer.concat([box.subarray(0, 1), Buffer.from([2]), box.subarray(2)]), CONTEXT)],
    ['flipped bit in key-version byte 0 (high)', () => open(KEY, flip(box, 2, 0x80), CONTEXT)],
    ['flipped bit in key-version byte 1', () => open(KEY, flip(box, 3), CONTEXT)],
    ['flipped bit in key-version byte 2', () => open(KEY, flip(box, 4), CONTEXT)],
    ['flipped bit in key-version byte 3 (low)', () => open(KEY, flip(box, 5), CONTEXT)],
    ['flipped bit in the first IV byte', () => open(KEY, flip(box, ivAt), CONTEXT)],
    ['flipped bit in the last IV byte', () => open(KEY, flip(box, bodyAt - 1, 0x80), CONTEXT)],
    ['flipped bit in the first ciphertext byte', () => open(KEY, flip(box, bodyAt), CONTEXT)],
    ['flipped bit in the middle of the ciphertext', () => open(KEY, flip(box, bodyAt + 20, 0x10), CONTEXT)],
    ['flipped bit in the last ciphertext byte', () => open(KEY, flip(box, tagAt - 1), CONTEXT)],
    ['flipped bit in the first tag byte', () => open(KEY, flip(box, tagAt), CONTEXT)],
    ['flipped bit in the last tag byte', () => open(KEY, flip(box, box.length - 1, 0x80), CONTEXT)],
    ['truncated by one byte', () => open(KEY, box.subarray(0, box.length - 1), CONTEXT)],
    ['truncated to header and IV', () => open(KEY, box.subarray(0, bodyAt), CONTEXT)],
    ['truncated to the header only', () => open(KEY, box.subarray(0, HEADER_LENGTH), CONTEXT)],
    ['truncated to the overhead length (body dropped)', () => open(KEY, Buffer.concat([box.subarray(0, bodyAt), box.subarray(tagAt)]), CONTEXT)],
    ['junk appended after the tag', () => open(KEY, Buffer.concat([box, Buffer.from('junk')]), CONTEXT)],
    ['one zero byte appended', () => open(KEY, Buffer.concat([box, Buffer.alloc(1)]), CONTEXT)],
    ['empty input', () => open(KEY, Buffer.alloc(0), CONTEXT)],
    ['random bytes with a valid header', () => open(KEY, Buffer.concat([box.subarray(0, HEADER_LENGTH), randomBytes(64)]), CONTEXT)],
    ['all zero bytes', () => open(KEY, Buffer.alloc(box.length), CONTEXT)],
    ['wrong key', () => open(OTHER_KEY, box, CONTEXT)],
    ['wrong context: another versionId', () => open(KEY, box, resourceContext('default', 'Patient', 'p1', 2))],
    ['wrong context: another id', () => open(KEY, box, resourceContext('default', 'Patient', 'p2', 3))],
    ['wrong context: another type', () => open(KEY, box, resourceContext('default', 'Observation', 'p1', 3))],
    ['wrong context: another tenant', () => open(KEY, box, resourceContext('other', 'Patient', 'p1', 3))],
    ['wrong context: empty', () => open(KEY, box, Buffer.alloc(0))],
    ['wrong context: context with a trailing byte', () => open(KEY, box, Buffer.concat([CONTEXT, Buffer.alloc(1)]))],
  ];
  for (const [name, fn] of cases) {
    it(name, () => assertIntegrity(fn));
  }

  it('a box sealed under another key version but relabelled is refused', () => {
    // Same key, but the header claims version 3: the header is associated data.
    const relabelled = Buffer.from(box);
    relabelled.writeUInt32BE(3, 2);
    assertIntegrity(() => open(KEY, relabelled, CONTEXT));
  });

  it('swapping the bodies of two boxes is refused', () => {
    const other = seal(KEY, 2, PLAINTEXT, CONTEXT);
    const mixed = Buffer.concat([box.subarray(0, bodyAt), other.subarray(bodyAt)]);
    assertIntegrity(() => open(KEY, mixed, CONTEXT));
  });

  it('the generic error does not carry the context or key material in its message', () => {
    try {
      open(OTHER_KEY, box, CONTEXT);
      assert.fail('open should have thrown');
    } catch (err) {
      assert.ok(err instanceof VigilError);
      assert.equal(err.message.includes('Patient'), false);
      assert.equal(err.message.includes('p1'), false);
      assert.equal(err.message, GENERIC);
    }
  });
});
