import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT, decodeJwt, decodeProtectedHeader, generateKeyPair, UnsecuredJWT } from 'jose';
import { BOOTSTRAP_FILE, ScopeSet } from '../auth/index.js';
import { startTestVigil, syntheticPatient, type TestVigil } from '../testing/harness.js';

function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

describe('OAuth2 client credentials token endpoint', () => {
  let t: TestVigil;
  let admin: { client_id: string; client_secret: string };
  before(async () => {
    t = await startTestVigil();
    admin = JSON.parse(readFileSync(join(t.dir, BOOTSTRAP_FILE), 'utf8')) as typeof admin;
  });
  after(async () => {
    await t.close();
  });

  const token = (body: Record<string, string>, authorization?: string) =>
    t.app.inject({
      method: 'POST',
      url: '/oauth2/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(authorization === undefined ? {} : { authorization }) },
      payload: form(body),
    });

  it('writes the bootstrap admin once, mode 0600, and never logs its secret', () => {
    assert.equal(statSync(join(t.dir, BOOTSTRAP_FILE)).mode & 0o777, 0o600);
    assert.equal(statSync(join(t.dir, 'master.key')).mode & 0o777, 0o600);
    assert.equal(statSync(t.dir).mode & 0o777, 0o700);
    assert.match(admin.client_id, /^[0-9a-f-]{36}$/);
    assert.ok(admin.client_secret.length >= 40);
    assert.ok(!t.logs.join('').includes(admin.client_secret));
  });

  it('issues a short-lived EdDSA JWT with the required claims (client_secret_basic)', async () => {
    const res = await token({ grant_type: 'client_credentials' }, basic(admin.client_id, admin.client_secret));
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['cache-control'], 'no-store');
    const body = JSON.parse(res.body) as { access_token: string; token_type: string; expires_in: number; scope: string };
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 300);
    assert.equal(body.scope, 'system/*.cruds');
    const header = decodeProtectedHeader(body.access_token);
    assert.equal(header.alg, 'EdDSA');
    assert.equal(header.typ, 'at+jwt');
    const jwks = JSON.parse((await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).body) as { keys: Record<string, unknown>[] };
    assert.ok(jwks.keys.some((k) => k['kid'] === header.kid));
    assert.ok(jwks.keys.every((k) => k['d'] === undefined), 'no private key material is published');
    assert.equal((await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).headers['cache-control'], 'public, max-age=60');
    const claims = decodeJwt(body.access_token);
    assert.equal(claims.aud, t.config.fhirBaseUrl);
    assert.equal(claims.iss, t.config.publicUrl);
    assert.equal(claims.sub, admin.client_id);
    assert.equal((claims.exp ?? 0) - (claims.iat ?? 0), 300);
    assert.match(String(claims.jti), /^[0-9a-f-]{36}$/);
    const second = JSON.parse((await token({ grant_type: 'client_credentials' }, basic(admin.client_id, admin.client_secret))).body) as { access_token: string };
    assert.notEqual(decodeJwt(second.access_token).jti, claims.jti);
    const use = await t.app.inject({ method: 'GET', url: '/fhir/Patient/_history', headers: { authorization: `Bearer ${body.access_token}` } });
    assert.equal(use.statusCode, 200);
  });

  it('accepts client_secret_post and narrows to the requested scopes', async () => {
    const res = await token({ grant_type: 'client_credentials', client_id: admin.client_id, client_secret: admin.client_secret, scope: 'system/Patient.rs user/Patient.r' });
    assert.equal(res.statusCode, 200);
    const body = JSON.parse(res.body) as { access_token: string; scope: string };
    assert.equal(body.scope, 'system/Patient.rs');
    const write = await t.app.inject({
      method: 'POST',
      url: '/fhir/Patient',
      headers: { authorization: `Bearer ${body.access_token}`, 'content-type': 'application/fhir+json' },
      payload: JSON.stringify(syntheticPatient('n')),
    });
    assert.equal(write.statusCode, 403);
  });

  it('never grants a client more than it is allowed', async () => {
    const limited = await t.vigil.clients.create({ name: 'reader', scopes: 'system/Patient.rs system/Observation.rs?category=x', roles: [] });
    const ok = await token({ grant_type: 'client_credentials' }, basic(limited.clientId, limited.clientSecret));
    assert.equal(JSON.parse(ok.body).scope, 'system/Patient.rs system/Observation.rs?category=x', 'a restriction is granted as registered (the policy enforces it)');
    const more = await token({ grant_type: 'client_credentials', scope: 'system/Patient.cruds' }, basic(limited.clientId, limited.clientSecret));
    assert.equal(more.statusCode, 400);
    assert.equal(JSON.parse(more.body).error, 'invalid_scope');
    const other = await token({ grant_type: 'client_credentials', scope: 'system/Observation.r' }, basic(limited.clientId, limited.clientSecret));
    assert.equal(JSON.parse(other.body).error, 'invalid_scope', 'a restricted scope does not cover the unrestricted one');
    const narrowed = await token({ grant_type: 'client_credentials', scope: 'system/Observation.r?category=x' }, basic(limited.clientId, limited.clientSecret));
    assert.equal(JSON.parse(narrowed.body).scope, 'system/Observation.r?category=x');
  });

  it('refuses clients added or widened by writing the database directly', async () => {
    const { hashSecret } = await import('../auth/index.js');
    const Database = (await import('better-sqlite3')).default;
    const limited = await t.vigil.clients.create({ name: 'narrow', scopes: 'system/Patient.r', roles: [] });
    const db = new Database(join(t.dir, 'vigil.db'));
    try {
      const forgedSecret = 'attacker-chosen-secret';
      const hash = await hashSecret(forgedSecret);
      // A brand-new row with a MAC the attacker had to guess.
      db.prepare('INSERT INTO oauth_clients (client_id, secret_hash, name, scopes, roles, disabled, created_at, row_mac) VALUES (?, ?, ?, ?, ?, 0, ?, ?)').run(
        'intruder', hash, 'intruder', 'system/*.cruds', '[]', '2026-01-01T00:00:00.000Z', 'AAAA',
      );
      const intruder = await token({ grant_type: 'client_credentials' }, basic('intruder', forgedSecret));
      assert.equal(intruder.statusCode, 401);
      // An existing row whose scopes were widened, or whose secret hash was replaced, or which was copied under a new id.
      const original = db.prepare('SELECT * FROM oauth_clients WHERE client_id = ?').get(limited.clientId) as Record<string, unknown>;
      db.prepare("UPDATE oauth_clients SET scopes = 'system/*.cruds' WHERE client_id = ?").run(limited.clientId);
      assert.equal((await token({ grant_type: 'client_credentials' }, basic(limited.clientId, limited.clientSecret))).statusCode, 401, 'widened scopes');
      db.prepare('UPDATE oauth_clients SET scopes = ?, secret_hash = ? WHERE client_id = ?').run(original['scopes'], hash, limited.clientId);
      assert.equal((await token({ grant_type: 'client_credentials' }, basic(limited.clientId, forgedSecret))).statusCode, 401, 'replaced secret');
      db.prepare('UPDATE oauth_clients SET secret_hash = ? WHERE client_id = ?').run(original['secret_hash'], limited.clientId);
      assert.equal((await token({ grant_type: 'client_credentials' }, basic(limited.clientId, limited.clientSecret))).statusCode, 200, 'control: the restored row works');
    } finally {
      db.close();
    }
  });

  it('refuses bad client authentication and bad requests with RFC 6749 errors', async () => {
    const cases: { name: string; status: number; error: string; body: Record<string, string>; auth?: string }[] = [
      { name: 'wrong secret', status: 401, error: 'invalid_client', body: { grant_type: 'client_credentials' }, auth: basic(admin.client_id, 'wrong') },
      { name: 'unknown client', status: 401, error: 'invalid_client', body: { grant_type: 'client_credentials' }, auth: basic('nobody', admin.client_secret) },
      { name: 'no authentication', status: 401, error: 'invalid_client', body: { grant_type: 'client_credentials' } },
      { name: 'malformed basic', status: 401, error: 'invalid_client', body: { grant_type: 'client_credentials' }, auth: 'Basic !!!' },
      {
        name: 'two methods',
        status: 400,
        error: 'invalid_request',
        body: { grant_type: 'client_credentials', client_id: admin.client_id, client_secret: admin.client_secret },
        auth: basic(admin.client_id, admin.client_secret),
      },
      { name: 'password grant', status: 400, error: 'unsupported_grant_type', body: { grant_type: 'password', username: 'a', password: 'b' }, auth: basic(admin.client_id, admin.client_secret) },
      { name: 'no grant type', status: 400, error: 'invalid_request', body: {}, auth: basic(admin.client_id, admin.client_secret) },
    ];
    for (const c of cases) {
      const res = await token(c.body, c.auth);
      assert.equal(res.statusCode, c.status, c.name);
      const body = JSON.parse(res.body) as { error: string; error_description: string };
      assert.equal(body.error, c.error, c.name);
      if (c.status === 401) assert.match(String(res.headers['www-authenticate']), /^Basic/, c.name);
      assert.ok(!res.body.includes(admin.client_secret), c.name);
    }
    const json = await t.app.inject({ method: 'POST', url: '/oauth2/token', headers: { 'content-type': 'application/json' }, payload: '{"grant_type":"client_credentials"}' });
    assert.equal(json.statusCode, 400);
    assert.equal(JSON.parse(json.body).error, 'invalid_request');
    const repeated = await t.app.inject({
      method: 'POST',
      url: '/oauth2/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(admin.client_id, admin.client_secret) },
      payload: 'grant_type=client_credentials&grant_type=client_credentials',
    });
    assert.equal(repeated.statusCode, 400);
  });
});

describe('bearer token verification on /fhir', () => {
  let t: TestVigil;
  let patientUrl: string;
  before(async () => {
    t = await startTestVigil();
    const created = await t.fhir('POST', '/fhir/Patient', { body: syntheticPatient('a') });
    patientUrl = `/fhir/Patient/${String(JSON.parse(created.body).id)}`;
  });
  after(async () => {
    await t.close();
  });

  const claims = (): Record<string, unknown> => ({ scope: 'system/*.cruds', client_id: 'attacker' });

  async function forged(edit: (jwt: SignJWT) => SignJWT, key?: Parameters<SignJWT['sign']>[0], kid?: string, typ = 'at+jwt'): Promise<string> {
    const realKid = t.vigil.signingKeys.current.kid;
    const signingKey = key ?? t.vigil.signingKeys.current.privateKey;
    const now = Math.floor(Date.now() / 1000);
    const jwt = new SignJWT(claims())
      .setProtectedHeader({ alg: 'EdDSA', typ, kid: kid ?? realKid })
      .setIssuer(t.config.publicUrl)
      .setAudience(t.config.fhirBaseUrl)
      .setSubject('attacker')
      .setJti('00000000-0000-0000-0000-000000000000')
      .setIssuedAt(now)
      .setExpirationTime(now + 60);
    return edit(jwt).sign(signingKey);
  }

  it('answers 401 with an OperationOutcome and runs no handler for every forged or broken token', async () => {
    const otherKey = (await generateKeyPair('EdDSA', { crv: 'Ed25519' })).privateKey;
    const good = await forged((j) => j);
    const [h, p, s] = good.split('.') as [string, string, string];
    const escalated = Buffer.from(JSON.stringify({ ...decodeJwt(good), scope: 'system/*.cruds user/*.cruds' })).toString('base64url');
    const expiredToken = await t.vigil.tokens.issue('x', ScopeSet.parse('system/*.cruds'));
    const cases: Record<string, string | undefined> = {
      'no token': undefined,
      'alg none': new UnsecuredJWT(claims()).setIssuer(t.config.publicUrl).setAudience(t.config.fhirBaseUrl).setSubject('a').setJti('j').setIssuedAt().setExpirationTime('1m').encode(),
      'signed by another key, same kid': await forged((j) => j, otherKey),
      'signed by another key, unknown kid': await forged((j) => j, otherKey, 'not-a-kid'),
      'wrong audience': await forged((j) => j.setAudience('https://elsewhere.example/fhir')),
      'wrong issuer': await forged((j) => j.setIssuer('https://evil.example')),
      'expired': await forged((j) => j.setIssuedAt(Math.floor(Date.now() / 1000) - 400).setExpirationTime(Math.floor(Date.now() / 1000) - 100)),
      'lifetime longer than the server issues': await forged((j) => j.setExpirationTime(Math.floor(Date.now() / 1000) + 86400)),
      'wrong typ': await forged((j) => j, undefined, undefined, 'JWT'),
      'payload edited after signing': `${h}.${escalated}.${s}`,
      'signature stripped': `${h}.${p}.`,
      'garbage': 'not-a-jwt',
      'HS256 with the public key as secret': await new SignJWT(claims())
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: t.vigil.signingKeys.current.kid })
        .setIssuer(t.config.publicUrl)
        .setAudience(t.config.fhirBaseUrl)
        .setSubject('a')
        .setJti('j')
        .setIssuedAt()
        .setExpirationTime('1m')
        .sign(Buffer.from(JSON.stringify(t.vigil.signingKeys.jwks().keys[0]))),
    };
    const before = JSON.parse((await t.fhir('GET', '/fhir/Patient/_history?_count=0')).body).total as number;
    for (const [name, tok] of Object.entries(cases)) {
      for (const req of [
        { method: 'GET' as const, url: patientUrl },
        { method: 'POST' as const, url: '/fhir/Patient', payload: JSON.stringify(syntheticPatient('forged')) },
      ]) {
        const res = await t.app.inject({
          ...req,
          headers: { 'content-type': 'application/fhir+json', ...(tok === undefined ? {} : { authorization: `Bearer ${tok}` }) },
        });
        assert.equal(res.statusCode, 401, `${name} ${req.method}`);
        // RFC 6750: no error code when no credentials were sent at all.
        assert.equal(res.headers['www-authenticate'], tok === undefined ? 'Bearer realm="vigil"' : 'Bearer realm="vigil", error="invalid_token"', name);
        const body = JSON.parse(res.body) as { resourceType: string; issue: { code: string; details: { text: string } }[] };
        assert.equal(body.resourceType, 'OperationOutcome', name);
        assert.equal(body.issue[0]?.code, 'login', name);
        assert.equal(body.issue[0]?.details.text, 'The access token is missing, invalid or expired', name);
      }
    }
    assert.equal(JSON.parse((await t.fhir('GET', '/fhir/Patient/_history?_count=0')).body).total, before, 'no forged write was stored');

    // A real token stops working once its time has passed.
    const late = await startTestVigil({ now: () => new Date(Date.now() + 301_000) });
    try {
      const res = await late.app.inject({ method: 'GET', url: '/fhir/Patient/x', headers: { authorization: `Bearer ${expiredToken.access_token}` } });
      assert.equal(res.statusCode, 401, 'a token from another server (other keys) never verifies');
    } finally {
      await late.close();
    }
  });

  it('rejects a genuine token once it has expired', async () => {
    let now = Date.now();
    const clocked = await startTestVigil({ now: () => new Date(now) });
    try {
      const tok = await clocked.token('system/*.cruds');
      const url = '/fhir/Patient/_history';
      const headers = { authorization: `Bearer ${tok}` };
      assert.equal((await clocked.app.inject({ method: 'GET', url, headers })).statusCode, 200);
      now += 301_000;
      assert.equal((await clocked.app.inject({ method: 'GET', url, headers })).statusCode, 401, 'expired token still accepted (even from cache)');
    } finally {
      await clocked.close();
    }
  });

  it('does not take a token from the query string or a non-Bearer scheme', async () => {
    const tok = await t.token();
    assert.equal((await t.app.inject({ method: 'GET', url: `${patientUrl}?access_token=${tok}` })).statusCode, 401);
    assert.equal((await t.app.inject({ method: 'GET', url: patientUrl, headers: { authorization: `Basic ${tok}` } })).statusCode, 401);
    assert.equal((await t.app.inject({ method: 'GET', url: patientUrl, headers: { authorization: `Bearer ${tok}` } })).statusCode, 200);
  });

  it('asks for a token before saying whether a type or id exists', async () => {
    for (const url of ['/fhir/NoSuchType/1', '/fhir/Patient/does-not-exist', patientUrl]) {
      assert.equal((await t.app.inject({ method: 'GET', url })).statusCode, 401, url);
    }
  });
});

describe('signing keys in the database', () => {
  it('ignores a public key swapped into the signing_keys table: forged tokens still fail', async () => {
    const { generateKeyPair, exportJWK, SignJWT } = await import('jose');
    const Database = (await import('better-sqlite3')).default;
    const t = await startTestVigil();
    try {
      const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
      const kid = t.vigil.signingKeys.current.kid;
      const db = new Database(join(t.dir, 'vigil.db'));
      db.prepare('UPDATE signing_keys SET public_jwk = ? WHERE kid = ?').run(JSON.stringify({ ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' }), kid);
      db.close();
      // A restarted server loads the keys afresh from the database.
      const { openVigil } = await import('../runtime/index.js');
      const { buildApp, createLogger } = await import('./index.js');
      const restarted = await openVigil(t.config);
      const app = await buildApp(restarted, { logger: createLogger({ logLevel: 'silent' }) });
      const now = Math.floor(Date.now() / 1000);
      const forged = await new SignJWT({ scope: 'system/*.cruds', roles: ['security-admin'] })
        .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid })
        .setIssuer(t.config.publicUrl)
        .setAudience(t.config.fhirBaseUrl)
        .setSubject('intruder')
        .setJti('forged-1')
        .setIssuedAt(now)
        .setExpirationTime(now + 60)
        .sign(privateKey);
      try {
        const res = await app.inject({ method: 'GET', url: '/fhir/AuditEvent', headers: { authorization: `Bearer ${forged}` } });
        assert.equal(res.statusCode, 401);
        const swapped = (await exportJWK(publicKey)).x;
        const jwks = JSON.parse((await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).body) as { keys: { x: string }[] };
        assert.ok(!jwks.keys.some((k) => k.x === swapped), 'the swapped key is not published');
        assert.ok(jwks.keys.some((k) => k.x === t.vigil.signingKeys.jwks().keys[0]?.x), 'the real key still is');
      } finally {
        await app.close();
        await restarted.close();
      }
    } finally {
      await t.close();
    }
  });
});

describe('token endpoint rate limit', () => {
  it('answers 429 with Retry-After past the per-address limit, per address', async () => {
    const t = await startTestVigil({ env: { VIGIL_TOKEN_RATE_LIMIT: '3' } });
    try {
      const ask = (remoteAddress: string) =>
        t.app.inject({ method: 'POST', url: '/oauth2/token', remoteAddress, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'grant_type=client_credentials&client_id=x&client_secret=y' });
      for (let i = 0; i < 3; i++) assert.equal((await ask('10.1.1.1')).statusCode, 401);
      const limited = await ask('10.1.1.1');
      assert.equal(limited.statusCode, 429);
      assert.equal(JSON.parse(limited.body).error, 'slow_down');
      assert.match(String(limited.headers['retry-after']), /^[1-9][0-9]*$/);
      assert.equal((await ask('10.2.2.2')).statusCode, 401, 'another address is not held back');
    } finally {
      await t.close();
    }
  });
});
