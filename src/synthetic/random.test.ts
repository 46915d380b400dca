import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { Rng } from './random.js';
import { npiCheckDigit } from './systems.js';
import { asciiSlug } from './names.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function draws(rng: Rng, n: number): number[] {
  return Array.from({ length: n }, () => rng.u32());
}

describe('Rng', () => {
  it('gives the same stream for the same seed and label, and another for another seed or label', () => {
    const a = draws(Rng.derive('42', 'patient:1'), 50);
    assert.deepEqual(draws(Rng.derive('42', 'patient:1'), 50), a);
    assert.notDeepEqual(draws(Rng.derive('43', 'patient:1'), 50), a);
    assert.notDeepEqual(draws(Rng.derive('42', 'patient:2'), 50), a);
  });

  it('pins its output, so a change to the generator cannot slip by unnoticed', () => {
    // If this fails on purpose, bump GENERATOR_VERSION: data sets made before will differ.
    const rng = Rng.derive('vigil', 'pin');
    assert.deepEqual(draws(rng, 3), [1436429228, 2168189082, 3732760703]);
    assert.equal(rng.uuid(), 'a11c8d95-d871-49a9-bfbb-f212e9025a47');
  });

  it('draws numbers in range, roughly uniformly', () => {
    const rng = Rng.derive('1', 'range');
    const buckets = [0, 0, 0, 0, 0, 0];
    for (let i = 0; i < 60_000; i++) {
      const n = rng.int(1, 6);
      assert.ok(n >= 1 && n <= 6);
      buckets[n - 1] = (buckets[n - 1] ?? 0) + 1;
      const f = rng.next();
      assert.ok(f >= 0 && f < 1);
    }
    for (const count of buckets) assert.ok(count > 9_000 && count < 11_000, `bucket ${count}`);
  });

  it('makes well-formed, distinct version 4 UUIDs', () => {
    const rng = Rng.derive('1', 'uuids');
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const id = rng.uuid();
      assert.match(id, UUID_V4);
      seen.add(id);
    }
    assert.equal(seen.size, 10_000);
  });

  it('samples distinct items and refuses to pick from nothing', () => {
    const rng = Rng.derive('1', 'sample');
    const picked = rng.sample([1, 2, 3, 4, 5], 3);
    assert.equal(new Set(picked).size, 3);
    assert.deepEqual(rng.sample([1, 2], 5).sort(), [1, 2]);
    assert.throws(() => rng.pick([]), { message: 'Rng.pick needs a non-empty list' });
  });
});

describe('npiCheckDigit', () => {
  it('computes the Luhn digit over the 80840 prefix, as in the CMS example NPI 1234567893', () => {
    assert.equal(npiCheckDigit('123456789'), 3);
  });
});

describe('asciiSlug', () => {
  it('folds accents and drops what an e-mail local part should not hold', () => {
    assert.equal(asciiSlug('Zoë'), 'zoe');
    assert.equal(asciiSlug('Ó Súilleabháin'), 'osuilleabhain');
    assert.equal(asciiSlug("O'Brien"), 'obrien');
    assert.equal(asciiSlug('Søren Weiß Đặng'), 'sorenweissdang');
  });
});
