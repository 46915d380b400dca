import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { acceptTotp, newTotpSecret, timeStep, totpCode, totpUri } from './totp.js';

const T = new Date('2025-03-01T12:00:10Z');
const at = (steps: number): Date => new Date(T.getTime() + steps * 30_000);

describe('TOTP (RFC 6238, SHA-1, 6 digits, 30 s)', () => {
  const secret = newTotpSecret();

  it('makes a 160-bit base32 secret and an otpauth URI for the app', () => {
    assert.match(secret, /^[A-Z2-7]{32}$/);
    const uri = totpUri(secret, 'dr.grey');
    assert.match(uri, /^otpauth:\/\/totp\/Vigil:dr\.grey\?/);
    assert.match(uri, /algorithm=SHA1/);
    assert.match(uri, /digits=6/);
    assert.match(uri, /period=30/);
  });

  it('matches the RFC 6238 test vector', () => {
    // RFC 6238 appendix B: secret "12345678901234567890", T = 59 s, SHA-1 -> 94287082 (8 digits); 6 digits: 287082.
    const rfc = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
    assert.equal(totpCode(rfc, new Date(59_000)), '287082');
  });

  it('accepts the current code and one step either side, and no further', () => {
    assert.equal(acceptTotp(secret, totpCode(secret, T), T, undefined), timeStep(T));
    assert.equal(acceptTotp(secret, totpCode(secret, at(-1)), T, undefined), timeStep(T) - 1);
    assert.equal(acceptTotp(secret, totpCode(secret, at(1)), T, undefined), timeStep(T) + 1);
    assert.equal(acceptTotp(secret, totpCode(secret, at(-2)), T, undefined), undefined);
    assert.equal(acceptTotp(secret, totpCode(secret, at(2)), T, undefined), undefined);
  });

  it('refuses a replayed code and any code not newer than the last one used', () => {
    const step = acceptTotp(secret, totpCode(secret, T), T, undefined);
    assert.equal(acceptTotp(secret, totpCode(secret, T), T, step), undefined);
    assert.equal(acceptTotp(secret, totpCode(secret, at(-1)), T, step), undefined);
    assert.equal(acceptTotp(secret, totpCode(secret, at(1)), T, step), (step ?? 0) + 1);
  });

  it('refuses wrong and malformed codes without throwing', () => {
    const right = totpCode(secret, T);
    const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, '0');
    for (const code of [wrong, '', '12345', '1234567', 'abcdef', ' 123456', `${right}\n`, 123456, null, undefined]) {
      assert.equal(acceptTotp(secret, code, T, undefined), undefined, String(code));
    }
  });
});
