import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { tryGetDataType, type InternalTypeSchema } from '@medplum/core';
import { codeTable } from './bindings.js';
import { loadDefinitions } from './definitions.js';

const CODED = new Set(['code', 'Coding', 'CodeableConcept']);
/** How many ValueSets of R4 required bindings are checked (the rest are listed in the test). */
const ENUMERABLE = 221;

/** Every required binding on a coded element of every R4 resource and the data types they use. */
function requiredBindings(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const seen = new Set<string>();
  const queue: InternalTypeSchema[] = [];
  const visit = (name: string): void => {
    const schema = tryGetDataType(name);
    if (schema !== undefined && !seen.has(schema.name)) {
      seen.add(schema.name);
      queue.push(schema);
    }
  };
  for (const type of loadDefinitions()) visit(type);
  for (let schema = queue.shift(); schema !== undefined; schema = queue.shift()) {
    for (const inner of schema.innerTypes) visit(inner.name);
    for (const [name, element] of Object.entries(schema.elements)) {
      for (const t of element.type) if (/^[A-Z]/.test(t.code) && t.code !== 'Resource') visit(t.code);
      const binding = element.binding;
      if (binding?.strength !== 'required' || binding.valueSet === undefined || !element.type.some((t) => CODED.has(t.code))) continue;
      const url = binding.valueSet.split('|')[0] ?? '';
      found.set(url, [...(found.get(url) ?? []), `${schema.name}.${name}`]);
    }
  }
  return found;
}

describe('bindings: ValueSets of required bindings', () => {
  it('enumerates all but the few that need a terminology server or are not shipped', () => {
    const bindings = requiredBindings();
    const skipped = [...bindings.keys()].filter((url) => codeTable(url) === undefined).sort();
    assert.deepEqual(skipped, [
      'http://hl7.org/fhir/ValueSet/characteristic-combination', // R5 value set Medplum's EvidenceVariable uses; not shipped
      'http://hl7.org/fhir/ValueSet/currencies', // urn:iso:std:iso:4217 is external
      'http://hl7.org/fhir/ValueSet/mimetypes', // urn:ietf:bcp:13 is external
      'http://hl7.org/fhir/ValueSet/ucum-units', // UCUM is a grammar, not a list
      'http://loinc.org/vs/LL379-9', // a LOINC answer list; not shipped
    ]);
    assert.equal(bindings.size - skipped.length, ENUMERABLE, `enumerable of ${bindings.size}`);
  });

  it('expands a whole code system, nested concepts included', () => {
    const table = codeTable('http://hl7.org/fhir/ValueSet/condition-ver-status|4.0.1');
    for (const code of ['unconfirmed', 'provisional', 'differential', 'confirmed', 'refuted', 'entered-in-error']) {
      assert.equal(table?.codes.has(code), true, code);
    }
    assert.deepEqual([...(table?.systems ?? [])], ['http://terminology.hl7.org/CodeSystem/condition-ver-status']);
  });

  it('expands an explicit concept list', () => {
    const table = codeTable('http://hl7.org/fhir/ValueSet/units-of-time');
    assert.deepEqual([...(table?.codes ?? [])].sort(), ['a', 'd', 'h', 'min', 'mo', 's', 'wk']);
    assert.deepEqual([...(table?.systems ?? [])], ['http://unitsofmeasure.org']);
  });

  it('reads a ValueSet valuesets.json lacks from the v3 file', () => {
    const table = codeTable('http://terminology.hl7.org/ValueSet/v3-ConfidentialityClassification');
    assert.deepEqual([...(table?.codes ?? [])].sort(), ['L', 'M', 'N', 'R', 'U', 'V']);
  });

  it('knows administrative-gender, and nothing else, as the codes of Patient.gender', () => {
    assert.deepEqual([...(codeTable('http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1')?.codes ?? [])].sort(), ['female', 'male', 'other', 'unknown']);
  });

  it('skips ValueSets that need filters or external systems, and unknown ones', () => {
    assert.equal(codeTable('http://hl7.org/fhir/ValueSet/mimetypes'), undefined);
    assert.equal(codeTable('http://hl7.org/fhir/ValueSet/all-languages'), undefined);
    assert.equal(codeTable('http://hl7.org/fhir/ValueSet/example-filter'), undefined);
    assert.equal(codeTable('http://hl7.org/fhir/ValueSet/inactive'), undefined);
    assert.equal(codeTable('http://example.org/ValueSet/none'), undefined);
  });
});
