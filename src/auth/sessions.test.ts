import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openAuthFixture, type AuthFixture } from '../testing/auth-fixture.js';
import { SessionStore, readCookie, sessionCookie } from './sessions.js';
import { isS256Challenge, s256, verifierMatches } from './pkce.js';
import { RefreshTokens } from './refresh-tokens.js';

describe('SessionStore', () => {
  let f: AuthFixture;
  let sessions: SessionStore;
  before(async () => {
    f = await openAuthFixture();
    sessions = new SessionStore({ records: f.records, idleSeconds: 900, maxSeconds: 3600, now: () => f.now() });
  });
  after(async () => {
    await f.close();
  });

  it('names a session by a secret id (cookie) and a public handle (sid) that does not reveal it', async () => {
    const { id, session } = await sessions.start('u1', 'c1');
    assert.match(id, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(session.handle, id);
    assert.equal(sessions.handleOf(id), session.handle);
    assert.equal((await sessions.resume(id))?.userId, 'u1');
    assert.equal(await sessions.resume(session.handle), undefined, 'the handle is not a cookie');
    const stored = JSON.stringify(await f.store.listAuthRecords('session'));
    assert.ok(!stored.includes(id), 'the secret id is never stored');
  });

  it('ends after the idle time, unless used; and at the absolute lifetime whatever the use', async () => {
    const { session } = await sessions.start('u2', 'c1');
    f.advance(14 * 60_000);
    assert.ok(await sessions.check(session.handle));
    f.advance(14 * 60_000);
    assert.ok(await sessions.check(session.handle), 'the use 14 minutes ago kept it alive');
    f.advance(16 * 60_000);
    assert.equal(await sessions.check(session.handle), undefined, 'idle logoff');
    f.advance(-16 * 60_000);
    assert.equal(await sessions.check(session.handle), undefined, 'an idle-ended session stays ended');

    const { session: s2 } = await sessions.start('u2', 'c1');
    for (let i = 0; i < 4; i++) {
      f.advance(14 * 60_000);
      assert.ok(await sessions.check(s2.handle), `use ${i}`);
    }
    f.advance(5 * 60_000);
    assert.equal(await sessions.check(s2.handle), undefined, 'absolute lifetime');
  });

  it('ends one session, or every session of a user', async () => {
    const a = await sessions.start('u3', 'c1');
    const b = await sessions.start('u3', 'c2');
    const c = await sessions.start('u4', 'c1');
    await sessions.end(a.session.handle);
    assert.equal(await sessions.check(a.session.handle), undefined);
    assert.equal(await sessions.endAllForUser('u3'), 1);
    assert.equal(await sessions.check(b.session.handle), undefined);
    assert.ok(await sessions.check(c.session.handle));
  });

  it('sets a __Host- Secure cookie over https only, and refuses duplicated cookies', () => {
    assert.match(sessionCookie('x', true, 60), /^__Host-vigil_session=x; Path=\/; HttpOnly; SameSite=Lax; Max-Age=60; Secure$/);
    assert.doesNotMatch(sessionCookie('x', false, 60), /Secure|__Host-/);
    assert.equal(readCookie('a=1; vigil_session=2', 'vigil_session'), '2');
    assert.equal(readCookie('vigil_session=1; vigil_session=2', 'vigil_session'), undefined);
  });
});

describe('PKCE S256', () => {
  it('accepts only a well-formed verifier whose S256 matches', () => {
    const v = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
    // RFC 7636 appendix B.
    assert.equal(s256(v), 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
    assert.ok(verifierMatches(v, s256(v)));
    assert.ok(isS256Challenge(s256(v)));
    for (const bad of [undefined, '', ' '.repeat(43), v.slice(0, 42), `${v}!`, 'a'.repeat(129), `${v.slice(0, -1)}Y`]) {
      assert.equal(verifierMatches(bad, s256(v)), false, String(bad));
    }
    assert.equal(verifierMatches(v, v), false, 'plain is not S256');
  });
});

describe('RefreshTokens', () => {
  it('spends a token once; a second use is reported as reuse with its family', async () => {
    const f = await openAuthFixture();
    try {
      const rt = new RefreshTokens(f.records);
      const grant = { clientId: 'c', userId: 'u', sessionHandle: 'h', scope: 'user/*.rs', roles: [] };
      const until = new Date(f.now().getTime() + 3_600_000);
      const { token, familyId } = await rt.issue(grant, until);
      const uses = await Promise.all([rt.use(token), rt.use(token)]);
      assert.deepEqual(uses.map((u) => u.status).sort(), ['ok', 'reused']);
      const next = await rt.issue(grant, until, familyId);
      await rt.revokeFamily(familyId);
      assert.equal((await rt.use(next.token)).status, 'revoked');
      assert.equal((await rt.use('nope')).status, 'unknown');
      assert.ok(!JSON.stringify(await f.store.listAuthRecords('refresh')).includes(next.token));
    } finally {
      await f.close();
    }
  });
});
