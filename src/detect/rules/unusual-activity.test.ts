import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AuditBody } from '../../audit/trail.js';
import type { Entry, Facts, RuleSettings } from '../types.js';
import { unusualActivity } from './unusual-activity.js';

const DAY = 86_400_000;
const START = Date.parse('2026-03-02T00:00:00Z');

function entry(seq: number, at: number, patients: string[]): Entry {
  const body: AuditBody = { recorded: new Date(at).toISOString(), type: 'rest', subtype: 'read', action: 'R', outcome: '0', user: 'u1', entities: [], patients };
  return { seq, body, principal: 'user/u1', at };
}

describe('unusual-activity rule', () => {
  it('learns a user’s days, then flags a day of far more patients and an hour never worked', async () => {
    const rule = unusualActivity();
    const ctx = { settings: rule.defaults as RuleSettings, facts: {} as Facts };
    let seq = 0;
    // Five weekdays of 8 patients each, between 09:00 and 16:00 UTC.
    for (let d = 0; d < 5; d++) {
      for (let i = 0; i < 8; i++) {
        const found = await rule.observe(entry(++seq, START + d * DAY + (9 + i) * 3600_000, [`p${d}-${i}`]), ctx);
        assert.deepEqual(found, [], 'no baseline yet');
      }
    }
    const day6 = START + 5 * DAY;
    // A normal morning: nothing.
    for (let i = 0; i < 8; i++) assert.deepEqual(await rule.observe(entry(++seq, day6 + 10 * 3600_000, [`q${i}`]), ctx), []);
    // Then 30 more patients in the same hour: far over three times the usual 8 (and the floor of 20).
    const findings = [];
    for (let i = 0; i < 30; i++) findings.push(...(await rule.observe(entry(++seq, day6 + 10 * 3600_000 + i * 1000, [`r${i}`]), ctx)));
    assert.equal(findings.length, 1, 'one alert for the day');
    assert.match(findings[0]?.explanation ?? '', /distinct patients today against a usual 8/);
    // 03:00 UTC: never worked at that hour.
    const night = await rule.observe(entry(++seq, START + 6 * DAY + 3 * 3600_000, ['late']), ctx);
    assert.equal(night.length, 1);
    assert.match(night[0]?.explanation ?? '', /03:00 UTC/);
    assert.deepEqual(await rule.observe(entry(++seq, START + 6 * DAY + 3 * 3600_000 + 60_000, ['late2']), ctx), [], 'once per hour and day');
  });
});
