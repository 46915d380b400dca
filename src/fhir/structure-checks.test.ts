import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { loadDefinitions } from './definitions.js';
import { structureIssues } from './structure-checks.js';

loadDefinitions();

describe('structureIssues', () => {
  it('returns nothing for a resource that breaks none of its rules', () => {
    assert.deepEqual(structureIssues({ resourceType: 'Patient', gender: 'male', name: [{ given: ['A'] }], deceasedBoolean: false, _deceasedBoolean: { id: 'x' } }), []);
  });

  it('names each problem with a fixed message, in document order', () => {
    const issues = structureIssues({
      resourceType: 'Patient',
      birthDate: '',
      name: [],
      maritalStatus: {},
      gender: 'robot',
      deceasedBoolean: true,
      deceasedDateTime: '2020',
      contained: [{ resourceType: 'HumanName' }],
    });
    assert.deepEqual(issues, [
      { message: 'Invalid empty string (FHIR JSON strings are never empty)', path: 'Patient.birthDate' },
      { message: 'Invalid empty array (FHIR JSON arrays are never empty)', path: 'Patient.name' },
      { message: 'Invalid empty object (FHIR JSON objects are never empty)', path: 'Patient.maritalStatus' },
      { message: 'Code is not in the required value set http://hl7.org/fhir/ValueSet/administrative-gender', path: 'Patient.gender' },
      { message: 'Only one type may be given for deceased[x] (found deceasedBoolean already)', path: 'Patient.deceasedDateTime' },
      { message: 'Missing or unknown resource type', path: 'Patient.contained[0]' },
    ]);
  });

  it('leaves unknown properties and wrong JSON types to Medplum', () => {
    assert.deepEqual(structureIssues({ resourceType: 'Patient', nickname: '', active: '', gender: 5, name: 'x', contained: [null, 3] }), [
      { message: 'Invalid empty string (FHIR JSON strings are never empty)', path: 'Patient.active' },
    ]);
  });

  it('refuses a resource that is not of a concrete R4 type', () => {
    assert.deepEqual(structureIssues({ resourceType: 'Element' }), [{ message: 'Missing or unknown resource type' }]);
  });
});
