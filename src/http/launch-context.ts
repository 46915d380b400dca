import type { Repository } from '../fhir/index.js';

/**
 * The patient a user's standalone launch puts in context (SMART `launch/patient`): a patient
 * user's own record; for a user linked to a RelatedPerson, the patient that RelatedPerson is
 * for. Anyone else gets no patient context (there is no patient picker yet), and a link that
 * cannot be read yields none rather than a guess.
 */
export async function launchPatient(repository: Repository, fhirUser: string | undefined): Promise<string | undefined> {
  if (fhirUser === undefined) return undefined;
  const [type, id] = fhirUser.split('/');
  if (id === undefined || id === '') return undefined;
  if (type === 'Patient') return id;
  if (type !== 'RelatedPerson') return undefined;
  try {
    const version = await repository.read('RelatedPerson', id);
    const ref = (JSON.parse(version.json) as { patient?: { reference?: unknown } }).patient?.reference;
    if (typeof ref !== 'string') return undefined;
    const m = /^(?:.*\/)?Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(ref);
    return m?.[1];
  } catch {
    return undefined;
  }
}
