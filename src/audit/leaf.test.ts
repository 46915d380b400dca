import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { auditLeafData, auditLeafFormat, auditLeafText, indexDigest, indexDigestOf, leafHash, leafHashOfText, versionLeafData, versionLeafText } from './leaf.js';

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
    for (const body of ['{"a":"\u00e9"}', '{"format":2,"a":"\u00e9"}']) {
      const row = { tenant: 'default', recorded: '2024-01-01T00:00:00.000Z', action: 'R', subtype: 'read', outcome: '0', agent: null, patients: ' p ', body };
      assert.deepEqual(Buffer.from(auditLeafText(row)), auditLeafData(row));
    }
  });
});

describe('audit leaf formats', () => {
  const row = { tenant: 'default', recorded: '2024-01-01T00:00:00.000Z', action: 'R', subtype: 'read', outcome: '0', agent: 'dr-a', patients: ' p1 p2 ', body: '{"format":2,"recorded":"2024-01-01T00:00:00.000Z"}' };

  it('reads the format from the body: 2 with the marker first, else 1', () => {
    assert.equal(auditLeafFormat(row.body), 2);
    assert.equal(auditLeafFormat('{"recorded":"2024-01-01T00:00:00.000Z","format":2}'), 1);
    assert.equal(auditLeafFormat(' {"format":2,'), 1);
  });

  it('format 1 commits to the tenant and body only (as the entries written before format 2)', () => {
    const v1 = { ...row, body: '{"recorded":"2024-01-01T00:00:00.000Z"}' };
    assert.equal(auditLeafText(v1), 'vigil:audit:v1\n["default","{\\"recorded\\":\\"2024-01-01T00:00:00.000Z\\"}"]');
    assert.deepEqual(leafHash(auditLeafData({ ...v1, patients: ' ', agent: null })), leafHash(auditLeafData(v1)));
  });

  it('format 2 commits to every column: changing any one changes the leaf', () => {
    assert.equal(auditLeafText(row), 'vigil:audit:v2\n["default","2024-01-01T00:00:00.000Z","R","read","0","dr-a"," p1 p2 "]\n' + row.body);
    const base = leafHash(auditLeafData(row));
    for (const change of [{ tenant: 'other' }, { recorded: '2024-01-01T00:00:00.001Z' }, { action: 'E' }, { subtype: 'search-type' }, { outcome: '4' }, { agent: null }, { agent: '' }, { patients: ' p1 ' }, { body: `${row.body} ` }]) {
      assert.notDeepEqual(leafHash(auditLeafData({ ...row, ...change })), base, JSON.stringify(change));
    }
  });

  it('format 2 cannot move text between a column and the body (the columns are JSON, without raw line breaks)', () => {
    // Joined by line breaks alone, these two rows would give the same text.
    const a = { ...row, patients: ' p1 \n{"format":2,"a":1}', body: '{"format":2,"b":2}' };
    const b = { ...row, patients: ' p1 ', body: '{"format":2,"a":1}\n{"format":2,"b":2}' };
    assert.equal([a.patients, a.body].join('\n'), [b.patients, b.body].join('\n'));
    assert.notDeepEqual(leafHash(auditLeafData(a)), leafHash(auditLeafData(b)));
  });
});

function sha256Text(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
