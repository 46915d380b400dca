import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { hashSecret, newSecret, verifySecret } from './secrets.js';

const SECRET = 'correct horse battery staple';

describe('hashSecret / verifySecret', () => {
  it('verifies the secret it hashed', async () => {
    const stored = await hashSecret(SECRET);
    assert.equal(await verifySecret(SECRET, stored), true);
  });

  it('stores scrypt$N$r$p$salt$hash and never the secret', async () => {
    const stored = await hashSecret(SECRET);
    const parts = stored.split('$');
    assert.equal(parts.length, 6);
    assert.deepEqual(parts.slice(0, 4), ['scrypt', '32768', '8', '1']);
    assert.equal(Buffer.from(parts[4] ?? '', 'base64url').length, 16);
    assert.equal(Buffer.from(parts[5] ?? '', 'base64url').length, 32);
    assert.equal(stored.includes(SECRET), false);
    assert.equal(stored.includes(Buffer.from(SECRET).toString('base64url')), false);
  });

  it('rejects a wrong secret, including near misses', async () => {
    const stored = await hashSecret(SECRET);
    for (const wrong of ['', 'correct horse battery stapl', `${SECRET} `, 'Correct horse battery staple']) {
      assert.equal(await verifySecret(wrong, stored), false, JSON.stringify(wrong));
    }
  });

  it('gives two different hashes (fresh salts) for one secret, both of which verify', async () => {
    const [a, b] = await Promise.all([hashSecret(SECRET), hashSecret(SECRET)]);
    assert.notEqual(a, b);
    assert.notEqual(a.split('$')[4], b.split('$')[4]);
    assert.notEqual(a.split('$')[5], b.split('$')[5]);
    assert.equal(await verifySecret(SECRET, a), true);
    assert.equal(await verifySecret(SECRET, b), true);
  });

  it('a hash of one secret does not verify another secret', async () => {
    const other = await hashSecret('another secret');
    assert.equal(await verifySecret(SECRET, other), false);
  });

  it('never matches a malformed stored hash', async () => {
    const good = await hashSecret(SECRET);
    const [, n, r, p, salt, hash] = good.split('$') as [string, string, string, string, string, string];
    const malformed = [
      '',
      SECRET,
      'scrypt',
      `scrypt$${n}$${r}$${p}$${salt}`,
      `bcrypt$${n}$${r}$${p}$${salt}$${hash}`,
      `SCRYPT$${n}$${r}$${p}$${salt}$${hash}`,
      `scrypt$${n}$${r}$${p}$${salt}$`,
      `scrypt$${n}$${r}$${p}$$${hash}`,
      `scrypt$${n}$${r}$${p}$${salt}$${hash.slice(0, -2)}`,
      `scrypt$${n}$${r}$${p}$${salt}$${hash}AA`,
      `scrypt$${n}$${r}$${p}$${salt.slice(1)}x$${hash}`,
      `scrypt$16384$${r}$${p}$${salt}$${hash}`,
      `scrypt$${n}$4$${p}$${salt}$${hash}`,
      `scrypt$${n}$${r}$2$${salt}$${hash}`,
    ];
    for (const stored of malformed) {
      assert.equal(await verifySecret(SECRET, stored), false, stored);
    }
  });

  it('BUG: a stored hash with unusable scrypt parameters does not match (returns false, does not reject)', async () => {
    // scrypt throws synchronously on N=NaN or N beyond maxmem; derive() lets that escape as a
    // rejection (secrets.ts, derive/verifySecret), so a corrupt client row becomes a 500, not a 401.
    const good = await hashSecret(SECRET);
    const [, , r, p, salt, hash] = good.split('$') as [string, string, string, string, string, string];
    for (const n of ['abc', '1048576', '3', '-1']) {
      const stored = `scrypt$${n}$${r}$${p}$${salt}$${hash}`;
      let result: boolean | Error;
      try {
        result = await verifySecret(SECRET, stored);
      } catch (err) {
        result = err as Error;
      }
      assert.equal(result, false, `N=${n}: ${result instanceof Error ? result.message : String(result)}`);
    }
  });
});

describe('newSecret', () => {
  it('gives 32 random bytes in base64url, different each time', () => {
    const a = newSecret();
    const b = newSecret();
    assert.match(a, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(a, 'base64url').length, 32);
    assert.notEqual(a, b);
  });
});
