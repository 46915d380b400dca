import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { consistencyProofPlan } from './consistency.js';
import { inclusionProofPlan } from './inclusion.js';
import { isPowerOfTwo, isTreeSize, largestPowerOfTwoAtMost, onesIn, perfectRanges, splitPoint } from './tree-math.js';

const MAX = Number.MAX_SAFE_INTEGER; // 2^53 - 1

describe('tree index arithmetic', () => {
  it('splits where MTH does: the largest power of two below n', () => {
    const table: [number, number][] = [[2, 1], [3, 2], [4, 2], [5, 4], [8, 4], [9, 8], [2 ** 31, 2 ** 30], [2 ** 31 + 1, 2 ** 31], [2 ** 40 + 5, 2 ** 40], [MAX, 2 ** 52]];
    for (const [n, k] of table) assert.equal(splitPoint(n), k, String(n));
  });

  it('works past 2^31, where bit operators would wrap', () => {
    assert.equal(largestPowerOfTwoAtMost(2 ** 33 + 7), 2 ** 33);
    assert.equal(isPowerOfTwo(2 ** 52), true);
    assert.equal(isPowerOfTwo(2 ** 52 + 2), false);
    assert.equal(onesIn(MAX), 53);
    assert.equal(onesIn(2 ** 40), 1);
    assert.deepEqual(perfectRanges(2 ** 32, 2 ** 32 + 3), [
      { start: 2 ** 32, end: 2 ** 32 + 2 },
      { start: 2 ** 32 + 2, end: 2 ** 32 + 3 },
    ]);
  });

  it('accepts only safe, non-negative integer sizes', () => {
    for (const ok of [0, 1, MAX]) assert.equal(isTreeSize(ok), true);
    for (const bad of [-1, 0.5, MAX + 1, Number.NaN, Infinity, '3', 3n]) assert.equal(isTreeSize(bad), false, String(bad));
  });

  it('plans proofs at the largest sizes in O(log n) elements', () => {
    assert.equal(inclusionProofPlan(MAX - 1, MAX).length, 52);
    assert.equal(inclusionProofPlan(0, MAX).length, 53);
    assert.equal(consistencyProofPlan(MAX - 1, MAX).length > 0, true);
    assert.ok(consistencyProofPlan(2 ** 40 + 1, MAX).length <= 2 * 53);
  });
});
