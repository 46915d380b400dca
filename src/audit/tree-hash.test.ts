import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { CT_LEAVES_HEX, CT_NODES_HEX, CT_ROOTS_HEX, hexList } from './reference-vectors.js';
import { emptyRoot, HASH_SIZE, isTreeHash, leafHash, nodeHash, sameHash, sha256Once } from './tree-hash.js';

const sha = (...parts: Uint8Array[]): Buffer => createHash('sha256').update(Buffer.concat(parts)).digest();

describe('tree hashes (RFC 9162 section 2.1.1)', () => {
  it('hashes the CT reference leaves to the published leaf hashes', () => {
    const leaves = hexList(CT_LEAVES_HEX);
    assert.deepEqual(
      leaves.map((d) => leafHash(d).toString('hex')),
      CT_NODES_HEX[0],
    );
  });

  it('hashes pairs of reference leaves to the published level-1 nodes', () => {
    const level0 = hexList(CT_NODES_HEX[0] as string[]);
    for (let i = 0; i < 4; i += 1) {
      assert.equal(nodeHash(level0[2 * i] as Buffer, level0[2 * i + 1] as Buffer).toString('hex'), (CT_NODES_HEX[1] as string[])[i]);
    }
  });

  it('gives the empty tree the hash of no bytes, as a fresh copy each time', () => {
    const a = emptyRoot();
    assert.equal(a.toString('hex'), CT_ROOTS_HEX[0]);
    a.fill(0);
    assert.equal(emptyRoot().toString('hex'), CT_ROOTS_HEX[0]);
  });

  it('prefixes leaves with 0x00 at every size, across the reused-buffer limits', () => {
    for (const size of [0, 1, 31, 32, 33, 500, 1023, 1024, 1025, 4096, 65535, 65536, 200_000]) {
      const data = randomBytes(size);
      assert.deepEqual(leafHash(data), sha(Buffer.of(0), data), `size ${size}`);
    }
    // A short leaf after a long one must not see the long one's leftover bytes.
    const long = randomBytes(3000);
    leafHash(long);
    assert.deepEqual(leafHash(Buffer.of(7)), sha(Buffer.of(0, 7)));
  });

  it('keeps the leaf and node domains apart: a leaf of (left || right) is not the node', () => {
    const l = randomBytes(HASH_SIZE);
    const r = randomBytes(HASH_SIZE);
    assert.notDeepEqual(leafHash(Buffer.concat([l, r])), nodeHash(l, r));
    assert.deepEqual(nodeHash(l, r), sha(Buffer.of(1), l, r));
  });

  it('refuses to hash a node from anything but two 32-byte hashes', () => {
    const h = randomBytes(32);
    for (const [left, right] of [
      [Buffer.alloc(31), h],
      [h, Buffer.alloc(33)],
      [Buffer.alloc(0), Buffer.alloc(0)],
    ] as const) {
      assert.throws(() => nodeHash(left, right), { code: 'ERR_INTERNAL', message: 'A Merkle node hashes two 32-byte child hashes' });
    }
  });

  it('compares hashes only as 32-byte values', () => {
    const h = randomBytes(32);
    assert.equal(sameHash(h, Buffer.from(h)), true);
    assert.equal(sameHash(h, randomBytes(32)), false);
    for (const at of [0, 15, 31]) {
      const other = Buffer.from(h);
      other[at] = (other[at] ?? 0) ^ 0x01;
      assert.equal(sameHash(h, other), false, `differs at byte ${at}`);
    }
    assert.equal(sameHash(h.subarray(0, 31), h.subarray(0, 31)), false);
    assert.equal(isTreeHash('x'.repeat(32)), false);
    assert.equal(isTreeHash(new Uint8Array(32)), true);
  });

  it('hashes a string as the bytes of its UTF-8, lone surrogates as U+FFFD (what Buffer.from makes)', () => {
    for (const text of ['', 'vigil:index:v1\n[[],[]]', 'é漢😀', 'a\ud800b', 'x\udc00', '\u0000']) {
      assert.deepEqual(sha256Once(text), createHash('sha256').update(Buffer.from(text, 'utf8')).digest(), JSON.stringify(text));
    }
  });
});
