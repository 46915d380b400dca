import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openAuthFixture, type AuthFixture } from '../testing/auth-fixture.js';
import { Lockout } from './lockout.js';

const MIN = 60_000;

describe('Lockout: per account and per address, persisted, with time', () => {
  let f: AuthFixture;
  let lock: Lockout;
  before(async () => {
    f = await openAuthFixture();
    lock = new Lockout(f.records, { now: f.now });
  });
  after(async () => {
    await f.close();
  });

  it('locks an account after 5 failures for 15 minutes, then 30 on a repeat', async () => {
    const who = { userId: 'u1' };
    for (let i = 0; i < 4; i++) await lock.fail(who, '10.0.0.1');
    assert.deepEqual(await lock.status(who, '10.0.0.9'), { locked: false });
    await lock.fail(who, '10.0.0.2');
    // Locked from every address: the account is what is guessed at.
    assert.deepEqual(await lock.status(who, '10.0.0.9'), { locked: true, retryAfterSeconds: 900 });
    f.advance(15 * MIN);
    assert.deepEqual(await lock.status(who, '10.0.0.9'), { locked: false });
    for (let i = 0; i < 5; i++) await lock.fail(who, '10.0.0.3');
    assert.deepEqual(await lock.status(who, '10.0.0.9'), { locked: true, retryAfterSeconds: 1800 });
    f.advance(30 * MIN);
    assert.equal((await lock.status(who, '10.0.0.9')).locked, false);
  });

  it('failures spread beyond the window do not lock', async () => {
    const who = { userId: 'u2' };
    for (let i = 0; i < 10; i++) {
      await lock.fail(who, `10.1.0.${i}`);
      f.advance(4 * MIN);
    }
    assert.equal((await lock.status(who, '10.1.0.99')).locked, false);
  });

  it('a success clears the account count', async () => {
    const who = { userId: 'u3' };
    for (let i = 0; i < 4; i++) await lock.fail(who, '10.2.0.1');
    await lock.succeed('u3');
    await lock.fail(who, '10.2.0.1');
    assert.equal((await lock.status(who, '10.2.0.1')).locked, false);
  });

  it('blocks an address after 20 failures across many accounts (password spraying)', async () => {
    for (let i = 0; i < 20; i++) await lock.fail({ userId: `spray-${i}` }, '192.0.2.7');
    assert.deepEqual(await lock.status({ userId: 'someone-else' }, '192.0.2.7'), { locked: true, retryAfterSeconds: 900 });
    assert.equal((await lock.status({ userId: 'someone-else' }, '192.0.2.8')).locked, false);
  });

  it('unknown names lock exactly like accounts, so a lockout does not reveal which names exist', async () => {
    for (let i = 0; i < 5; i++) await lock.fail({ unknownName: 'nobody' }, `10.3.0.${i}`);
    assert.deepEqual(await lock.status({ unknownName: 'nobody' }, '10.3.0.99'), { locked: true, retryAfterSeconds: 900 });
  });

  it('survives a restart (a new Lockout on the same records), lists and clears', async () => {
    const again = new Lockout(f.records, { now: f.now });
    assert.equal((await again.status({ unknownName: 'nobody' }, '10.3.0.99')).locked, true);
    const entries = await again.list();
    const entry = entries.find((e) => e.scope === 'unknown-name');
    assert.ok(entry !== undefined && entry.lockedUntil !== null);
    assert.equal(entry.subject, '');
    assert.ok(!JSON.stringify(entries).includes('nobody'));
    assert.equal(await again.clear(entry.key), true);
    assert.equal((await again.status({ unknownName: 'nobody' }, '10.3.0.99')).locked, false);
    assert.equal(await again.clear('no-such-key'), false);
  });
});
