import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { totpCode } from '../auth/totp.js';
import { startTestVigil, type TestVigil } from '../testing/harness.js';
import { TestBrowser, authorizeUrl, csrfOf, pkcePair, signIn, tokenRequest } from './oauth-test-flow.js';

const PASSWORD = 'violet-harbour-lantern-42';
const REDIRECT = 'https://app.example/callback';

describe('OAuth2 authorization code flow with PKCE', () => {
  let t: TestVigil;
  let app: { clientId: string };
  let aud: string;
  let patientUser: { id: string };
  before(async () => {
    t = await startTestVigil({ env: { VIGIL_TOKEN_RATE_LIMIT: '10000' } });
    aud = t.config.fhirBaseUrl;
    app = await t.vigil.clients.create({
      name: 'Patient <App>',
      scopes: 'openid fhirUser launch/patient offline_access patient/*.rs user/*.rs',
      roles: [],
      grants: ['authorization_code', 'refresh_token'],
      redirectUris: [REDIRECT],
      public: true,
    });
    patientUser = await t.vigil.users.add({ username: 'pat', roles: ['patient'], fhirUser: 'Patient/p-1', password: PASSWORD });
  });
  after(async () => {
    await t.close();
  });

  const flow = (over: Partial<Parameters<typeof signIn>[1]> = {}) => {
    const { verifier, challenge } = pkcePair();
    const browser = new TestBrowser(t.app);
    const run = signIn(browser, { clientId: app.clientId, redirectUri: REDIRECT, scope: 'launch/patient patient/*.rs offline_access openid', challenge, aud, username: 'pat', password: PASSWORD, ...over });
    return { verifier, browser, run };
  };
  const exchange = (code: string, verifier: string | undefined, extra: Record<string, string> = {}) =>
    tokenRequest(t.app, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: app.clientId, ...(verifier === undefined ? {} : { code_verifier: verifier }), ...extra });

  it('signs in, asks consent, and exchanges the code for a token bound to the user, session and patient', async () => {
    const { verifier, run } = flow();
    const { location, code, consent } = await run;
    assert.match(consent, /Patient &#60;App&#62;/, 'the client name is escaped on the page');
    const back = new URL(location);
    assert.equal(`${back.origin}${back.pathname}`, REDIRECT);
    assert.equal(back.searchParams.get('state'), 'st-1');
    assert.equal(back.searchParams.get('iss'), t.config.publicUrl);
    assert.ok(code !== undefined);
    const res = await exchange(code, verifier);
    assert.equal(res.statusCode, 200, res.body);
    const body = JSON.parse(res.body) as Record<string, string>;
    assert.equal(body['patient'], 'p-1');
    assert.equal(body['token_type'], 'Bearer');
    assert.deepEqual(body['scope']?.split(' ').sort(), ['launch/patient', 'offline_access', 'openid', 'patient/*.rs']);
    assert.ok((body['refresh_token'] ?? '').length >= 43);
    const claims = decodeJwt(body['access_token'] ?? '');
    assert.equal(claims.sub, patientUser.id);
    assert.equal(claims['patient'], 'p-1');
    assert.equal(claims['fhirUser'], 'Patient/p-1');
    assert.equal(claims['client_id'], app.clientId);
    assert.equal(typeof claims['sid'], 'string');
    assert.deepEqual(claims['roles'], ['patient']);
    // The token works on the server (the policy then decides what it may read).
    const meta = await t.fhir('GET', '/fhir/metadata', { token: body['access_token'] ?? '' });
    assert.notEqual(meta.statusCode, 401);
    assert.ok(!t.logs.join('').includes(code), 'the code is never logged');
    assert.ok(!t.logs.join('').includes(PASSWORD), 'the password is never logged');
  });

  it('refuses every PKCE variant that is not a matching S256 verifier', async () => {
    const { challenge } = pkcePair();
    const browser = new TestBrowser(t.app);
    for (const [method, ch] of [['', challenge], ['plain', challenge], ['S256', ''], ['S256', 'short'], ['s256', challenge]] as const) {
      const res = await browser.get(authorizeUrl({ clientId: app.clientId, redirectUri: REDIRECT, scope: 'patient/*.rs', challenge: ch, aud, method }));
      assert.equal(res.statusCode, 302, `${method}/${ch}`);
      const loc = new URL(String(res.headers.location));
      assert.equal(loc.searchParams.get('error'), 'invalid_request');
      assert.equal(loc.searchParams.get('state'), 'st-1');
    }
    const other = flow();
    const otherCode = (await other.run).code ?? '';
    for (const bad of [undefined, '', ' ', 'x'.repeat(42), `${other.verifier}x`, pkcePair().verifier, 'é'.repeat(43)]) {
      const { verifier: _v, run } = flow();
      const code = (await run).code ?? '';
      const res = await exchange(code, bad);
      assert.equal(res.statusCode, 400, String(bad));
      assert.equal((JSON.parse(res.body) as { error: string }).error, 'invalid_grant');
      // The code was spent by the failed attempt: the right verifier no longer helps.
      assert.equal((await exchange(code, _v)).statusCode, 400);
    }
    // A verifier for another code does not fit this one.
    const third = flow();
    assert.equal((await exchange((await third.run).code ?? '', other.verifier)).statusCode, 400);
    assert.equal((await exchange(otherCode, other.verifier)).statusCode, 200);
  });

  it('refuses a replayed code and revokes the tokens the first use produced', async () => {
    const { verifier, run } = flow();
    const code = (await run).code ?? '';
    const first = JSON.parse((await exchange(code, verifier)).body) as { access_token: string; refresh_token: string };
    assert.notEqual((await t.fhir('GET', '/fhir/metadata', { token: first.access_token })).statusCode, 401);
    const again = await exchange(code, verifier);
    assert.equal(again.statusCode, 400);
    assert.equal((JSON.parse(again.body) as { error: string }).error, 'invalid_grant');
    const probe = await t.fhir('GET', '/fhir/Patient/p-1', { token: first.access_token });
    assert.equal(probe.statusCode, 401, 'the access token from the first use is revoked');
    const refresh = await tokenRequest(t.app, { grant_type: 'refresh_token', refresh_token: first.refresh_token, client_id: app.clientId });
    assert.equal(refresh.statusCode, 400, 'its refresh token family is revoked');
  });

  it('never redirects for an unknown client or an unregistered redirect URI', async () => {
    const browser = new TestBrowser(t.app);
    const { challenge } = pkcePair();
    for (const [clientId, redirectUri] of [
      ['no-such-client', REDIRECT],
      [app.clientId, 'https://evil.example/callback'],
      [app.clientId, `${REDIRECT}/`],
      [app.clientId, `${REDIRECT}?x=1`],
    ] as const) {
      const res = await browser.get(authorizeUrl({ clientId, redirectUri, scope: 'patient/*.rs', challenge, aud }));
      assert.equal(res.statusCode, 400);
      assert.equal(res.headers.location, undefined);
      assert.match(String(res.headers['content-type']), /text\/html/);
      assert.ok(!res.body.includes('evil.example'));
    }
  });

  it('refuses a wrong aud and a mismatched redirect_uri at the token endpoint', async () => {
    const browser = new TestBrowser(t.app);
    const { challenge } = pkcePair();
    const res = await browser.get(authorizeUrl({ clientId: app.clientId, redirectUri: REDIRECT, scope: 'patient/*.rs', challenge, aud: 'https://other.example/fhir' }));
    assert.equal(res.statusCode, 302);
    assert.equal(new URL(String(res.headers.location)).searchParams.get('error'), 'invalid_request');
    const { verifier, run } = flow();
    const code = (await run).code ?? '';
    const wrong = await tokenRequest(t.app, { grant_type: 'authorization_code', code, redirect_uri: 'https://app.example/other', client_id: app.clientId, code_verifier: verifier });
    assert.equal(wrong.statusCode, 400);
  });

  it('refuses a form post with a missing or wrong CSRF token, or from another browser', async () => {
    const browser = new TestBrowser(t.app);
    const { challenge } = pkcePair();
    const page = await browser.get(authorizeUrl({ clientId: app.clientId, redirectUri: REDIRECT, scope: 'patient/*.rs', challenge, aud }));
    const csrf = csrfOf(page.body);
    assert.match(String(page.headers['content-security-policy']), /form-action 'self'/);
    const creds: [string, string][] = [['username', 'pat'], ['password', PASSWORD]];
    assert.equal((await browser.post('/oauth2/authorize', creds)).statusCode, 403);
    assert.equal((await browser.post('/oauth2/authorize', [['csrf', 'A'.repeat(43)], ...creds])).statusCode, 403);
    const stranger = new TestBrowser(t.app);
    assert.equal((await stranger.post('/oauth2/authorize', [['csrf', csrf], ...creds])).statusCode, 403);
    // The stranger's attempt spent the token: the page must be opened again.
    assert.equal((await browser.post('/oauth2/authorize', [['csrf', csrf], ...creds])).statusCode, 403);
  });

  it('grants only the scopes left checked, and reports a failed sign-in without saying why', async () => {
    const { verifier, run } = flow({ uncheck: ['offline_access', 'launch/patient'] });
    const body = JSON.parse((await exchange((await run).code ?? '', verifier)).body) as Record<string, string>;
    assert.equal(body['scope'], 'patient/*.rs openid');
    assert.equal(body['refresh_token'], undefined);
    assert.equal(body['patient'], undefined);
    const browser = new TestBrowser(t.app);
    const page = await browser.get(authorizeUrl({ clientId: app.clientId, redirectUri: REDIRECT, scope: 'patient/*.rs system/*.cruds', challenge: pkcePair().challenge, aud }));
    const bad = await browser.post('/oauth2/authorize', [['csrf', csrfOf(page.body)], ['username', 'pat'], ['password', 'wrong-password-123']]);
    assert.equal(bad.statusCode, 401);
    assert.match(bad.body, /name="password"/);
    const unknown = await browser.post('/oauth2/authorize', [['csrf', csrfOf(bad.body)], ['username', 'nobody'], ['password', 'wrong-password-123']]);
    assert.equal(unknown.body.replace(/value="[^"]+"/g, ''), bad.body.replace(/value="[^"]+"/g, ''), 'unknown user and wrong password look alike');
    const good = await browser.post('/oauth2/authorize', [['csrf', csrfOf(unknown.body)], ['username', 'pat'], ['password', PASSWORD]]);
    assert.ok(!good.body.includes('system/'), 'a user is never offered system scopes');
  });

  it('requires the second factor for a privileged role: enrolment, wrong and replayed codes refused', async () => {
    let now = Date.now();
    const u = await t.vigil.users.add({ username: 'sec', roles: ['security-admin'], password: `${PASSWORD}-admin` });
    const client = await t.vigil.clients.create({ name: 'console', scopes: 'user/*.rs', roles: [], grants: ['authorization_code'], redirectUris: [REDIRECT], public: true });
    const browser = new TestBrowser(t.app);
    const { verifier, challenge } = pkcePair();
    const login = await browser.get(authorizeUrl({ clientId: client.clientId, redirectUri: REDIRECT, scope: 'user/*.rs', challenge, aud }));
    const enrol = await browser.post('/oauth2/authorize', [['csrf', csrfOf(login.body)], ['username', 'sec'], ['password', `${PASSWORD}-admin`]]);
    assert.match(enrol.body, /name="otp"/);
    assert.ok(!enrol.body.includes('name="scope"'), 'no consent (and no code) before the second factor');
    const secret = /Key: <code>([A-Z2-7]+)<\/code>/.exec(enrol.body)?.[1] ?? '';
    assert.ok(secret.length >= 16);
    const wrong = await browser.post('/oauth2/authorize', [['csrf', csrfOf(enrol.body)], ['otp', '000000']]);
    assert.equal(wrong.statusCode, 401);
    assert.ok(wrong.body.includes(secret), 'the same secret is shown again');
    const code1 = totpCode(secret, new Date(now));
    const consent = await browser.post('/oauth2/authorize', [['csrf', csrfOf(wrong.body)], ['otp', code1]]);
    assert.match(consent.body, /name="scope"/);
    const redirect = await browser.post('/oauth2/authorize', [['csrf', csrfOf(consent.body)], ['scope', 'user/*.rs'], ['decision', 'allow']]);
    const code = new URL(String(redirect.headers.location)).searchParams.get('code') ?? '';
    const res = await tokenRequest(t.app, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: client.clientId, code_verifier: verifier });
    assert.equal(res.statusCode, 200);
    assert.equal(decodeJwt((JSON.parse(res.body) as { access_token: string }).access_token).sub, u.id);

    // Next sign-in (new browser): the OTP form; the code used for enrolment is refused as a replay.
    const b2 = new TestBrowser(t.app);
    const p2 = await b2.get(authorizeUrl({ clientId: client.clientId, redirectUri: REDIRECT, scope: 'user/*.rs', challenge, aud }));
    const otpPage = await b2.post('/oauth2/authorize', [['csrf', csrfOf(p2.body)], ['username', 'sec'], ['password', `${PASSWORD}-admin`]]);
    assert.match(otpPage.body, /name="otp"/);
    const replay = await b2.post('/oauth2/authorize', [['csrf', csrfOf(otpPage.body)], ['otp', code1]]);
    assert.equal(replay.statusCode, 401);
    assert.ok(!replay.body.includes('name="scope"'));
    now += 30_000;
    const fresh = await b2.post('/oauth2/authorize', [['csrf', csrfOf(replay.body)], ['otp', totpCode(secret, new Date(now))]]);
    assert.match(fresh.body, /name="scope"/, 'the next code works');
  });

  it('publishes a SMART configuration without plain PKCE or the implicit grant', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/.well-known/smart-configuration' });
    const underBase = await t.app.inject({ method: 'GET', url: '/fhir/.well-known/smart-configuration' });
    assert.equal(underBase.statusCode, 200, 'also under the FHIR base, without a token');
    assert.equal(underBase.body, res.body);
    assert.equal(res.statusCode, 200);
    const c = JSON.parse(res.body) as Record<string, string[] | string>;
    assert.deepEqual(c['code_challenge_methods_supported'], ['S256']);
    assert.ok(!(c['grant_types_supported'] as string[]).includes('implicit'));
    assert.deepEqual(c['response_types_supported'], ['code']);
    assert.equal(c['token_endpoint'], `${t.config.publicUrl}/oauth2/token`);
    assert.ok((c['token_endpoint_auth_methods_supported'] as string[]).includes('private_key_jwt'));
    assert.ok(!(c['capabilities'] as string[]).includes('sso-openid-connect'), 'no id_token, so no OpenID Connect claim');
  });
});
