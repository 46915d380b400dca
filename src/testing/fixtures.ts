import type { Observation } from '@medplum/fhirtypes';

const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';

/**
 * A blood pressure panel as real ones are: its codes and values are in components, so the union
 * search parameters (`combo-code`, `combo-value-quantity`) differ from `code` and `value-quantity`.
 * Synthetic: no person's data.
 */
export function bloodPressurePanel(): Observation {
  return {
    resourceType: 'Observation',
    id: 'bp-1',
    status: 'final',
    code: { coding: [{ system: LOINC, code: '85354-9', display: 'Blood pressure panel' }] },
    subject: { reference: 'Patient/p1' },
    effectiveDateTime: '2024-05-01T10:00:00Z',
    component: [
      { code: { coding: [{ system: LOINC, code: '8480-6', display: 'Systolic blood pressure' }] }, valueQuantity: { value: 142, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' } },
      { code: { coding: [{ system: LOINC, code: '8462-4', display: 'Diastolic blood pressure' }] }, valueQuantity: { value: 91, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' } },
    ],
  };
}
