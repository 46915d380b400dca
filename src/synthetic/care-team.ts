import type { CareTeam, CareTeamParticipant, Organization, Patient, Practitioner, Reference } from '@medplum/fhirtypes';
import { LOINC, SNOMED, concept } from './systems.js';
import { dateTime } from './time.js';

export interface CareTeamInput {
  readonly patient: Reference<Patient>;
  readonly encounter: string;
  readonly start: number;
  /** The patient's death, which ends the team. */
  readonly end?: number;
  readonly primary: Reference<Practitioner>;
  readonly others: readonly Reference<Practitioner>[];
  readonly organization: Reference<Organization>;
  /** The long-term conditions the team looks after. */
  readonly reasons: readonly { readonly code: string; readonly display: string }[];
}

/** The patient's longitudinal care team: the patient, their primary care clinician and colleagues. */
export function careTeamResource(input: CareTeamInput): CareTeam {
  const participant: CareTeamParticipant[] = [
    { role: [concept(SNOMED, '116154003', 'Patient (person)')], member: input.patient },
    { role: [concept(SNOMED, '446050000', 'Primary care physician (occupation)')], member: input.primary },
    ...input.others.map((member) => ({ role: [concept(SNOMED, '309343006', 'Physician (occupation)')], member })),
  ];
  return {
    resourceType: 'CareTeam',
    status: input.end === undefined ? 'active' : 'inactive',
    category: [concept(LOINC, 'LA27976-2', 'Longitudinal care-coordination focused care team')],
    subject: input.patient,
    encounter: { reference: input.encounter },
    period: input.end === undefined ? { start: dateTime(input.start) } : { start: dateTime(input.start), end: dateTime(input.end) },
    participant,
    ...(input.reasons.length === 0 ? {} : { reasonCode: input.reasons.map((r) => concept(SNOMED, r.code, r.display)) }),
    managingOrganization: [input.organization],
  };
}
