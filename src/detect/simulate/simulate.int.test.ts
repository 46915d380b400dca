import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { simulate } from './run.js';
import { ATTACKS } from './attacks.js';

describe('vigil simulate', () => {
  it('catches every injected attack kind among labelled benign traffic, within a second', async () => {
    const report = await simulate({ patients: 40, minutes: 0.3, thinkMs: 800, loadWorkers: 2 });
    const rules = new Set(ATTACKS.map((a) => a.rule));
    for (const rule of rules) assert.ok((report.rules[rule]?.recall ?? 0) >= 0.9, `${rule}: ${JSON.stringify(report.rules[rule])}`);
    assert.ok(report.overall.precision >= 0.8, JSON.stringify(report.overall));
    assert.ok(report.latencyMs.p99 < 1000, `p99 ${report.latencyMs.p99} ms`);
    assert.ok(report.requests > 100, 'benign traffic ran');
    assert.equal(report.injected, ATTACKS.length);
  });
});
