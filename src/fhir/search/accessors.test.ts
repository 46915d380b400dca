import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toTypedValue, type TypedValue } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { compileReader } from './accessors.js';
import { indexedParams } from './params.js';
import { generateDataset } from '../../synthetic/index.js';

const simplify = (values: TypedValue[]): { type: string; value: unknown }[] => values.map((v) => ({ type: v.type, value: v.value }));

test('a plain path is read directly, a choice by its typed keys (one with `as`), anything else is left to FHIRPath', () => {
  const read = compileReader('Patient.name.given')?.read;
  assert.ok(read !== undefined);
  assert.deepEqual(simplify(read({ resourceType: 'Patient', name: [{ given: ['Ann', 'Bo'] }, { family: 'X' }, { given: ['Cy'] }] })), [
    { type: 'string', value: 'Ann' },
    { type: 'string', value: 'Bo' },
    { type: 'string', value: 'Cy' },
  ]);
  const effective = compileReader('Observation.effective')?.read;
  assert.deepEqual(simplify(effective?.({ resourceType: 'Observation', effectivePeriod: { start: '2020' } }) ?? []), [{ type: 'Period', value: { start: '2020' } }]);
  // Nested in a BackboneElement, then into a data type.
  assert.deepEqual(simplify(compileReader('Encounter.participant.individual')?.read({ resourceType: 'Encounter', participant: [{ individual: { reference: 'Practitioner/1' } }] }) ?? []), [
    { type: 'Reference', value: { reference: 'Practitioner/1' } },
  ]);
  // The `as` operator keeps one type of a choice.
  const quantity = compileReader('(Observation.value as Quantity)')?.read;
  assert.deepEqual(simplify(quantity?.({ resourceType: 'Observation', valueQuantity: { value: 1 } }) ?? []), [{ type: 'Quantity', value: { value: 1 } }]);
  assert.deepEqual(quantity?.({ resourceType: 'Observation', valueString: 'x' }), []);
  for (const other of ["Patient.telecom.where(system='email')", 'Condition.onset.as(string)', 'Patient.name | Patient.address', 'Bundle.entry.resource']) {
    assert.equal(compileReader(other), undefined, other);
  }
});

test('every compiled branch gives what FHIRPath gives, over a synthetic data set', () => {
  let compared = 0;
  for (const file of generateDataset({ patients: 3, seed: 'accessors' })) {
    for (const entry of file.bundle.entry ?? []) {
      const resource = entry.resource as Resource;
      const typed = toTypedValue(resource);
      for (const param of indexedParams(resource.resourceType)) {
        for (const branch of param.branches) {
          if (branch.read === undefined) continue;
          const expected = simplify(branch.compiled.eval({ variables: { '%resource': typed, '%rootResource': typed } }, [typed]));
          assert.deepEqual(simplify(branch.read(resource)), expected, `${resource.resourceType}.${param.code}`);
          compared++;
        }
      }
    }
  }
  assert.ok(compared > 1000, `only ${compared} branches compared`);
});
