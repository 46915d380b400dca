import type { Location, Patient, Practitioner, Procedure, Reference } from '@medplum/fhirtypes';
import { SNOMED, concept } from './systems.js';
import { MINUTE, dateTime } from './time.js';

interface ProcedureDef {
  readonly code: string;
  readonly display: string;
  readonly minutes: number;
}

const proc = (code: string, display: string, minutes: number): ProcedureDef => ({ code, display, minutes });

/** SNOMED CT procedures, with a typical duration. */
export const PROCEDURES = {
  medicationReconciliation: proc('430193006', 'Medication reconciliation (procedure)', 15),
  depressionScreening: proc('171207006', 'Depression screening (procedure)', 10),
  needsAssessment: proc('710824005', 'Assessment of health and social care needs (procedure)', 15),
  mammography: proc('24623002', 'Screening mammography (procedure)', 30),
  colonoscopy: proc('73761001', 'Colonoscopy (procedure)', 45),
  chestXray: proc('399208008', 'Plain chest X-ray (procedure)', 15),
  spirometry: proc('23426006', 'Measurement of respiratory function (procedure)', 20),
  throatCulture: proc('117015009', 'Throat culture (procedure)', 10),
  immobilization: proc('274474001', 'Bone immobilization (procedure)', 45),
  suture: proc('288086009', 'Suture open wound (procedure)', 30),
  pci: proc('415070008', 'Percutaneous coronary intervention (procedure)', 90),
  ablation: proc('18286008', 'Catheter ablation of tissue of heart (procedure)', 180),
  kneeReplacement: proc('609588000', 'Total knee replacement (procedure)', 120),
  hipReplacement: proc('52734007', 'Total replacement of hip (procedure)', 150),
} as const satisfies Record<string, ProcedureDef>;

export type ProcedureKey = keyof typeof PROCEDURES;

export interface ProcedureInput {
  readonly key: ProcedureKey;
  readonly patient: Reference<Patient>;
  readonly encounter: string;
  readonly start: number;
  readonly performer: Reference<Practitioner>;
  readonly location: Reference<Location>;
  readonly reason?: string;
}

export function procedureResource(input: ProcedureInput): Procedure {
  const def = PROCEDURES[input.key];
  return {
    resourceType: 'Procedure',
    status: 'completed',
    code: concept(SNOMED, def.code, def.display),
    subject: input.patient,
    encounter: { reference: input.encounter },
    performedPeriod: { start: dateTime(input.start), end: dateTime(input.start + def.minutes * MINUTE) },
    performer: [{ actor: input.performer }],
    location: input.location,
    ...(input.reason === undefined ? {} : { reasonReference: [{ reference: input.reason }] }),
  };
}
