import type { Dosage, MedicationRequest, Patient, Practitioner, Reference } from '@medplum/fhirtypes';
import { RXNORM, SNOMED, coding, concept, hl7 } from './systems.js';
import { dateTime } from './time.js';

type Form = 'tablet' | 'capsule' | 'chewable' | 'inhaler' | 'injection' | 'liquid' | 'cream' | 'auto-injector';

export interface Medication {
  readonly code: string;
  readonly display: string;
  readonly form: Form;
  /** `frequency` doses every `period` `periodUnit`. */
  readonly frequency: number;
  readonly period: number;
  readonly periodUnit: 'h' | 'd';
  readonly asNeeded?: boolean;
  /** Not prescribed to a patient allergic to penicillin. */
  readonly penicillin?: boolean;
}

const med = (code: string, display: string, form: Form, frequency: number, period = 1, periodUnit: 'h' | 'd' = 'd', extra: Partial<Medication> = {}): Medication =>
  ({ code, display, form, frequency, period, periodUnit, ...extra });

/** RxNorm clinical drugs, the ones Synthea's modules prescribe for the conditions generated here. */
export const MEDS = {
  lisinopril: med('314076', 'lisinopril 10 MG Oral Tablet', 'tablet', 1),
  amlodipine: med('197361', 'amlodipine 5 MG Oral Tablet', 'tablet', 1),
  hydrochlorothiazide: med('310798', 'Hydrochlorothiazide 25 MG Oral Tablet', 'tablet', 1),
  metformin: med('860975', '24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet', 'tablet', 1),
  insulin: med('106892', 'insulin isophane, human 70 UNT/ML / insulin, regular, human 30 UNT/ML Injectable Suspension [Humulin]', 'injection', 2),
  simvastatin: med('312961', 'Simvastatin 20 MG Oral Tablet', 'tablet', 1),
  atorvastatin: med('259255', 'Atorvastatin 80 MG Oral Tablet', 'tablet', 1),
  fluticasone: med('895994', '120 ACTUAT Fluticasone propionate 0.044 MG/ACTUAT Metered Dose Inhaler', 'inhaler', 2),
  albuterol: med('745679', '200 ACTUAT Albuterol 0.09 MG/ACTUAT Metered Dose Inhaler', 'inhaler', 1, 4, 'h', { asNeeded: true }),
  fluticasoneSalmeterol: med('896209', '60 ACTUAT Fluticasone propionate 0.25 MG/ACTUAT / salmeterol 0.05 MG/ACTUAT Dry Powder Inhaler', 'inhaler', 2),
  aspirin: med('243670', 'aspirin 81 MG Oral Tablet', 'tablet', 1),
  clopidogrel: med('309362', 'Clopidogrel 75 MG Oral Tablet', 'tablet', 1),
  metoprolol: med('866414', '24 HR Metoprolol succinate 100 MG Extended Release Oral Tablet', 'tablet', 1),
  warfarin: med('855332', 'Warfarin Sodium 5 MG Oral Tablet', 'tablet', 1),
  furosemide: med('313988', 'Furosemide 40 MG Oral Tablet', 'tablet', 1),
  carvedilol: med('200031', 'carvedilol 6.25 MG Oral Tablet', 'tablet', 2),
  levothyroxine: med('966222', 'Levothyroxine Sodium 0.075 MG Oral Tablet', 'tablet', 1),
  sertraline: med('312938', 'Sertraline 100 MG Oral Tablet', 'tablet', 1),
  fluoxetine: med('310385', 'FLUoxetine 20 MG Oral Capsule', 'capsule', 1),
  naproxen: med('849574', 'Naproxen sodium 220 MG Oral Tablet', 'tablet', 1, 12, 'h', { asNeeded: true }),
  ibuprofen: med('310965', 'Ibuprofen 200 MG Oral Tablet', 'tablet', 1, 6, 'h', { asNeeded: true }),
  acetaminophen: med('313782', 'Acetaminophen 325 MG Oral Tablet', 'tablet', 1, 6, 'h', { asNeeded: true }),
  acetaminophenChewable: med('313820', 'Acetaminophen 160 MG Chewable Tablet', 'chewable', 1, 6, 'h', { asNeeded: true }),
  oxycodoneAcetaminophen: med('1049221', 'Acetaminophen 325 MG / Oxycodone Hydrochloride 5 MG Oral Tablet', 'tablet', 1, 6, 'h', { asNeeded: true }),
  coldSyrup: med('1043400', 'Acetaminophen 21.7 MG/ML / Dextromethorphan Hydrobromide 1 MG/ML / doxylamine succinate 0.417 MG/ML Oral Solution', 'liquid', 1, 6, 'h', { asNeeded: true }),
  cetirizine: med('1014676', 'cetirizine hydrochloride 5 MG Oral Tablet', 'tablet', 1),
  epinephrine: med('1870230', 'NDA020800 0.3 ML Epinephrine 1 MG/ML Auto-Injector', 'auto-injector', 1, 1, 'd', { asNeeded: true }),
  donepezil: med('997221', 'Donepezil hydrochloride 10 MG Oral Tablet', 'tablet', 1),
  ferrousSulfate: med('310325', 'ferrous sulfate 325 MG Oral Tablet', 'tablet', 1),
  amoxicillin: med('308182', 'Amoxicillin 250 MG Oral Capsule', 'capsule', 3, 1, 'd', { penicillin: true }),
  amoxicillinClavulanate: med('562251', 'Amoxicillin 250 MG / Clavulanate 125 MG Oral Tablet', 'tablet', 2, 1, 'd', { penicillin: true }),
  penicillinV: med('834061', 'Penicillin V Potassium 250 MG Oral Tablet', 'tablet', 4, 1, 'd', { penicillin: true }),
  nitrofurantoin: med('311989', 'Nitrofurantoin 5 MG/ML Oral Suspension', 'liquid', 4),
  phenazopyridine: med('1094107', 'Phenazopyridine hydrochloride 100 MG Oral Tablet', 'tablet', 3),
  hydrocortisone: med('106258', 'Hydrocortisone 10 MG/ML Topical Cream', 'cream', 2),
} as const satisfies Record<string, Medication>;

export type MedKey = keyof typeof MEDS;

const ORAL = coding(SNOMED, '26643006', 'Oral route (qualifier value)');
const FORMS: Record<Form, { value: number; code: string; unit: string; verb: string; route: ReturnType<typeof coding> }> = {
  tablet: { value: 1, code: '{tbl}', unit: 'tablet', verb: 'Take 1 tablet by mouth', route: ORAL },
  capsule: { value: 1, code: '{capsule}', unit: 'capsule', verb: 'Take 1 capsule by mouth', route: ORAL },
  chewable: { value: 1, code: '{tbl}', unit: 'tablet', verb: 'Chew 1 tablet', route: ORAL },
  liquid: { value: 10, code: 'mL', unit: 'mL', verb: 'Take 10 mL by mouth', route: ORAL },
  inhaler: { value: 2, code: '{puff}', unit: 'puff', verb: 'Inhale 2 puffs', route: coding(SNOMED, '447694001', 'Respiratory tract route (qualifier value)') },
  injection: { value: 10, code: '[iU]', unit: 'IU', verb: 'Inject 10 units under the skin', route: coding(SNOMED, '34206005', 'Subcutaneous route (qualifier value)') },
  cream: { value: 1, code: '{application}', unit: 'application', verb: 'Apply a thin layer to the affected skin', route: coding(SNOMED, '6064005', 'Topical route (qualifier value)') },
  'auto-injector': { value: 1, code: '{injection}', unit: 'injection', verb: 'Inject into the outer thigh', route: coding(SNOMED, '78421000', 'Intramuscular route (qualifier value)') },
};

function when(m: Medication): string {
  if (m.periodUnit === 'h') return `every ${m.period} hours${m.asNeeded === true ? ' as needed' : ''}`;
  const times = ['', 'once', 'twice', 'three times', 'four times'][m.frequency] ?? `${m.frequency} times`;
  return `${times} daily${m.asNeeded === true ? ' as needed' : ''}`;
}

function dosage(m: Medication): Dosage {
  const form = FORMS[m.form];
  return {
    sequence: 1,
    text: `${form.verb} ${when(m)}`,
    timing: { repeat: { frequency: m.frequency, period: m.period, periodUnit: m.periodUnit } },
    asNeededBoolean: m.asNeeded === true,
    route: { coding: [form.route], text: form.route.display ?? '' },
    doseAndRate: [{ type: hl7('dose-rate-type', 'ordered', 'Ordered'), doseQuantity: { value: form.value, unit: form.unit, system: 'http://unitsofmeasure.org', code: form.code } }],
  };
}

export interface PrescriptionInput {
  readonly medication: Medication;
  readonly status: 'active' | 'completed' | 'stopped';
  readonly patient: Reference<Patient>;
  readonly encounter: string;
  readonly authoredOn: number;
  readonly requester: Reference<Practitioner>;
  /** The fullUrl of the Condition it treats. */
  readonly reason?: string;
  readonly chronic: boolean;
}

export function medicationRequest(input: PrescriptionInput): MedicationRequest {
  const m = input.medication;
  return {
    resourceType: 'MedicationRequest',
    status: input.status,
    intent: 'order',
    category: [hl7('medicationrequest-category', 'community', 'Community')],
    medicationCodeableConcept: concept(RXNORM, m.code, m.display),
    subject: input.patient,
    encounter: { reference: input.encounter },
    authoredOn: dateTime(input.authoredOn),
    requester: input.requester,
    ...(input.reason === undefined ? {} : { reasonReference: [{ reference: input.reason }] }),
    courseOfTherapyType: input.chronic ? hl7('medicationrequest-course-of-therapy', 'continuous', 'Continuous long term therapy') : hl7('medicationrequest-course-of-therapy', 'acute', 'Short course (acute) therapy'),
    dosageInstruction: [dosage(m)],
  };
}
