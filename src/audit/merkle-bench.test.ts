import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { merkleBench } from './merkle-bench.js';

describe('merkleBench', () => {
  it('reports both rates from the clock it is given', () => {
    let t = 0;
    const r = merkleBench(1000, () => (t += 500));
    assert.equal(r.leaves, 1000);
    assert.equal(r.leafHashMs, 500);
    assert.equal(r.rebuildMs, 500);
    assert.equal(r.leafHashesPerSecond, 2000);
    assert.equal(r.rebuildLeavesPerSecond, 2000);
  });

  it('measures a real run', (t) => {
    const r = merkleBench(20_000);
    assert.ok(r.leafHashesPerSecond > 0 && r.rebuildLeavesPerSecond > 0);
    t.diagnostic(`20k leaves: ${Math.round(r.leafHashesPerSecond)} leaf hashes/s, ${Math.round(r.rebuildLeavesPerSecond)} leaves/s rebuilt`);
  });

  it('refuses a count below one', () => {
    assert.throws(() => merkleBench(0), { code: 'ERR_INTERNAL', message: 'merkleBench needs at least one leaf' });
  });
});
