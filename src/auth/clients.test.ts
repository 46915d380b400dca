import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { VigilError } from '../errors.js';
import { openAuthFixture, type AuthFixture } from '../testing/auth-fixture.js';

function refused(message: RegExp): (err: unknown) => true {
  return (err: unknown) => {
    assert.ok(err instanceof VigilError);
    assert.equal(err.code, 'ERR_BAD_REQUEST');
    assert.match(err.message, message);
    return true;
  };
}

describe('ClientRegistry: settings, lookup, disable', () => {
  let f: AuthFixture;
  before(async () => {
    f = await openAuthFixture();
  });
  after(async () => {
    await f.close();
  });

  it('a machine client keeps the defaults and authenticates with its secret', async () => {
    const { clientId, clientSecret } = await f.clients.create({ name: 'feed', scopes: 'system/Observation.c', roles: [] });
    const c = await f.clients.lookup(clientId);
    assert.deepEqual(c, { clientId, name: 'feed', scopes: 'system/Observation.c', roles: [], grants: ['client_credentials'], redirectUris: [], public: false, disabled: false });
    assert.ok(await f.clients.authenticate(clientId, clientSecret));
  });

  it('a public app gets no secret; its redirect URIs and grants come back from lookup', async () => {
    const made = await f.clients.create({
      name: 'portal',
      scopes: 'openid fhirUser launch/patient patient/*.rs offline_access',
      roles: ['patient'],
      grants: ['authorization_code', 'refresh_token'],
      redirectUris: ['https://app.example/cb', 'http://127.0.0.1:8123/cb'],
      public: true,
    });
    assert.equal(made.clientSecret, undefined);
    const c = await f.clients.lookup(made.clientId);
    assert.deepEqual(c?.grants, ['authorization_code', 'refresh_token']);
    assert.deepEqual(c?.redirectUris, ['https://app.example/cb', 'http://127.0.0.1:8123/cb']);
    assert.equal(c?.public, true);
    assert.equal(await f.clients.authenticate(made.clientId, ''), undefined);
  });

  it('a client with a JWKS URL gets no secret and is listed as private_key_jwt', async () => {
    const made = await f.clients.create({ name: 'backend', scopes: 'system/*.rs', roles: [], jwksUrl: 'https://keys.example/jwks.json' });
    assert.equal(made.clientSecret, undefined);
    assert.equal((await f.clients.lookup(made.clientId))?.jwksUrl, 'https://keys.example/jwks.json');
    assert.equal((await f.clients.list()).find((c) => c.clientId === made.clientId)?.authMethod, 'private_key_jwt');
  });

  it('refuses unsafe or unusable registrations', async () => {
    const base = { name: 'x', scopes: 'user/*.rs', roles: [] as string[] };
    const code = { grants: ['authorization_code'] as const };
    await assert.rejects(f.clients.create({ ...base, ...code, redirectUris: ['http://evil.example/cb'] }), refused(/https/));
    await assert.rejects(f.clients.create({ ...base, ...code, redirectUris: ['https://a.example/cb#frag'] }), refused(/fragment/));
    await assert.rejects(f.clients.create({ ...base, ...code, redirectUris: ['/relative'] }), refused(/absolute/));
    await assert.rejects(f.clients.create({ ...base, ...code, redirectUris: ['https://u:p@a.example/cb'] }), refused(/credentials/));
    await assert.rejects(f.clients.create({ ...base, ...code, redirectUris: ['javascript:alert(1)'] }), refused(/https/));
    await assert.rejects(f.clients.create({ ...base, ...code }), refused(/redirect URI/));
    await assert.rejects(f.clients.create({ ...base, redirectUris: ['https://a.example/cb'] }), refused(/only for the authorization_code/));
    await assert.rejects(f.clients.create({ ...base, public: true }), refused(/public client cannot/));
    await assert.rejects(f.clients.create({ ...base, jwksUrl: 'http://keys.example/jwks' }), refused(/https/));
    await assert.rejects(f.clients.create({ ...base, grants: ['password' as 'client_credentials'] }), refused(/Unknown grant/));
    await assert.rejects(f.clients.create({ ...base, roles: ['root'] }), refused(/Unknown role/));
    await assert.rejects(f.clients.create({ ...base, scopes: 'everything' }), refused(/SMART scopes/));
    await assert.rejects(f.clients.create({ ...base, name: 'a\nb' }), refused(/name/));
  });

  it('a disabled client is not looked up and cannot authenticate; enabling restores it', async () => {
    const { clientId, clientSecret } = await f.clients.create({ name: 'temp', scopes: 'system/Patient.r', roles: [] });
    await f.clients.disable(clientId);
    assert.equal(await f.clients.lookup(clientId), undefined);
    assert.equal(await f.clients.authenticate(clientId, clientSecret), undefined);
    assert.equal((await f.clients.list()).find((c) => c.clientId === clientId)?.disabled, true);
    await f.clients.enable(clientId);
    assert.equal((await f.clients.lookup(clientId))?.disabled, false);
    assert.ok(await f.clients.authenticate(clientId, clientSecret));
    await assert.rejects(f.clients.disable('no-such-client'), (e: unknown) => e instanceof VigilError && e.code === 'ERR_NOT_FOUND');
  });

  it('a row edited in the database (wider scopes, other redirect URIs) is refused and not re-MACed', async () => {
    const a = await f.clients.create({ name: 'narrow', scopes: 'system/Patient.r', roles: [] });
    const b = await f.clients.create({ name: 'app', scopes: 'user/*.rs', roles: [], grants: ['authorization_code'], redirectUris: ['https://good.example/cb'] });
    const db = new Database(f.dbPath);
    db.prepare("UPDATE oauth_clients SET scopes = 'system/*.cruds' WHERE client_id = ?").run(a.clientId);
    db.prepare("UPDATE oauth_clients SET settings = replace(settings, 'good.example', 'evil.example') WHERE client_id = ?").run(b.clientId);
    db.close();
    assert.equal(await f.clients.lookup(a.clientId), undefined);
    assert.equal(await f.clients.lookup(b.clientId), undefined);
    assert.equal(await f.clients.authenticate(a.clientId, a.clientSecret), undefined);
    assert.equal((await f.clients.list()).find((c) => c.clientId === a.clientId)?.intact, false);
    await assert.rejects(f.clients.enable(a.clientId), (e: unknown) => e instanceof VigilError && e.code === 'ERR_INTEGRITY');
    assert.equal(await f.clients.lookup(''), undefined);
    assert.equal(await f.clients.lookup('x'.repeat(1000)), undefined);
  });
});
