import type { CodeableConcept, Observation, Patient, Reference } from '@medplum/fhirtypes';
import type { TransactionBuilder } from './bundle.js';
import type { Rng } from './random.js';
import { LOINC, SNOMED, TERMINOLOGY, concept } from './systems.js';
import { dateTime } from './time.js';

export type ObservationCategory = 'vital-signs' | 'laboratory' | 'social-history' | 'exam' | 'survey';

const CATEGORY_DISPLAY: Record<ObservationCategory, string> = {
  'vital-signs': 'Vital Signs',
  laboratory: 'Laboratory',
  'social-history': 'Social History',
  exam: 'Exam',
  survey: 'Survey',
};

/** What every observation of one encounter shares. */
export interface Recording {
  readonly tx: TransactionBuilder;
  readonly rng: Rng;
  readonly patient: Reference<Patient>;
  readonly encounter: string;
  /** When it was taken. */
  readonly at: number;
  /** When the result was released (labs come back later than vitals). */
  readonly issued: number;
}

type ObservationValue = Pick<Observation, 'valueQuantity' | 'valueCodeableConcept' | 'valueString' | 'component' | 'interpretation' | 'referenceRange'>;

/** Adds a final Observation and returns its fullUrl. */
export function addObservation(rec: Recording, category: ObservationCategory, code: string, display: string, value: ObservationValue): string {
  const observation: Observation = {
    resourceType: 'Observation',
    status: 'final',
    category: [{ coding: [{ system: `${TERMINOLOGY}/observation-category`, code: category, display: CATEGORY_DISPLAY[category] }] }],
    code: concept(LOINC, code, display),
    subject: rec.patient,
    encounter: { reference: rec.encounter },
    effectiveDateTime: dateTime(rec.at),
    issued: dateTime(rec.issued),
    ...value,
  };
  return rec.tx.add(observation);
}

export type Smoking = 'never' | 'former' | 'current';

const SMOKING: Record<Smoking, CodeableConcept> = {
  never: concept(SNOMED, '266919005', 'Never smoked tobacco (finding)'),
  former: concept(SNOMED, '8517006', 'Ex-smoker (finding)'),
  current: concept(SNOMED, '449868002', 'Smokes tobacco daily (finding)'),
};

export function addSmokingStatus(rec: Recording, smoking: Smoking): void {
  addObservation(rec, 'social-history', '72166-2', 'Tobacco smoking status', { valueCodeableConcept: SMOKING[smoking] });
}

const FINDINGS = [
  'No acute distress. Lungs clear to auscultation bilaterally.',
  'Heart regular rate and rhythm, no murmurs. Abdomen soft, non-tender.',
  'Alert and oriented. Gait steady. No focal deficits.',
  'Skin warm and dry. No edema of the lower extremities.',
  'Mild erythema of the pharynx. No cervical lymphadenopathy.',
  'Tympanic membranes intact. Nasal mucosa mildly congested.',
];

/** A free-text examination note: a valueString observation. */
export function addExamFindings(rec: Recording): void {
  addObservation(rec, 'exam', '29545-1', 'Physical findings Narrative', { valueString: rec.rng.pick(FINDINGS) });
}
