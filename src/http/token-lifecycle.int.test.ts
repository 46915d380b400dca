import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT, decodeJwt, generateKeyPair } from 'jose';
import { BOOTSTRAP_FILE } from '../auth/index.js';
import { startTestVigil, type TestVigil } from '../testing/harness.js';
import { TestBrowser, pkcePair, signIn, tokenRequest } from './oauth-test-flow.js';

const PASSWORD = 'amber-meadow-compass-77';
const REDIRECT = 'https://app.example/cb';

interface Tokens {
  access_token: string;
  refresh_token: string;
  scope: string;
}

describe('refresh rotation, sessions, logout, revocation and introspection', () => {
  let t: TestVigil;
  let clock = Date.parse('2030-01-01T08:00:00Z');
  let app: { clientId: string };
  let admin: { client_id: string; client_secret: string };
  let user: { id: string };
  before(async () => {
    t = await startTestVigil({ now: () => new Date(clock), env: { VIGIL_TOKEN_RATE_LIMIT: '10000', VIGIL_SESSION_IDLE: '15', VIGIL_SESSION_MAX: '60' } });
    admin = JSON.parse(readFileSync(join(t.dir, BOOTSTRAP_FILE), 'utf8')) as typeof admin;
    app = await t.vigil.clients.create({ name: 'app', scopes: 'online_access offline_access user/*.rs user/Observation.rs', roles: [], grants: ['authorization_code', 'refresh_token'], redirectUris: [REDIRECT], public: true });
    user = await t.vigil.users.add({ username: 'doc', roles: ['clinician'], fhirUser: 'Practitioner/pr-1', password: PASSWORD });
  });
  after(async () => {
    await t.close();
  });

  const login = async (): Promise<Tokens & { browser: TestBrowser }> => {
    const { verifier, challenge } = pkcePair();
    const browser = new TestBrowser(t.app);
    const { code } = await signIn(browser, { clientId: app.clientId, redirectUri: REDIRECT, scope: 'offline_access user/*.rs', challenge, aud: t.config.fhirBaseUrl, username: 'doc', password: PASSWORD });
    const res = await tokenRequest(t.app, { grant_type: 'authorization_code', code: code ?? '', redirect_uri: REDIRECT, client_id: app.clientId, code_verifier: verifier });
    assert.equal(res.statusCode, 200, res.body);
    return { ...(JSON.parse(res.body) as Tokens), browser };
  };
  const refresh = (token: string, extra: Record<string, string> = {}) => tokenRequest(t.app, { grant_type: 'refresh_token', refresh_token: token, client_id: app.clientId, ...extra });
  const works = async (access: string): Promise<boolean> => (await t.fhir('GET', '/fhir/metadata', { token: access })).statusCode !== 401 && (await introspect(access))['active'] === true;
  const introspect = async (token: string): Promise<Record<string, unknown>> => {
    const res = await tokenRequest(t.app, { token, client_id: admin.client_id, client_secret: admin.client_secret }, {}, '/oauth2/introspect');
    assert.equal(res.statusCode, 200);
    return JSON.parse(res.body) as Record<string, unknown>;
  };

  it('rotates refresh tokens, narrows scope only, and treats reuse as theft (family revoked, session ended)', async () => {
    const first = await login();
    const r1 = await refresh(first.refresh_token);
    assert.equal(r1.statusCode, 200, r1.body);
    const second = JSON.parse(r1.body) as Tokens;
    assert.notEqual(second.refresh_token, first.refresh_token);
    const narrowed = JSON.parse((await refresh(second.refresh_token, { scope: 'user/Patient.rs' })).body) as Tokens;
    assert.equal(narrowed.scope, 'user/Patient.rs');
    assert.equal((await refresh(narrowed.refresh_token, { scope: 'user/*.cruds' })).statusCode, 400, 'scope may not widen');
    const other = await tokenRequest(t.app, { grant_type: 'refresh_token', refresh_token: narrowed.refresh_token, client_id: admin.client_id, client_secret: admin.client_secret });
    assert.equal(other.statusCode, 400, 'another client may not use it');
    assert.ok(await works(first.access_token));
    // The attacker replays the spent first token: everything of that sign-in dies.
    const reuse = await refresh(first.refresh_token);
    assert.equal(reuse.statusCode, 400);
    assert.equal((JSON.parse(reuse.body) as { error: string }).error, 'invalid_grant');
    assert.equal((await refresh(narrowed.refresh_token)).statusCode, 400, 'the newest token of the family is revoked too');
    assert.equal(await works(first.access_token), false, 'the session ended, so its access tokens stopped');
    assert.deepEqual(await introspect(second.access_token), { active: false });
  });

  it('logs off after the idle time and at the absolute lifetime', async () => {
    const a = await login();
    clock += 14 * 60_000;
    assert.ok(await works(a.access_token.length > 0 ? (JSON.parse((await refresh(a.refresh_token)).body) as Tokens).access_token : ''));
    clock += 16 * 60_000;
    assert.equal((await refresh(a.refresh_token)).statusCode, 400, 'idle for 16 minutes: the session is over');

    const b = await login();
    let token = b.refresh_token;
    for (let i = 0; i < 4; i++) {
      clock += 14 * 60_000;
      const res = await refresh(token);
      assert.equal(res.statusCode, 200, `refresh ${i}`);
      token = (JSON.parse(res.body) as Tokens).refresh_token;
    }
    clock += 5 * 60_000;
    assert.equal((await refresh(token)).statusCode, 400, 'past the 60-minute absolute lifetime');
  });

  it('logout (by token or by cookie) stops access and refresh tokens at once', async () => {
    const a = await login();
    const out = await t.app.inject({ method: 'POST', url: '/oauth2/logout', headers: { authorization: `Bearer ${a.access_token}` } });
    assert.equal(out.statusCode, 200);
    assert.equal(await works(a.access_token), false);
    assert.equal((await refresh(a.refresh_token)).statusCode, 400);

    const b = await login();
    const viaCookie = await t.app.inject({ method: 'POST', url: '/oauth2/logout', headers: b.browser.cookieHeader() });
    assert.equal(viaCookie.statusCode, 200);
    assert.match(String(viaCookie.headers['set-cookie']), /Max-Age=0/);
    assert.equal(await works(b.access_token), false);
    assert.equal((await t.app.inject({ method: 'POST', url: '/oauth2/logout' })).statusCode, 401);
  });

  it('a disabled user’s tokens stop working', async () => {
    await t.vigil.users.add({ username: 'temp', roles: ['clinician'], fhirUser: 'Practitioner/pr-2', password: PASSWORD });
    const { verifier, challenge } = pkcePair();
    const { code } = await signIn(new TestBrowser(t.app), { clientId: app.clientId, redirectUri: REDIRECT, scope: 'offline_access user/*.rs', challenge, aud: t.config.fhirBaseUrl, username: 'temp', password: PASSWORD });
    const tokens = JSON.parse((await tokenRequest(t.app, { grant_type: 'authorization_code', code: code ?? '', redirect_uri: REDIRECT, client_id: app.clientId, code_verifier: verifier })).body) as Tokens;
    assert.ok(await works(tokens.access_token));
    await t.vigil.users.disable('temp');
    assert.equal(await works(tokens.access_token), false);
    assert.equal((await refresh(tokens.refresh_token)).statusCode, 400);
  });

  it('revokes access tokens by jti and refresh tokens by family; always 200', async () => {
    const a = await login();
    const revoke = (token: string) => tokenRequest(t.app, { token, client_id: app.clientId }, {}, '/oauth2/revoke');
    assert.equal((await revoke(a.access_token)).statusCode, 200);
    assert.equal(await works(a.access_token), false);
    assert.equal((await revoke(a.refresh_token)).statusCode, 200);
    assert.equal((await refresh(a.refresh_token)).statusCode, 400);
    assert.equal((await revoke('not-a-token')).statusCode, 200);
    // Another client cannot revoke this client's tokens.
    const b = await login();
    const foreign = await tokenRequest(t.app, { token: b.access_token, client_id: admin.client_id, client_secret: admin.client_secret }, {}, '/oauth2/revoke');
    assert.equal(foreign.statusCode, 200);
    assert.ok(await works(b.access_token));
  });

  it('introspects live tokens and answers only active:false for expired, revoked or forged ones', async () => {
    const a = await login();
    const info = await introspect(a.access_token);
    assert.equal(info['active'], true);
    assert.equal(info['sub'], user.id);
    assert.equal(info['client_id'], app.clientId);
    assert.equal(info['fhirUser'], 'Practitioner/pr-1');
    assert.equal(info['token_type'], 'Bearer');
    assert.equal(typeof info['exp'], 'number');
    assert.equal((await introspect(a.refresh_token))['token_type'], 'refresh_token');
    const { privateKey } = await generateKeyPair('EdDSA');
    const claims = decodeJwt(a.access_token);
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: 'x' }).sign(privateKey);
    assert.deepEqual(await introspect(forged), { active: false });
    assert.deepEqual(await introspect('garbage'), { active: false });
    clock += 6 * 60_000;
    assert.deepEqual(await introspect(a.access_token), { active: false }, 'expired');
    // A public client may not introspect; nor may an unauthenticated caller.
    const pub = await tokenRequest(t.app, { token: a.refresh_token, client_id: app.clientId }, {}, '/oauth2/introspect');
    assert.equal(pub.statusCode, 401);
    const noAdmin = await t.app.inject({ method: 'POST', url: '/oauth2/introspect', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${(await login()).access_token}` }, payload: 'token=x' });
    assert.equal(noAdmin.statusCode, 403);
  });
});
