import type { AllergyIntolerance, Patient, Practitioner, Reference } from '@medplum/fhirtypes';
import type { Rng } from './random.js';
import { SNOMED, concept, hl7 } from './systems.js';
import { dateTime } from './time.js';

type Category = 'food' | 'medication' | 'environment';

interface Allergy {
  readonly code: string;
  readonly display: string;
  readonly category: Category;
  readonly weight: number;
  /** Typical reactions, by key of REACTIONS. */
  readonly reactions: readonly ReactionKey[];
}

const REACTIONS = {
  wheal: ['247472004', 'Wheal (finding)'],
  rash: ['271807003', 'Eruption of skin (disorder)'],
  itching: ['418290006', 'Itching of skin (finding)'],
  anaphylaxis: ['39579001', 'Anaphylaxis (disorder)'],
  angioedema: ['41291007', 'Angioedema (disorder)'],
  rhinoconjunctivitis: ['878820003', 'Rhinoconjunctivitis (disorder)'],
  sneezing: ['76067001', 'Sneezing (finding)'],
  dyspnea: ['267036007', 'Dyspnea (finding)'],
  cough: ['49727002', 'Cough (finding)'],
  nausea: ['422587007', 'Nausea (finding)'],
  abdominalPain: ['21522001', 'Abdominal pain (finding)'],
} as const;

type ReactionKey = keyof typeof REACTIONS;

const allergy = (code: string, display: string, category: Category, weight: number, reactions: readonly ReactionKey[]): Allergy => ({ code, display, category, weight, reactions });

export const ALLERGIES: readonly Allergy[] = [
  allergy('91936005', 'Allergy to penicillin (finding)', 'medication', 10, ['wheal', 'rash', 'itching', 'anaphylaxis']),
  allergy('91935009', 'Allergy to peanuts (finding)', 'food', 6, ['anaphylaxis', 'angioedema', 'wheal', 'nausea']),
  allergy('91934008', 'Allergy to nut (finding)', 'food', 4, ['angioedema', 'wheal', 'itching']),
  allergy('91930004', 'Allergy to eggs (finding)', 'food', 3, ['rash', 'abdominalPain', 'nausea']),
  allergy('425525006', 'Allergy to dairy product (finding)', 'food', 3, ['abdominalPain', 'nausea', 'rash']),
  allergy('300913006', 'Shellfish allergy (finding)', 'food', 4, ['wheal', 'angioedema', 'anaphylaxis']),
  allergy('417532002', 'Allergy to fish (finding)', 'food', 2, ['wheal', 'nausea']),
  allergy('300916003', 'Latex allergy (finding)', 'environment', 3, ['rash', 'itching', 'wheal']),
  allergy('419474003', 'Allergy to mould (finding)', 'environment', 5, ['sneezing', 'cough', 'rhinoconjunctivitis']),
  allergy('232347008', 'Dander (animal) allergy (finding)', 'environment', 6, ['sneezing', 'rhinoconjunctivitis', 'itching']),
  allergy('418689008', 'Allergy to grass pollen (finding)', 'environment', 8, ['sneezing', 'rhinoconjunctivitis', 'cough']),
  allergy('419263009', 'Allergy to tree pollen (finding)', 'environment', 6, ['sneezing', 'rhinoconjunctivitis']),
  allergy('232350006', 'House dust mite allergy (finding)', 'environment', 6, ['sneezing', 'cough', 'dyspnea']),
];

export const PENICILLIN_ALLERGY = '91936005';

export interface AllergyInput {
  readonly allergy: Allergy;
  readonly patient: Reference<Patient>;
  readonly encounter: string;
  readonly recorded: number;
  readonly recorder: Reference<Practitioner>;
}

export function allergyResource(rng: Rng, input: AllergyInput): AllergyIntolerance {
  const a = input.allergy;
  const [code, display] = REACTIONS[rng.pick(a.reactions)];
  const severe = code === '39579001' || code === '41291007';
  const confirmed = rng.chance(0.85);
  return {
    resourceType: 'AllergyIntolerance',
    clinicalStatus: hl7('allergyintolerance-clinical', 'active', 'Active'),
    verificationStatus: hl7('allergyintolerance-verification', confirmed ? 'confirmed' : 'unconfirmed', confirmed ? 'Confirmed' : 'Unconfirmed'),
    type: 'allergy',
    category: [a.category],
    criticality: severe ? 'high' : rng.chance(0.1) ? 'unable-to-assess' : 'low',
    code: concept(SNOMED, a.code, a.display),
    patient: input.patient,
    encounter: { reference: input.encounter },
    recordedDate: dateTime(input.recorded),
    recorder: input.recorder,
    reaction: [{ manifestation: [concept(SNOMED, code, display)], severity: severe ? 'severe' : rng.chance(0.7) ? 'mild' : 'moderate' }],
  };
}
