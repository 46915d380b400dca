import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { maskBody, maskText } from './mask.js';
import { syntheticPatient } from '../testing/harness.js';

describe('PHI masking of response excerpts', () => {
  it('masks every identifying element of a Patient and keeps the shape', () => {
    const patient = { ...syntheticPatient('Zq7'), id: 'pat-1', telecom: [{ system: 'phone', value: '555-201-7788' }] };
    const out = maskBody(JSON.stringify({ resourceType: 'Bundle', entry: [{ resource: patient }] }), 10_000);
    for (const leak of ['Zq7', '1931-07-19', '555-201-7788']) assert.ok(!out.includes(leak), `${leak} is masked in ${out}`);
    assert.match(out, /"resourceType":"Patient"/);
    assert.match(out, /"id":"pat-1"/);
    assert.match(out, /"gender":"female"/);
  });

  it('masks a cut-off JSON body by field name', () => {
    const cut = '{"resourceType":"Patient","name":[{"family":"Okafor","given":["Ada"]}],"birthDate":"1970-01-0';
    const out = maskBody(cut);
    assert.ok(!out.includes('Okafor') && !out.includes('Ada') && !out.includes('1970'), out);
  });

  it('masks digit runs, SSNs, phone numbers, e-mail addresses and dates in free text', () => {
    const out = maskText('MRN 0012345678, SSN 123-45-6789, call +1 (555) 201-7788 or ada@example.org, born 1970-01-02');
    assert.equal(out, 'MRN ***, SSN ***, call *** or ***, born ***');
  });

  it('cuts long bodies and says how much was left out', () => {
    assert.match(maskBody('x'.repeat(700), 100), /^x{100} …\(600 more characters\)$/);
  });
});
