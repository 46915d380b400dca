import type { Resource } from '@medplum/fhirtypes';
import { searchParam } from './search/params.js';
import { paramValues } from './search/values.js';

/** Parameters through which a resource names the patient it is about, in order of preference. */
const PATIENT_PARAMS = ['patient', 'subject', 'beneficiary', 'individual'];

/**
 * The ids of the patients a resource belongs to (for the audit trail and, later, access checks):
 * the Patient itself, or the Patient references of its `patient` / `subject`-like parameters.
 */
export function patientsOf(resource: Resource, fhirBaseUrl: string): string[] {
  if (resource.resourceType === 'Patient') return resource.id === undefined ? [] : [resource.id];
  const out = new Set<string>();
  for (const code of PATIENT_PARAMS) {
    const param = searchParam(resource.resourceType, code);
    if (param?.type !== 'reference') continue;
    const found = paramValues(resource, param, fhirBaseUrl);
    if (found?.type !== 'reference') continue;
    for (const ref of found.values) if (ref.startsWith('Patient/')) out.add(ref.slice('Patient/'.length));
    if (out.size > 0) break;
  }
  return [...out];
}

const compartmentTypes = new Map<string, boolean>();

/**
 * Whether resources of a type belong to patients (the Patient itself, or a type with a
 * `patient`/`subject`-like reference that may point at a Patient). Other types (Practitioner,
 * Organization, Medication...) are shared reference data.
 */
export function isPatientCompartmentType(type: string): boolean {
  let known = compartmentTypes.get(type);
  if (known === undefined) {
    known = type === 'Patient' || PATIENT_PARAMS.some((code) => {
      const param = searchParam(type, code);
      return param?.type === 'reference' && (param.targets.length === 0 || param.targets.includes('Patient'));
    });
    compartmentTypes.set(type, known);
  }
  return known;
}
