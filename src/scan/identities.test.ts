import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { jwtClaims, parseIdentitySpec } from './identities.js';
import { scopeGrants } from './checks/scopes.js';

describe('identities and scopes', () => {
  it('parses --second-identity as a token or client credentials', () => {
    assert.deepEqual(parseIdentitySpec('abc.def.ghi'), { token: 'abc.def.ghi' });
    assert.deepEqual(parseIdentitySpec('token:t1'), { token: 't1' });
    assert.deepEqual(parseIdentitySpec('client:svc:pa:ss'), { clientId: 'svc', clientSecret: 'pa:ss' });
    for (const bad of ['', 'token:', 'client:', 'client:svc', 'client::secret', 'client:svc:']) assert.equal(parseIdentitySpec(bad), undefined, bad);
  });

  it('reads JWT claims without verifying, and nothing from opaque tokens', () => {
    const jwt = `e30.${Buffer.from(JSON.stringify({ scope: 'patient/*.rs', exp: 5 })).toString('base64url')}.sig`;
    assert.deepEqual(jwtClaims(jwt), { scope: 'patient/*.rs', exp: 5 });
    assert.equal(jwtClaims('opaque-token'), undefined);
    assert.equal(jwtClaims('a.!!!.c'), undefined);
  });

  it('reads SMART v1 and v2 scopes', () => {
    const v2 = scopeGrants('launch/patient patient/Patient.rs patient/Observation.cruds?category=vital-signs openid');
    assert.deepEqual([...(v2.read as Set<string>)], ['Patient', 'Observation']);
    assert.deepEqual([...(v2.create as Set<string>)], ['Observation']);
    const v1 = scopeGrants('user/Patient.read user/Observation.write');
    assert.deepEqual([...(v1.read as Set<string>)], ['Patient']);
    assert.deepEqual([...(v1.create as Set<string>)], ['Observation']);
    assert.equal(scopeGrants('system/*.rs').read, 'all');
    assert.equal(scopeGrants('patient/*.*').create, 'all');
  });
});
