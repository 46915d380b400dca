import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { MerkleFrontier, merkleRoot } from './frontier.js';
import { appendRange } from './leaf-range.js';
import { referenceRoot } from './reference-tree.js';
import { CT_FRONTIERS, CT_LEAVES_HEX, CT_NODES_HEX, CT_ROOTS_HEX, hexList } from './reference-vectors.js';
import { memorySubtreeHasher } from './subtree.js';
import { leafHash } from './tree-hash.js';

const entries = (n: number): Buffer[] => Array.from({ length: n }, (_, i) => Buffer.from(`entry ${i}`));

describe('MerkleFrontier', () => {
  it('matches the CT reference roots for sizes 0..8 (Trillian testonly/constants.go)', () => {
    const frontier = new MerkleFrontier();
    assert.equal(frontier.root().toString('hex'), CT_ROOTS_HEX[0]);
    hexList(CT_LEAVES_HEX).forEach((data, i) => {
      assert.equal(frontier.append(leafHash(data)), i);
      assert.equal(frontier.size, i + 1);
      assert.equal(frontier.root().toString('hex'), CT_ROOTS_HEX[i + 1], `size ${i + 1}`);
    });
  });

  it('keeps exactly the reference compact range after each append', () => {
    const frontier = new MerkleFrontier();
    const leaves = hexList(CT_LEAVES_HEX);
    for (let size = 0; size <= 8; size += 1) {
      const want = (CT_FRONTIERS[size] ?? []).map(([h, i]) => (CT_NODES_HEX[h] as string[])[i]);
      assert.deepEqual(frontier.hashes().map((h) => h.toString('hex')), want, `size ${size}`);
      if (size < 8) frontier.append(leafHash(leaves[size] as Buffer));
    }
  });

  it('agrees with the recursive RFC definition at every size up to 300', () => {
    const data = entries(300);
    const frontier = new MerkleFrontier();
    for (let n = 0; n <= 300; n += 1) {
      assert.deepEqual(frontier.root(), referenceRoot(data.slice(0, n)), `size ${n}`);
      if (n < 300) frontier.append(leafHash(data[n] as Buffer));
    }
    assert.deepEqual(merkleRoot(data.map(leafHash)), referenceRoot(data));
  });

  it('holds one hash per one bit of the size', () => {
    const frontier = new MerkleFrontier();
    for (let n = 1; n <= 1100; n += 1) {
      frontier.append(randomBytes(32));
      assert.equal(frontier.hashes().length, n.toString(2).replaceAll('0', '').length);
    }
  });

  it('copies what it keeps: changing a caller buffer afterwards changes nothing', () => {
    const frontier = new MerkleFrontier();
    const buf = Buffer.alloc(32, 1);
    frontier.append(buf);
    const before = frontier.root();
    buf.fill(2);
    frontier.hashes()[0]?.fill(3);
    frontier.root().fill(4);
    assert.deepEqual(frontier.root(), before);
  });

  it('restores from its persisted state and goes on as if never stopped', () => {
    const data = entries(77);
    const whole = new MerkleFrontier();
    const first = new MerkleFrontier();
    data.forEach((d, i) => {
      whole.append(leafHash(d));
      if (i < 45) first.append(leafHash(d));
    });
    const resumed = MerkleFrontier.restore(first.size, first.hashes());
    for (const d of data.slice(45)) resumed.append(leafHash(d));
    assert.deepEqual(resumed.root(), whole.root());
    assert.equal(resumed.size, 77);
  });

  it('refuses a persisted state that does not fit its size', () => {
    const f = new MerkleFrontier();
    for (let i = 0; i < 5; i += 1) f.append(randomBytes(32)); // 5 = 101b: two hashes
    const [a, b] = f.hashes() as [Buffer, Buffer];
    const bad: [string, number, Buffer[]][] = [
      ['one hash short', 5, [a]],
      ['one hash too many', 5, [a, b, b]],
      ['size of another shape', 4, [a, b]],
      ['short hash', 5, [a, b.subarray(1)]],
      ['negative size', -1, []],
      ['fractional size', 2.5, [a]],
      ['unsafe size', 2 ** 53, [a]],
    ];
    for (const [what, size, hashes] of bad) {
      assert.throws(() => MerkleFrontier.restore(size, hashes), { code: 'ERR_INTEGRITY', message: 'The stored Merkle frontier is malformed' }, what);
    }
    assert.deepEqual(MerkleFrontier.restore(0, []).root(), new MerkleFrontier().root());
  });

  it('appends aligned perfect subtrees the same as their leaves', () => {
    const leaves = entries(64).map(leafHash);
    const subtrees = memorySubtreeHasher(leaves);
    // Chunks of 16, 8, 8, 4, 4, 8, 16 leaves: each starts at a multiple of its size.
    const chunks = [16, 8, 8, 4, 4, 8, 16];
    const f = new MerkleFrontier();
    let at = 0;
    for (const size of chunks) {
      f.appendSubtree(Math.log2(size), subtrees(at, at + size));
      at += size;
      assert.deepEqual(f.root(), merkleRoot(leaves.slice(0, at)), `after ${at}`);
    }
    f.append(leaves[0] as Buffer);
    assert.throws(() => f.appendSubtree(1, randomBytes(32)), { code: 'ERR_INTERNAL', message: 'A subtree must start at a multiple of its own size' });
    assert.throws(() => f.append(Buffer.alloc(31)), { code: 'ERR_INTERNAL', message: 'A leaf hash is 32 bytes' });
    assert.throws(() => f.appendSubtree(0.5, randomBytes(32)), { code: 'ERR_INTERNAL' });
  });

  it('joins a tree from ranges hashed apart, at every size inside every range (the verifier\'s leaf ranges)', () => {
    const data = entries(150);
    const leaves = data.map(leafHash);
    for (const size of [1, 2, 4, 8, 16, 32]) {
      const tree = new MerkleFrontier();
      for (let from = 0; from < leaves.length; from += size) {
        const to = Math.min(from + size, leaves.length);
        const range = new MerkleFrontier();
        for (let n = from; n < to; n += 1) {
          range.append(leaves[n] as Buffer);
          assert.deepEqual(tree.rootWith(range.root()), referenceRoot(data.slice(0, n + 1)), `ranges of ${size}, size ${n + 1}`);
        }
        assert.equal(appendRange(tree, to - from, range.hashes()), true);
        assert.equal(tree.size, to);
      }
      assert.deepEqual(tree.root(), referenceRoot(data));
    }
  });

  it('refuses a range whose subtrees do not fit its number of leaves', () => {
    const leaves = entries(8).map(leafHash);
    const range = new MerkleFrontier();
    for (const h of leaves.slice(0, 6)) range.append(h);
    // 6 leaves are two subtrees (4 and 2): one alone, three, or a short hash do not fit.
    assert.equal(appendRange(new MerkleFrontier(), 6, range.hashes().slice(0, 1)), false);
    assert.equal(appendRange(new MerkleFrontier(), 6, [...range.hashes(), leaves[0] as Buffer]), false);
    assert.equal(appendRange(new MerkleFrontier(), 6, [range.hashes()[0] as Buffer, Buffer.alloc(31)]), false);
    assert.throws(() => new MerkleFrontier().rootWith(Buffer.alloc(31)), { code: 'ERR_INTERNAL' });
  });
});
