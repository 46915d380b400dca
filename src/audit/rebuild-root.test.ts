import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { merkleRoot } from './frontier.js';
import { rebuildRoot, rebuildTasks } from './rebuild-root.js';
import { emptyRoot } from './tree-hash.js';

const split = (packed: Buffer): Buffer[] => Array.from({ length: packed.length / 32 }, (_, i) => packed.subarray(i * 32, i * 32 + 32));

describe('rebuildRoot', () => {
  it('cuts any size into contiguous, aligned, perfect subtrees', () => {
    for (const size of [1, 2, 3, 7, 64, 65, 1000, 65_535, 65_536, 99_999, 1_000_000]) {
      for (const parts of [1, 2, 8, 13]) {
        let at = 0;
        for (const t of rebuildTasks(size, parts)) {
          const n = t.end - t.start;
          assert.equal(t.start, at);
          assert.ok(Number.isInteger(Math.log2(n)) && t.start % n === 0, `${size}/${parts}: ${t.start}..${t.end}`);
          at = t.end;
        }
        assert.equal(at, size);
      }
    }
  });

  it('gives the same root as one thread, with worker threads, for uneven sizes', async () => {
    for (const size of [65_536, 70_001, 131_073]) {
      const packed = randomBytes(size * 32);
      const want = merkleRoot(split(packed));
      for (const workers of [2, 3]) assert.deepEqual(await rebuildRoot(packed, { workers }), want, `${size} on ${workers}`);
    }
  });

  it('hashes small trees on this thread, the empty tree included', async () => {
    const packed = randomBytes(100 * 32);
    assert.deepEqual(await rebuildRoot(packed), merkleRoot(split(packed)));
    assert.deepEqual(await rebuildRoot(Buffer.alloc(0), { workers: 4 }), emptyRoot());
    await assert.rejects(rebuildRoot(Buffer.alloc(33)), { code: 'ERR_INTERNAL', message: 'Leaf hashes are packed 32 bytes each' });
  });
});
