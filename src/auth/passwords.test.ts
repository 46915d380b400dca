import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VigilError } from '../errors.js';
import { assertAcceptablePassword, hashPassword, passwordProblems, verifyPassword } from './passwords.js';

describe('password rules (NIST SP 800-63B)', () => {
  it('refuses short passwords: 8 at least, 12 for privileged roles; at most 128', () => {
    assert.match(passwordProblems('Xk9#mQ2')[0] ?? '', /at least 8/);
    assert.deepEqual(passwordProblems('Xk9#mQ2v'), []);
    assert.match(passwordProblems('Xk9#mQ2vLp', { privileged: true })[0] ?? '', /at least 12 characters for a privileged role/);
    assert.deepEqual(passwordProblems('Xk9#mQ2vLpTr', { privileged: true }), []);
    assert.match(passwordProblems('x'.repeat(129))[0] ?? '', /at most 128/);
    assert.match(passwordProblems(12345678)[0] ?? '', /must be a string/);
  });

  it('has no composition rules: a long lower-case passphrase is fine', () => {
    assert.deepEqual(passwordProblems('correct horse battery staple'), []);
    assert.deepEqual(passwordProblems('ünïcödé wörds stay fine'), []);
  });

  it('refuses common and breached passwords from the shipped list, whatever the case, and with digits tacked on', () => {
    for (const pw of ['password', 'PassWord1', 'iloveyou', 'qwertyuiop', 'trustno1', 'Baseball', 'sunshine2024!', '1qaz2wsx']) {
      assert.ok(passwordProblems(pw).some((p) => /common or breached/.test(p)), pw);
    }
  });

  it('refuses passwords containing the user name or the service name', () => {
    assert.ok(passwordProblems('my-dr.grey-pass', { username: 'dr.grey' }).some((p) => /user name/.test(p)));
    assert.ok(passwordProblems('xx-JANE-2024-yy', { username: 'jane@clinic.example' }).some((p) => /user name/.test(p)));
    assert.ok(passwordProblems('myvigilpass77').some((p) => /service/.test(p)));
  });

  it('refuses repeated and sequential trivial passwords', () => {
    for (const pw of ['aaaaaaaa', 'zzzzzzzzzzzz', '12345678', '87654321', 'abcdefghij', 'abcabcabc', '12121212', 'xyzxyzxyzx']) {
      assert.ok(passwordProblems(pw).some((p) => /repeated or sequential|common/.test(p)), pw);
    }
  });

  it('names every problem in one ERR_BAD_REQUEST without quoting the password', () => {
    assert.throws(
      () => assertAcceptablePassword('dr.grey-aaaa', { username: 'dr.grey' }),
      (err: unknown) => err instanceof VigilError && err.code === 'ERR_BAD_REQUEST' && /user name/.test(err.message) && !err.message.includes('aaaa'),
    );
  });

  it('hashes with scrypt and verifies the NFKC form', async () => {
    const hash = await hashPassword('ﬁsh and chips forever');
    assert.match(hash, /^scrypt\$/);
    assert.ok(!hash.includes('chips'));
    assert.equal(await verifyPassword('fish and chips forever', hash), true);
    assert.equal(await verifyPassword('fish and chips forevex', hash), false);
  });
});
