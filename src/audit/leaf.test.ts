import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { indexDigest, indexDigestOf } from './leaf.js';

describe('index digest', () => {
  const a = Buffer.from('0a0b0c0d0e0f00112233445566778899', 'hex');
  const b = Buffer.from('ff00000000000000000000000000000a', 'hex');
  const ranges = [
    { param: 'Observation.date', lo: 1.5, hi: 1e21, unit: null, unit2: null },
    { param: 'Observation.value-quantity', lo: -0.1, hi: 3, unit: Buffer.from('aabb', 'hex'), unit2: Buffer.from('cc', 'hex') },
  ];

  it('is the same from the rows the writer has and from the bulk form the verifier reads', () => {
    const writer = indexDigest({ hashes: [b, a, a], ranges });
    const bulk = indexDigestOf(`["${a.toString('hex')}","${b.toString('hex')}"]`, [
      { param: 'Observation.value-quantity', lo: -0.1, hi: 3, unit: 'aabb', unit2: 'cc' },
      { param: 'Observation.date', lo: 1.5, hi: 1e21, unit: '', unit2: '' },
    ]);
    assert.deepEqual(bulk, writer);
  });

  it('matches the documented encoding', () => {
    const text = `vigil:index:v1\n${JSON.stringify([[a.toString('hex')], ['Observation.date|1.5|1e+21||']])}`;
    const expected = sha256Text(text);
    assert.deepEqual(indexDigest({ hashes: [a], ranges: [ranges[0] as (typeof ranges)[0]] }), expected);
  });

  it('changes with any row', () => {
    const base = indexDigest({ hashes: [a, b], ranges });
    assert.notDeepEqual(indexDigest({ hashes: [a], ranges }), base);
    assert.notDeepEqual(indexDigest({ hashes: [a, b], ranges: ranges.slice(1) }), base);
    assert.notDeepEqual(indexDigestOf('[]', []), base);
  });
});

function sha256Text(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
