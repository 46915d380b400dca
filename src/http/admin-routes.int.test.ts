import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestVigil, type TestVigil } from '../testing/harness.js';

const NAME = 'admin.probe.zq';
const PASSWORD = 'velvet-canyon-marble-88';

describe('admin API: users, clients, roles, lockouts (security-admin only)', () => {
  let t: TestVigil;
  let admin: string;
  let clinician: string;
  const call = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown, token: string | null = admin, raw?: string) =>
    t.app.inject({
      method,
      url,
      headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...(body !== undefined || raw !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(raw !== undefined ? { payload: raw } : body === undefined ? {} : { payload: JSON.stringify(body) }),
    });

  before(async () => {
    t = await startTestVigil();
    admin = await t.token('system/*.cruds', ['security-admin']);
    clinician = await t.token('system/*.cruds', ['clinician', 'privacy-officer']);
  });
  after(async () => {
    await t.close();
  });

  it('refuses requests without a token (401) and from anyone without security-admin (403), before any handler runs', async () => {
    const cases: ['GET' | 'POST' | 'PUT' | 'DELETE', string, unknown][] = [
      ['GET', '/admin/users', undefined],
      ['POST', '/admin/users', { username: 'sneaky', roles: ['security-admin'], password: PASSWORD }],
      ['PUT', '/admin/users/x/roles', { roles: ['security-admin'] }],
      ['POST', '/admin/clients', { name: 'x', scopes: 'system/*.cruds' }],
      ['GET', '/admin/lockouts', undefined],
      ['DELETE', '/admin/lockouts/abc', undefined],
      ['GET', '/admin/roles', undefined],
    ];
    for (const [method, url, body] of cases) {
      const anon = await call(method, url, body, null);
      assert.equal(anon.statusCode, 401, `${method} ${url}`);
      assert.equal(anon.json().resourceType, 'OperationOutcome');
      assert.equal((await call(method, url, body, 'not.a.token')).statusCode, 401);
      const other = await call(method, url, body, clinician);
      assert.equal(other.statusCode, 403, `${method} ${url}`);
      assert.match(other.json().issue[0].details.text, /security-admin/);
    }
    assert.equal((await call('GET', '/admin/users')).json().users.length, 0);
  });

  it('adds, reads, disables, enables, re-roles and resets a user; the password is never echoed', async () => {
    const res = await call('POST', '/admin/users', { username: NAME, roles: ['clinician'], fhirUser: 'Practitioner/p1', organizations: ['o1'], clearances: ['R'], password: PASSWORD });
    assert.equal(res.statusCode, 201);
    assert.ok(!res.body.includes(PASSWORD) && !res.body.includes('scrypt'));
    const user = res.json() as { id: string; username: string };
    assert.equal(user.username, NAME);
    assert.equal((await call('GET', `/admin/users/${user.id}`)).json().username, NAME);
    assert.equal((await call('POST', `/admin/users/${user.id}/disable`)).json().disabled, true);
    assert.equal((await call('POST', `/admin/users/${user.id}/enable`)).json().disabled, false);
    assert.deepEqual((await call('PUT', `/admin/users/${user.id}/roles`, { roles: ['clinician', 'researcher'] })).json().roles, ['clinician', 'researcher']);
    assert.equal((await call('POST', `/admin/users/${user.id}/mfa-reset`)).json().mfa.enrolled, false);
    assert.equal((await call('GET', '/admin/users/no-such-id')).statusCode, 404);
    assert.equal((await call('POST', '/admin/users', { username: NAME, roles: ['billing'], password: PASSWORD })).statusCode, 409);
    const roles = (await call('GET', '/admin/roles')).json().roles as { role: string; linkRequired: boolean; mfaRequired: boolean }[];
    assert.deepEqual(roles.find((r) => r.role === 'patient'), { ...roles.find((r) => r.role === 'patient'), linkRequired: true, mfaRequired: false });
    assert.equal(roles.find((r) => r.role === 'security-admin')?.mfaRequired, true);
  });

  it('answers hostile or malformed input with a clear 4xx, never a crash', async () => {
    const bad: [string, string, unknown, string?][] = [
      ['POST', '/admin/users', { username: 'x', roles: ['billing'], password: 'password' }],
      ['POST', '/admin/users', { username: 'weak.one', roles: ['billing'], password: 'password1234' }],
      ['POST', '/admin/users', { username: 'a'.repeat(500), roles: ['billing'], password: PASSWORD }],
      ['POST', '/admin/users', { username: 'ok.name', roles: 'clinician', password: PASSWORD }],
      ['POST', '/admin/users', { username: 'ok.name', roles: ['billing'], password: PASSWORD, isAdmin: true }],
      ['POST', '/admin/users', { username: 'ok.name', roles: ['billing'], password: 12345678901234 }],
      ['POST', '/admin/users', [1, 2, 3]],
      ['POST', '/admin/users', undefined, '{"username":'],
      ['POST', '/admin/users', undefined, '{"__proto__":{"roles":["security-admin"]}}'],
      ['PUT', '/admin/users/x/roles', { roles: ['god'] }],
      ['POST', '/admin/clients', { name: 'x', scopes: 'system/*.cruds', redirectUris: ['javascript:alert(1)'], grants: ['authorization_code'] }],
      ['POST', '/admin/clients', { name: 'x', scopes: 'system/*.cruds', public: 'yes' }],
      ['POST', '/admin/clients', { name: 'x' }],
      ['DELETE', '/admin/lockouts/../../etc', undefined],
    ];
    for (const [method, url, body, raw] of bad) {
      const res = await call(method as 'POST', url, body, admin, raw);
      assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${method} ${url} ${JSON.stringify(body) ?? raw} -> ${res.statusCode}`);
      assert.ok(!res.body.includes(PASSWORD));
    }
  });

  it('registers, lists, disables and enables clients; the secret is shown once', async () => {
    const made = await call('POST', '/admin/clients', { name: 'lab feed', scopes: 'system/Observation.c', roles: [] });
    assert.equal(made.statusCode, 201);
    const { clientId, clientSecret } = made.json() as { clientId: string; clientSecret: string };
    assert.equal(typeof clientSecret, 'string');
    const listed = (await call('GET', '/admin/clients')).body;
    assert.ok(listed.includes(clientId) && !listed.includes(clientSecret));
    assert.equal((await call('POST', `/admin/clients/${clientId}/disable`)).json().disabled, true);
    assert.equal(await t.vigil.clients.lookup(clientId), undefined);
    assert.equal((await call('POST', `/admin/clients/${clientId}/enable`)).json().disabled, false);
    const app = await call('POST', '/admin/clients', { name: 'portal', scopes: 'patient/*.rs openid fhirUser', grants: ['authorization_code'], redirectUris: ['https://portal.example/cb'], public: true });
    assert.equal(app.statusCode, 201);
    assert.equal(app.json().clientSecret, undefined);
    assert.equal((await call('POST', '/admin/clients/nope/disable')).statusCode, 404);
  });

  it('lists lockouts and clears one', async () => {
    for (let i = 0; i < 5; i++) await t.vigil.users.signIn(NAME, `wrong-guess-${i}-abc`, '10.9.8.7');
    assert.equal((await t.vigil.users.signIn(NAME, PASSWORD, '10.9.8.6')).ok, false);
    const lockouts = (await call('GET', '/admin/lockouts')).json().lockouts as { key: string; scope: string; lockedUntil: string | null }[];
    const account = lockouts.find((l) => l.scope === 'account' && l.lockedUntil !== null);
    assert.ok(account !== undefined);
    assert.equal((await call('DELETE', `/admin/lockouts/${account.key}`)).statusCode, 204);
    assert.equal((await call('DELETE', `/admin/lockouts/${account.key}`)).statusCode, 404);
    assert.equal((await t.vigil.users.signIn(NAME, PASSWORD, '10.9.8.6')).ok, true);
  });

  it('audits each admin action as a security event with a precise subtype, ids only; no user name or password anywhere on disk or in the logs', async () => {
    const rows = await t.vigil.store.readAuditBySeq(0, 10_000);
    const subtypes = new Set(rows.map((r) => r.subtype));
    for (const s of ['user-add', 'user-disable', 'user-enable', 'user-roles', 'mfa-reset', 'client-add', 'client-disable', 'lockout-clear', 'lockout-list']) assert.ok(subtypes.has(s), s);
    const bodies = rows.map((r) => r.body).join('\n');
    assert.ok(!bodies.includes(NAME) && !bodies.includes(PASSWORD));
    assert.ok(!t.logs.join('').includes(NAME) && !t.logs.join('').includes(PASSWORD));
    // grep the whole data directory (database, WAL, keys): neither appears in plaintext.
    for (const file of readdirSync(t.dir)) {
      const bytes = readFileSync(join(t.dir, file));
      assert.ok(!bytes.includes(NAME) && !bytes.includes(PASSWORD), file);
    }
  });
});
