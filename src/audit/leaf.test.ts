import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { auditLeafData, auditLeafText, indexDigest, indexDigestOf, leafHash, leafHashOfText, versionLeafData, versionLeafText } from './leaf.js';

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

describe('leaf hashes from text (the verifier\'s path)', () => {
  const texts: [string, string][] = [
    ['empty', ''],
    ['ASCII', 'vigil:audit:v1\n["default","{}"]'],
    ['multi-byte and astral characters', 'é€😀'.repeat(50)],
    ['a lone surrogate (encoded as U+FFFD, as Buffer.from does)', `a\ud800b`],
    ['longer than the reused buffer', 'x'.repeat(30_000)],
    ['longer than the reuse limit', 'é'.repeat(70_000)],
  ];
  for (const [name, text] of texts) {
    it(`hashes the same bytes as leafHash(Buffer.from(text)): ${name}`, () => {
      assert.deepEqual(leafHashOfText(text), leafHash(Buffer.from(text)));
    });
  }

  it('gives the leaf data the writer hashes, byte for byte', () => {
    const v = { tenant: 'default', type: 'Patient', id: 'a"b\\c', versionId: 2, lastUpdated: '2024-01-01T00:00:00.000Z', deleted: false, boxDigest: Buffer.alloc(32, 1), indexDigest: Buffer.alloc(32, 2) };
    assert.deepEqual(Buffer.from(versionLeafText(v)), versionLeafData(v));
    assert.deepEqual(Buffer.from(auditLeafText('default', '{"a":"\u00e9"}')), auditLeafData('default', '{"a":"\u00e9"}'));
  });
});

function sha256Text(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
