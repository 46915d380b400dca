import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { VigilError } from '../errors.js';
import { openAuthFixture, type AuthFixture } from '../testing/auth-fixture.js';
import { totpCode } from './totp.js';
import { UserDirectory } from './users.js';

const PW = 'tulip-harbor-quiet-47';
const ADMIN_PW = 'lantern-orchard-9-river';

function fails(code: string, message: RegExp): (err: unknown) => true {
  return (err: unknown) => {
    assert.ok(err instanceof VigilError, 'a VigilError');
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  };
}

describe('UserDirectory', () => {
  let f: AuthFixture;
  let users: UserDirectory;
  before(async () => {
    f = await openAuthFixture();
    users = new UserDirectory(f.records, { now: f.now });
  });
  after(async () => {
    await f.close();
  });

  it('adds a user, lower-casing the name; getters never expose the hash or the TOTP secret', async () => {
    const u = await users.add({ username: 'Dr.Grey', roles: ['clinician'], fhirUser: 'Practitioner/17', organizations: ['Organization/org-1'], clearances: ['R', 'PSY'], password: PW });
    assert.equal(u.username, 'dr.grey');
    assert.deepEqual(u.organizations, ['org-1']);
    assert.deepEqual(await users.get(u.id), u);
    assert.deepEqual(await users.byUsername('DR.GREY'), u);
    assert.deepEqual(Object.keys(u).sort(), ['clearances', 'createdAt', 'disabled', 'fhirUser', 'id', 'mfa', 'organizations', 'roles', 'username']);
    assert.deepEqual(u.mfa, { enrolled: false });
  });

  it('refuses bad names, roles, links and passwords, and duplicates', async () => {
    const base = { username: 'nurse.joy', roles: ['nurse'], fhirUser: 'Practitioner/9', password: PW };
    await assert.rejects(users.add({ ...base, username: '-x' }), fails('ERR_BAD_REQUEST', /user name/));
    await assert.rejects(users.add({ ...base, username: 'a b' }), fails('ERR_BAD_REQUEST', /user name/));
    await assert.rejects(users.add({ ...base, roles: ['root'] }), fails('ERR_BAD_REQUEST', /Unknown role/));
    await assert.rejects(users.add({ ...base, roles: ['nurse'], fhirUser: undefined as unknown as string }), fails('ERR_BAD_REQUEST', /needs a Practitioner/));
    await assert.rejects(users.add({ ...base, fhirUser: 'Patient/9' }), fails('ERR_BAD_REQUEST', /cannot be linked to a Patient/));
    await assert.rejects(users.add({ ...base, roles: ['patient'], fhirUser: 'Practitioner/9' }), fails('ERR_BAD_REQUEST', /cannot be linked/));
    await assert.rejects(users.add({ ...base, clearances: ['R', 'bad code!'] }), fails('ERR_BAD_REQUEST', /Clearances/));
    await assert.rejects(users.add({ ...base, password: 'password123' }), fails('ERR_BAD_REQUEST', /common or breached/));
    await assert.rejects(users.add({ ...base, password: 'nurse.joy-is-me' }), fails('ERR_BAD_REQUEST', /user name/));
    await assert.rejects(users.add({ ...base, roles: ['security-admin'], password: 'short-pw-x1' }), fails('ERR_BAD_REQUEST', /at least 12/));
    await assert.rejects(users.add({ ...base, username: 'dr.grey' }), fails('ERR_CONFLICT', /exists/));
    // Two adds of one name at once: exactly one wins.
    const both = await Promise.allSettled([users.add({ ...base, username: 'twin' }), users.add({ ...base, username: 'TWIN' })]);
    assert.equal(both.filter((r) => r.status === 'fulfilled').length, 1);
  });

  it('an unknown user and a wrong password get the same answer; the right one signs in', async () => {
    const unknown = await users.signIn('no.such.user', PW, '198.51.100.1');
    const wrong = await users.signIn('dr.grey', 'not-the-password-1', '198.51.100.1');
    assert.deepEqual(unknown, { ok: false, reason: 'invalid' });
    assert.deepEqual(wrong, unknown);
    const ok = await users.signIn('dr.grey', PW, '198.51.100.1');
    assert.equal(ok.ok, true);
    assert.equal(ok.ok && ok.user.username, 'dr.grey');
  });

  it('locks an account after 5 failures, even for the right password, until time passes', async () => {
    await users.add({ username: 'billing.bob', roles: ['billing'], password: PW });
    for (let i = 0; i < 5; i++) assert.equal((await users.signIn('billing.bob', `wrong-guess-${i}-xx`, `203.0.113.${i}`)).ok, false);
    assert.deepEqual(await users.signIn('billing.bob', PW, '203.0.113.50'), { ok: false, reason: 'locked', retryAfterSeconds: 900 });
    f.advance(15 * 60_000 + 1000);
    assert.equal((await users.signIn('billing.bob', PW, '203.0.113.50')).ok, true);
  });

  it('blocks an address after 20 failures across names', async () => {
    for (let i = 0; i < 20; i++) await users.signIn(`ghost${i}`, 'whatever-password', '192.0.2.99');
    assert.equal((await users.signIn('dr.grey', PW, '192.0.2.99')).ok, false);
    assert.equal((await users.signIn('dr.grey', PW, '192.0.2.100')).ok, true);
  });

  it('a disabled user cannot sign in (same answer as a wrong password); enabling restores it', async () => {
    await users.add({ username: 'temp.staff', roles: ['front-desk'], password: PW });
    await users.disable('temp.staff');
    assert.deepEqual(await users.signIn('temp.staff', PW, '198.51.100.7'), { ok: false, reason: 'invalid' });
    await users.enable('temp.staff');
    assert.equal((await users.signIn('temp.staff', PW, '198.51.100.7')).ok, true);
    await assert.rejects(users.disable('nobody.here'), fails('ERR_NOT_FOUND', /No such user/));
  });

  it('sets roles (checking their links) and passwords', async () => {
    await assert.rejects(users.setRoles('temp.staff', ['clinician']), fails('ERR_BAD_REQUEST', /needs a Practitioner/));
    assert.deepEqual((await users.setRoles('temp.staff', ['billing', 'front-desk'])).roles, ['billing', 'front-desk']);
    await assert.rejects(users.setPassword('temp.staff', '12345678'), fails('ERR_BAD_REQUEST', /common|sequential/));
    await users.setPassword('temp.staff', 'granite-meadow-owl-3');
    assert.equal((await users.signIn('temp.staff', PW, '198.51.100.8')).ok, false);
    assert.equal((await users.signIn('temp.staff', 'granite-meadow-owl-3', '198.51.100.8')).ok, true);
  });

  it('TOTP: privileged users need it; enrol, confirm, verify; replay and wrong codes refused; reset', async () => {
    const admin = await users.add({ username: 'sec.admin', roles: ['security-admin'], password: ADMIN_PW });
    assert.equal(users.mfaRequired(admin), true);
    assert.equal(users.mfaRequired((await users.byUsername('dr.grey')) as never), false);
    const { secret, uri } = await users.beginMfaEnrolment(admin.id);
    assert.match(uri, /^otpauth:\/\/totp\/Vigil:sec\.admin\?.*secret=/);
    assert.equal(await users.confirmMfa(admin.id, '000000'), totpCode(secret, f.now()) === '000000');
    assert.equal(await users.confirmMfa(admin.id, totpCode(secret, f.now())), true);
    assert.equal((await users.get(admin.id))?.mfa.enrolled, true);
    await assert.rejects(users.beginMfaEnrolment(admin.id), fails('ERR_CONFLICT', /already enrolled/));
    // The confirming code cannot be used again to sign in.
    assert.deepEqual(await users.verifyOtp(admin.id, totpCode(secret, f.now()), '198.51.100.9'), { ok: false, reason: 'invalid' });
    f.advance(30_000);
    const code = totpCode(secret, f.now());
    assert.equal((await users.verifyOtp(admin.id, code, '198.51.100.9')).ok, true);
    assert.deepEqual(await users.verifyOtp(admin.id, code, '198.51.100.9'), { ok: false, reason: 'invalid' });
    f.advance(30_000);
    // One step of drift either way is accepted.
    assert.equal((await users.verifyOtp(admin.id, totpCode(secret, new Date(f.now().getTime() + 30_000)), '198.51.100.9')).ok, true);
    const json = JSON.stringify(await users.list());
    assert.ok(!json.includes(secret) && !json.includes('scrypt'));
    await users.mfaReset('sec.admin');
    assert.equal((await users.get(admin.id))?.mfa.enrolled, false);
    assert.equal((await users.verifyOtp(admin.id, totpCode(secret, f.now()), '198.51.100.9')).ok, false);
  });

  it('wrong OTPs count toward the account lockout', async () => {
    const u = await users.add({ username: 'otp.target', roles: ['privacy-officer'], password: ADMIN_PW });
    const { secret } = await users.beginMfaEnrolment(u.id);
    assert.equal(await users.confirmMfa(u.id, totpCode(secret, f.now())), true);
    for (let i = 0; i < 5; i++) await users.verifyOtp(u.id, '999999', `198.18.0.${i}`);
    f.advance(30_000);
    const locked = await users.verifyOtp(u.id, totpCode(secret, f.now()), '198.18.0.50');
    assert.equal(locked.ok === false && locked.reason, 'locked');
  });

  it('a tampered or swapped user record is not accepted (no crash, sign-in fails)', async () => {
    const a = await users.add({ username: 'victim.a', roles: ['billing'], password: PW });
    const b = await users.add({ username: 'attacker.b', roles: ['security-admin'], password: ADMIN_PW });
    const db = new Database(f.dbPath);
    const box = (id: string): Buffer => (db.prepare("SELECT box FROM auth_records WHERE kind = 'user' AND key = ?").get(id) as { box: Buffer }).box;
    // Swap: put b's sealed record (a security-admin) under a's key.
    db.prepare("UPDATE auth_records SET box = ? WHERE kind = 'user' AND key = ?").run(box(b.id), a.id);
    assert.equal(await users.get(a.id), undefined);
    assert.deepEqual(await users.signIn('victim.a', PW, '198.51.100.20'), { ok: false, reason: 'invalid' });
    assert.deepEqual(await users.signIn('victim.a', ADMIN_PW, '198.51.100.20'), { ok: false, reason: 'invalid' });
    // Flip one byte of b's own record.
    const flipped = Buffer.from(box(b.id));
    flipped[flipped.length - 5] = (flipped[flipped.length - 5] ?? 0) ^ 1;
    db.prepare("UPDATE auth_records SET box = ? WHERE kind = 'user' AND key = ?").run(flipped, b.id);
    db.close();
    assert.deepEqual(await users.signIn('attacker.b', ADMIN_PW, '198.51.100.21'), { ok: false, reason: 'invalid' });
    assert.ok(!(await users.list()).some((u) => u.id === a.id || u.id === b.id));
  });

  it('keeps no user name in plaintext in the database', async () => {
    const db = new Database(f.dbPath);
    const rows = db.prepare('SELECT kind, key, box FROM auth_records').all() as { kind: string; key: string; box: Buffer }[];
    db.close();
    const dump = rows.map((r) => `${r.kind} ${r.key} ${r.box.toString('latin1')}`).join('\n');
    for (const name of ['dr.grey', 'billing.bob', 'sec.admin', 'Practitioner/17', 'tulip-harbor']) assert.ok(!dump.includes(name), name);
  });
});
