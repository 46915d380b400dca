import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AuditBody } from '../../audit/trail.js';
import type { Entry, Facts, Finding, RuleSettings } from '../types.js';
import { bruteForce } from './brute-force.js';

function failure(seq: number, at: number, address: string): Entry {
  const body: AuditBody = { recorded: new Date(at).toISOString(), type: 'security', subtype: 'login-failed', action: 'E', outcome: '4', address, entities: [], patients: [], status: 401 };
  return { seq, body, principal: undefined, at };
}

describe('brute-force rule', () => {
  const t0 = Date.parse('2026-03-02T12:00:00Z');

  it('names one address that guesses, and stays quiet below the threshold', async () => {
    const rule = bruteForce();
    const ctx = { settings: rule.defaults as RuleSettings, facts: {} as Facts };
    const found: Finding[] = [];
    for (let i = 0; i < 9; i++) found.push(...(await rule.observe(failure(i + 1, t0 + i * 1000, '10.0.0.7'), ctx)));
    assert.equal(found.length, 0);
    found.push(...(await rule.observe(failure(10, t0 + 10_000, '10.0.0.7'), ctx)));
    assert.equal(found[0]?.principal, 'address/10.0.0.7');
  });

  it('sees a wave of failures spread over many addresses, each under the per-address threshold', async () => {
    const rule = bruteForce();
    const ctx = { settings: rule.defaults as RuleSettings, facts: {} as Facts };
    const found: Finding[] = [];
    // 60 failures from 20 addresses, three each: no single address reaches 10.
    for (let i = 0; i < 60; i++) found.push(...(await rule.observe(failure(i + 1, t0 + i * 2000, `198.51.100.${i % 20}`), ctx)));
    assert.equal(found.length, 1);
    assert.equal(found[0]?.principal, 'address/*');
    assert.match(found[0]?.explanation ?? '', /60 failed sign-ins from 20 addresses/);
  });
});
