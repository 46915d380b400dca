import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { BlindIndex, normalize, prefix, trigrams, textPrefixLength } from './blind-index.js';

describe('blind index', () => {
  it('is HMAC-SHA256 of type, parameter, form and value, truncated to 128 bits', () => {
    for (let i = 0; i < 50; i++) {
      const key = randomBytes(32);
      const value = i % 5 === 4 ? `é漢😀\u0000${i}` : randomBytes(i).toString('base64');
      const expected = createHmac('sha256', key).update(`Patient\u0000family\u0000p\u0000${value}`).digest().subarray(0, 16);
      assert.deepEqual(new BlindIndex(key).hash('Patient', 'family', 'p', value), expected);
    }
  });

  it('separates keys, types, parameters and forms', () => {
    const key = randomBytes(32);
    const a = new BlindIndex(key);
    const base = a.hash('Patient', 'family', 'p', 'smi').toString('hex');
    assert.equal(a.hash('Patient', 'family', 'p', 'smi').toString('hex'), base, 'deterministic');
    for (const other of [
      new BlindIndex(randomBytes(32)).hash('Patient', 'family', 'p', 'smi'),
      a.hash('Practitioner', 'family', 'p', 'smi'),
      a.hash('Patient', 'given', 'p', 'smi'),
      a.hash('Patient', 'family', 'e', 'smi'),
      a.hash('Patient', 'family', 'p', 'smj'),
    ]) {
      assert.notEqual(other.toString('hex'), base);
    }
  });

  it('folds case, accents and spaces as FHIR string search asks', () => {
    assert.equal(normalize('  José   MÜLLER-Zoë '), 'jose muller-zoe');
    assert.equal(normalize('Ångström'), 'angstrom');
    assert.equal(prefix('éèê', 2), 'éè');
    assert.deepEqual(trigrams('abcd'), ['abc', 'bcd']);
    assert.deepEqual(trigrams('ab'), []);
    assert.deepEqual([0, 2, 3, 5, 6, 11, 12, 40].map(textPrefixLength), [0, 0, 3, 3, 6, 9, 12, 12]);
  });
});
