import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestVigil, type TestVigil } from '../testing/harness.js';
import { TestBrowser, authorizeUrl, csrfOf, pkcePair, signIn, tokenRequest } from './oauth-test-flow.js';

const PASSWORD = 'amber-quarry-willow-17';
const REDIRECT = 'https://portal.example/callback';

/**
 * End to end: a patient signs in through the SMART flow and the token they get cannot reach
 * another patient; guessing a password locks the account; the audit trail tells the story.
 */
describe('a patient portal, signed in through SMART, against the access policy', () => {
  let t: TestVigil;
  let clientId: string;
  const patients: Record<string, string> = {};

  before(async () => {
    t = await startTestVigil({ env: { VIGIL_TOKEN_RATE_LIMIT: '10000' } });
    const admin = await t.token('system/*.cruds');
    for (const name of ['Ahn', 'Bauer']) {
      const res = await t.fhir('POST', '/fhir/Patient', { token: admin, body: { resourceType: 'Patient', name: [{ family: name }] } });
      patients[name] = String((JSON.parse(res.body) as { id: string }).id);
    }
    clientId = (await t.vigil.clients.create({ name: 'Portal', scopes: 'launch/patient openid fhirUser patient/*.rs', roles: [], grants: ['authorization_code'], redirectUris: [REDIRECT], public: true })).clientId;
    await t.vigil.users.add({ username: 'ahn', roles: ['patient'], fhirUser: `Patient/${patients['Ahn'] ?? ''}`, password: PASSWORD });
  });
  after(async () => {
    await t.close();
  });

  it('gives the patient their own record and nobody else’s', async () => {
    const { verifier, challenge } = pkcePair();
    const { code } = await signIn(new TestBrowser(t.app), { clientId, redirectUri: REDIRECT, scope: 'launch/patient patient/*.rs', challenge, aud: t.config.fhirBaseUrl, username: 'ahn', password: PASSWORD });
    assert.ok(code !== undefined);
    const res = await tokenRequest(t.app, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: clientId, code_verifier: verifier });
    const token = String((JSON.parse(res.body) as { access_token: string }).access_token);
    assert.equal((await t.fhir('GET', `/fhir/Patient/${patients['Ahn'] ?? ''}`, { token })).statusCode, 200);
    const other = await t.fhir('GET', `/fhir/Patient/${patients['Bauer'] ?? ''}`, { token });
    assert.equal(other.statusCode, 404);
    assert.ok(!other.body.includes('Bauer'));
    const search = JSON.parse((await t.fhir('GET', '/fhir/Patient?name=Bauer', { token })).body) as { entry?: unknown[] };
    assert.equal((search.entry ?? []).length, 0);
  });

  it('locks the account after repeated wrong passwords, even against the right one', async () => {
    const { challenge } = pkcePair();
    const browser = new TestBrowser(t.app);
    const url = authorizeUrl({ clientId, redirectUri: REDIRECT, scope: 'patient/*.rs', challenge, aud: t.config.fhirBaseUrl });
    for (let i = 0; i < 6; i++) {
      const page = await browser.get(url);
      const res = await browser.post('/oauth2/authorize', [['csrf', csrfOf(page.body)], ['username', 'ahn'], ['password', `wrong-guess-${i}-padding`]]);
      assert.ok(!res.body.includes('name="scope"'), 'a wrong password never reaches consent');
    }
    const page = await browser.get(url);
    const right = await browser.post('/oauth2/authorize', [['csrf', csrfOf(page.body)], ['username', 'ahn'], ['password', PASSWORD]]);
    assert.ok(!right.body.includes('name="scope"'), 'locked: the right password is refused too');
    assert.ok(!right.body.includes(PASSWORD));
    const trail = (await t.vigil.store.searchAudit({ tenant: t.config.tenant, limit: 1000 })).map((r) => JSON.parse(r.body) as { subtype: string; outcome: string; reason?: string });
    assert.ok(trail.filter((b) => b.subtype === 'login-failed').length >= 6, 'every failed sign-in is audited');
    assert.ok(trail.some((b) => b.subtype === 'login-failed' && b.reason === 'ERR_RATE_LIMITED'), 'the lockout is audited');
    assert.ok(trail.every((b) => !JSON.stringify(b).includes('ahn') && !JSON.stringify(b).includes('wrong-guess')), 'no user name or password in the trail');
  });
});
