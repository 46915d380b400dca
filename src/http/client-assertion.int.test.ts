import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import { JWT_BEARER_ASSERTION } from '../auth/index.js';
import { startServer } from './server.js';
import { startTestVigil, type TestVigil } from '../testing/harness.js';
import { csrfOf, pkcePair, tokenRequest } from './oauth-test-flow.js';

describe('private_key_jwt client authentication (RFC 7523)', () => {
  let t: TestVigil;
  let jwks: Server;
  let key: CryptoKey;
  let stranger: CryptoKey;
  let clientId: string;
  let tokenUrl: string;
  before(async () => {
    t = await startTestVigil({ env: { VIGIL_TOKEN_RATE_LIMIT: '10000' } });
    tokenUrl = `${t.config.publicUrl}/oauth2/token`;
    const pair = await generateKeyPair('ES384', { extractable: true });
    key = pair.privateKey;
    stranger = (await generateKeyPair('ES384')).privateKey;
    const publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES384', use: 'sig' };
    jwks = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [publicJwk] })));
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const port = (jwks.address() as AddressInfo).port;
    ({ clientId } = await t.vigil.clients.create({ name: 'backend', scopes: 'system/Patient.rs', roles: [], jwksUrl: `http://127.0.0.1:${port}/jwks.json` }));
  });
  after(async () => {
    await t.close();
    await new Promise((resolve) => jwks.close(resolve));
  });

  const assertion = (o: { aud?: string; exp?: number; jti?: string; signer?: CryptoKey; kid?: string; iss?: string } = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: 'ES384', kid: o.kid ?? 'k1', typ: 'JWT' })
      .setIssuer(o.iss ?? clientId)
      .setSubject(clientId)
      .setAudience(o.aud ?? tokenUrl)
      .setIssuedAt(now)
      .setExpirationTime(o.exp ?? now + 240)
      .setJti(o.jti ?? randomUUID())
      .sign(o.signer ?? key);
  };
  const grant = async (a: string) => tokenRequest(t.app, { grant_type: 'client_credentials', scope: 'system/Patient.rs', client_assertion_type: JWT_BEARER_ASSERTION, client_assertion: a });

  it('accepts a good assertion and refuses its replay', async () => {
    const a = await assertion();
    const res = await grant(a);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal((JSON.parse(res.body) as { scope: string }).scope, 'system/Patient.rs');
    const again = await grant(a);
    assert.equal(again.statusCode, 401);
    assert.equal((JSON.parse(again.body) as { error: string }).error, 'invalid_client');
  });

  it('refuses a long-lived, misaddressed, foreign-signed or mislabelled assertion', async () => {
    const now = Math.floor(Date.now() / 1000);
    const cases: [string, Promise<string>][] = [
      ['exp more than 5 minutes ahead', assertion({ exp: now + 301 + 60 })],
      ['wrong aud', assertion({ aud: `${t.config.publicUrl}/oauth2/authorize` })],
      ['the FHIR base as aud', assertion({ aud: t.config.fhirBaseUrl })],
      ['key not in the JWKS', assertion({ signer: stranger })],
      ['unknown kid', assertion({ signer: stranger, kid: 'k2' })],
      ['expired', assertion({ exp: now - 10 })],
      ['iss of another client', assertion({ iss: randomUUID() })],
    ];
    for (const [why, pending] of cases) {
      const res = await grant(await pending);
      assert.equal(res.statusCode, 401, why);
      assert.equal((JSON.parse(res.body) as { error: string }).error, 'invalid_client', why);
    }
    const typeWrong = await tokenRequest(t.app, { grant_type: 'client_credentials', client_assertion_type: 'urn:x', client_assertion: await assertion() });
    assert.equal(typeWrong.statusCode, 401);
    const two = await tokenRequest(t.app, { grant_type: 'client_credentials', client_secret: 'x', client_id: clientId, client_assertion_type: JWT_BEARER_ASSERTION, client_assertion: await assertion() });
    assert.equal(two.statusCode, 400, 'one authentication method per request');
  });
});

describe('the code flow end to end over a real socket', () => {
  it('signs in, gets a token and uses it', async () => {
    const t = await startTestVigil({ env: { VIGIL_PORT: '0' } });
    const server = await startServer(t.vigil, t.app.log as never);
    try {
      const base = server.address;
      const client = await t.vigil.clients.create({ name: 'web', scopes: 'user/*.rs', roles: [], grants: ['authorization_code'], redirectUris: ['http://127.0.0.1:9/cb'], public: true });
      await t.vigil.users.add({ username: 'nurse1', roles: ['nurse'], fhirUser: 'Practitioner/n1', password: 'harbour-violet-42-lamp' });
      const { verifier, challenge } = pkcePair();
      const q = new URLSearchParams({ response_type: 'code', client_id: client.clientId, redirect_uri: 'http://127.0.0.1:9/cb', scope: 'user/*.rs', state: 's', aud: t.config.fhirBaseUrl, code_challenge: challenge, code_challenge_method: 'S256' });
      let cookie = '';
      const keep = (r: Response) => {
        for (const c of r.headers.getSetCookie()) cookie = [cookie, c.split(';')[0]].filter(Boolean).join('; ');
      };
      const post = async (fields: [string, string][]) => {
        const r = await fetch(`${base}/oauth2/authorize`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie }, body: new URLSearchParams(fields).toString() });
        keep(r);
        return r;
      };
      const page = await fetch(`${base}/oauth2/authorize?${q.toString()}`);
      keep(page);
      const consent = await post([['csrf', csrfOf(await page.text())], ['username', 'nurse1'], ['password', 'harbour-violet-42-lamp']]);
      const done = await post([['csrf', csrfOf(await consent.text())], ['scope', 'user/*.rs'], ['decision', 'allow']]);
      assert.equal(done.status, 303);
      const code = new URL(done.headers.get('location') ?? '').searchParams.get('code') ?? '';
      const tok = await fetch(`${base}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: 'http://127.0.0.1:9/cb', client_id: client.clientId, code_verifier: verifier }).toString() });
      assert.equal(tok.status, 200);
      const { access_token } = (await tok.json()) as { access_token: string };
      const meta = await fetch(`${base}/fhir/metadata`, { headers: { authorization: `Bearer ${access_token}` } });
      assert.equal(meta.status, 200);
    } finally {
      await server.close();
      await t.close();
    }
  });
});
