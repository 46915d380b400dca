import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { VigilError } from '../errors.js';
import { exportKeyBackup, importKeyBackup, masterKeyId } from './key-backup.js';

const MASTER = randomBytes(32);
const GENERIC = 'The key backup does not open with this passphrase or recovery key';

function refused(err: unknown): true {
  assert.ok(err instanceof VigilError);
  assert.equal(err.code, 'ERR_BACKUP');
  assert.equal(err.message, GENERIC);
  return true;
}

describe('key backup', () => {
  it('round-trips under a passphrase and under a recovery key, naming the key id', () => {
    const id = masterKeyId(MASTER);
    const text = exportKeyBackup(MASTER, id, { passphrase: 'correct horse battery staple' });
    assert.equal(text.includes(MASTER.toString('base64')), false);
    assert.deepEqual(importKeyBackup(text, { passphrase: 'correct horse battery staple' }), { master: MASTER, keyId: id });
    const rk = randomBytes(32);
    assert.deepEqual(importKeyBackup(exportKeyBackup(MASTER, id, { recoveryKey: rk }), { recoveryKey: rk }).master, MASTER);
  });

  it('refuses a short passphrase at export', () => {
    assert.throws(() => exportKeyBackup(MASTER, 'x', { passphrase: 'short' }), (e: unknown) => e instanceof VigilError && e.code === 'ERR_CONFIG');
  });

  const text = exportKeyBackup(MASTER, masterKeyId(MASTER), { passphrase: 'correct horse battery staple' });
  const edit = (f: (o: Record<string, unknown>) => void): string => {
    const o = JSON.parse(text) as Record<string, unknown>;
    f(o);
    return JSON.stringify(o);
  };
  const cases: [string, string, Parameters<typeof importKeyBackup>[1]][] = [
    ['a wrong passphrase', text, { passphrase: 'correct horse battery stapler' }],
    ['a recovery key for a passphrase backup', text, { recoveryKey: randomBytes(32) }],
    ['a changed key id', edit((o) => (o['keyId'] = '0000000000000000')), { passphrase: 'correct horse battery staple' }],
    ['a weakened KDF', edit((o) => ((o['kdf'] as Record<string, unknown>)['N'] = 1024)), { passphrase: 'correct horse battery staple' }],
    ['a flipped ciphertext byte', edit((o) => (o['sealed'] = `${String(o['sealed']).startsWith('A') ? 'B' : 'A'}${String(o['sealed']).slice(1)}`)), { passphrase: 'correct horse battery staple' }],
    ['another format', edit((o) => (o['format'] = 'vigil-key-backup/v2')), { passphrase: 'correct horse battery staple' }],
    ['not JSON', 'junk', { passphrase: 'correct horse battery staple' }],
  ];
  for (const [name, input, secret] of cases) it(`refuses ${name} with one generic error`, () => assert.throws(() => importKeyBackup(input, secret), refused));
});
