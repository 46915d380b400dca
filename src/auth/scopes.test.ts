import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { ScopeSet, parseScope, type Permission } from './scopes.js';

function perms(text: string): string {
  const s = parseScope(text);
  assert.ok(s !== undefined, `${text} should parse`);
  return [...s.permissions].sort((a, b) => 'cruds'.indexOf(a) - 'cruds'.indexOf(b)).join('');
}

describe('parseScope: SMART v2', () => {
  it('parses system/Patient.cruds with every permission', () => {
    const s = parseScope('system/Patient.cruds');
    assert.ok(s !== undefined);
    assert.equal(s.context, 'system');
    assert.equal(s.type, 'Patient');
    assert.equal(s.restriction, undefined);
    assert.equal(s.text, 'system/Patient.cruds');
    assert.equal(perms('system/Patient.cruds'), 'cruds');
  });

  it('parses the wildcard type system/*.rs', () => {
    const s = parseScope('system/*.rs');
    assert.equal(s?.type, '*');
    assert.equal(perms('system/*.rs'), 'rs');
  });

  it('parses each in-order subsequence', () => {
    for (const p of ['c', 'r', 'u', 'd', 's', 'cr', 'rs', 'cud', 'crud', 'ruds', 'cs']) {
      assert.equal(perms(`user/Observation.${p}`), p);
    }
  });

  it('rejects out-of-order letters (system/Patient.rc)', () => {
    for (const text of ['system/Patient.rc', 'system/Patient.sr', 'system/Patient.dcu', 'system/Patient.scrud']) {
      assert.equal(parseScope(text), undefined, text);
    }
  });

  it('rejects repeated letters', () => {
    for (const text of ['system/Patient.rr', 'system/Patient.crrs', 'system/Patient.ss', 'system/Patient.crudss']) {
      assert.equal(parseScope(text), undefined, text);
    }
  });

  it('rejects unknown letters, upper case and mixed v1/v2 forms', () => {
    for (const text of ['system/Patient.x', 'system/Patient.R', 'system/Patient.crudsx', 'system/Patient.r*', 'system/Patient.readwrite', 'system/Patient.reads', 'system/Patient.']) {
      assert.equal(parseScope(text), undefined, text);
    }
  });
});

describe('parseScope: SMART v1', () => {
  it('read means r and s', () => {
    assert.equal(perms('system/Patient.read'), 'rs');
  });
  it('write means c, u and d', () => {
    assert.equal(perms('system/Patient.write'), 'cud');
  });
  it('* means everything', () => {
    assert.equal(perms('system/Patient.*'), 'cruds');
    assert.equal(perms('system/*.*'), 'cruds');
  });
});

describe('parseScope: shapes that are not resource scopes', () => {
  for (const text of [
    '',
    'openid',
    'fhirUser',
    'launch/patient',
    'offline_access',
    'admin/Patient.read',
    'System/Patient.read',
    'system/patient.read',
    'system/Patient',
    'system/Patient.read extra',
    ' system/Patient.read',
    'system//Patient.read',
    'system/Pa-tient.read',
    'system/P.read',
    'system/**.read',
  ]) {
    it(`refuses ${JSON.stringify(text)}`, () => assert.equal(parseScope(text), undefined));
  }
});

describe('parseScope: restrictions', () => {
  it('keeps the ?param=value restriction', () => {
    const s = parseScope('system/Observation.rs?category=laboratory');
    assert.ok(s !== undefined);
    assert.equal(s.restriction, '?category=laboratory');
    assert.equal(s.type, 'Observation');
    assert.equal(perms('system/Observation.rs?category=laboratory'), 'rs');
  });

  it('refuses a bare ? without a restriction', () => {
    assert.equal(parseScope('system/Observation.rs?'), undefined);
  });
});

describe('ScopeSet.allows', () => {
  it('allows exactly the granted permissions on the granted type', () => {
    const set = ScopeSet.parse('system/Patient.rs');
    assert.ok(set.allows('system', 'Patient', 'r'));
    assert.ok(set.allows('system', 'Patient', 's'));
    for (const p of ['c', 'u', 'd'] as Permission[]) assert.equal(set.allows('system', 'Patient', p), false, p);
    assert.equal(set.allows('system', 'Observation', 'r'), false);
  });

  it('a wildcard type allows every type, for its permissions only', () => {
    const set = ScopeSet.parse('system/*.rs');
    assert.ok(set.allows('system', 'Observation', 'r'));
    assert.ok(set.allows('system', 'Patient', 's'));
    assert.equal(set.allows('system', 'Patient', 'c'), false);
  });

  it('keeps contexts apart: a user/ or patient/ scope does not allow system', () => {
    const set = ScopeSet.parse('user/Patient.cruds patient/*.*');
    for (const p of ['c', 'r', 'u', 'd', 's'] as Permission[]) assert.equal(set.allows('system', 'Patient', p), false, p);
    assert.ok(set.allows('user', 'Patient', 'd'));
    assert.equal(set.allows('user', 'Observation', 'r'), false);
    assert.ok(set.allows('patient', 'Observation', 'r'));
    assert.equal(ScopeSet.parse('system/*.*').allows('user', 'Patient', 'r'), false);
  });

  it('a restricted scope is no unrestricted grant, and is listed by grants() for the policy to check', () => {
    const set = ScopeSet.parse('system/Observation.cruds?category=laboratory system/*.rs?_security=R');
    for (const p of ['c', 'r', 'u', 'd', 's'] as Permission[]) {
      assert.equal(set.allows('system', 'Observation', p), false, p);
      assert.equal(set.allows('system', 'Patient', p), false, p);
    }
    assert.deepEqual(set.grants('system', 'Observation', 'c').map((s) => s.restriction), ['?category=laboratory']);
    assert.deepEqual(set.grants('system', 'Patient', 'r').map((s) => s.restriction), ['?_security=R']);
    assert.deepEqual(set.grants('system', 'Patient', 'c'), []);
    assert.deepEqual(set.grants('user', 'Observation', 'r'), []);
  });

  it('a restricted scope next to an unrestricted one: only the unrestricted one counts', () => {
    const set = ScopeSet.parse('system/Observation.cruds?category=laboratory system/Observation.r');
    assert.ok(set.allows('system', 'Observation', 'r'));
    assert.equal(set.allows('system', 'Observation', 'c'), false);
    assert.equal(set.allows('system', 'Observation', 's'), false);
  });

  it('denies by default: empty and unparseable scope strings grant nothing', () => {
    for (const text of ['', '   ', 'openid fhirUser', 'system/Patient.rc', 'system/patient.read']) {
      const set = ScopeSet.parse(text);
      assert.equal(set.scopes.length, 0, text);
      assert.equal(set.allows('system', 'Patient', 'r'), false, text);
    }
  });

  it('a named-type scope does not allow a request for the type "*"', () => {
    const set = ScopeSet.parse('system/Patient.r');
    assert.equal(set.allows('system', '*', 'r'), false);
  });

  it('parse keeps only resource scopes, and toString gives them back', () => {
    const set = ScopeSet.parse('openid system/Patient.rs  launch system/Observation.read');
    assert.equal(set.scopes.length, 2);
    assert.equal(set.toString(), 'system/Patient.rs system/Observation.read');
  });
});

describe('ScopeSet.covers', () => {
  const scope = (text: string) => {
    const s = parseScope(text);
    assert.ok(s !== undefined, text);
    return s;
  };

  it('covers a subset of permissions of the same type', () => {
    const set = ScopeSet.parse('system/Patient.cruds');
    assert.ok(set.covers(scope('system/Patient.r')));
    assert.ok(set.covers(scope('system/Patient.rs')));
    assert.ok(set.covers(scope('system/Patient.read')));
    assert.ok(set.covers(scope('system/Patient.cruds')));
  });

  it('does not cover more permissions than granted', () => {
    const set = ScopeSet.parse('system/Patient.rs');
    assert.equal(set.covers(scope('system/Patient.cruds')), false);
    assert.equal(set.covers(scope('system/Patient.write')), false);
    assert.equal(set.covers(scope('system/Patient.*')), false);
    assert.equal(set.covers(scope('system/Patient.c')), false);
  });

  it('a wildcard covers a named type, never the other way round', () => {
    assert.ok(ScopeSet.parse('system/*.rs').covers(scope('system/Observation.r')));
    assert.equal(ScopeSet.parse('system/Observation.rs').covers(scope('system/*.r')), false);
  });

  it('does not cover another type or another context', () => {
    const set = ScopeSet.parse('system/Patient.cruds');
    assert.equal(set.covers(scope('system/Observation.r')), false);
    assert.equal(set.covers(scope('user/Patient.r')), false);
    assert.equal(set.covers(scope('patient/Patient.r')), false);
    assert.equal(ScopeSet.parse('user/*.*').covers(scope('system/Patient.r')), false);
  });

  it('requires one scope to cover all the permissions, not several together', () => {
    const set = ScopeSet.parse('system/Patient.r system/Patient.s');
    assert.ok(set.covers(scope('system/Patient.r')));
    assert.equal(set.covers(scope('system/Patient.rs')), false);
  });

  it('an unrestricted scope covers a restricted request; a restricted one covers only the same restriction', () => {
    assert.ok(ScopeSet.parse('system/Observation.rs').covers(scope('system/Observation.rs?category=laboratory')));
    const restricted = ScopeSet.parse('system/Observation.rs?category=laboratory');
    assert.ok(restricted.covers(scope('system/Observation.rs?category=laboratory')));
    assert.equal(restricted.covers(scope('system/Observation.rs')), false);
    assert.equal(restricted.covers(scope('system/Observation.rs?category=vital-signs')), false);
  });

  it('an empty set covers nothing', () => {
    assert.equal(ScopeSet.parse('').covers(scope('system/Patient.r')), false);
  });
});
