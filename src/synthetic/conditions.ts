import type { Condition, Patient, Reference } from '@medplum/fhirtypes';
import type { MedKey } from './medications.js';
import type { ProcedureKey } from './procedures.js';
import type { PanelKey } from './labs.js';
import { SNOMED, concept, hl7 } from './systems.js';
import { dateTime } from './time.js';

export type EncounterKind = 'wellness' | 'outpatient' | 'urgent' | 'emergency' | 'inpatient';

/** A long-term condition: whether a patient has it depends on age; it stays active once diagnosed. */
export interface ChronicCondition {
  readonly key: string;
  readonly code: string;
  readonly display: string;
  /** `[age, probability]` steps: the probability of the last step at or below the patient's age applies. */
  readonly prevalence: readonly (readonly [number, number])[];
  /** Another chronic condition's key that rules this one out. */
  readonly excludes?: string;
  readonly meds: readonly MedKey[];
  /** A procedure that an inpatient stay for this condition may bring. */
  readonly inpatientProcedure?: ProcedureKey;
}

const chronic = (key: string, code: string, display: string, prevalence: ChronicCondition['prevalence'], meds: readonly MedKey[], extra: Partial<ChronicCondition> = {}): ChronicCondition =>
  ({ key, code, display, prevalence, meds, ...extra });

export const CHRONIC: readonly ChronicCondition[] = [
  chronic('hypertension', '59621000', 'Essential hypertension (disorder)', [[18, 0.06], [40, 0.22], [60, 0.45]], ['lisinopril', 'amlodipine', 'hydrochlorothiazide']),
  chronic('diabetes', '44054006', 'Diabetes mellitus type 2 (disorder)', [[30, 0.05], [50, 0.13], [65, 0.2]], ['metformin', 'insulin']),
  chronic('prediabetes', '15777000', 'Prediabetes (finding)', [[25, 0.07], [45, 0.14]], [], { excludes: 'diabetes' }),
  chronic('hyperlipidemia', '55822004', 'Hyperlipidemia (disorder)', [[30, 0.08], [50, 0.25]], ['simvastatin', 'atorvastatin']),
  chronic('asthma', '195967001', 'Asthma (disorder)', [[2, 0.08]], ['fluticasone', 'albuterol']),
  chronic('copd', '13645005', 'Chronic obstructive lung disease (disorder)', [[45, 0.04], [65, 0.09]], ['fluticasoneSalmeterol', 'albuterol']),
  chronic('chd', '53741008', 'Coronary arteriosclerosis (disorder)', [[45, 0.04], [65, 0.11]], ['aspirin', 'clopidogrel', 'metoprolol'], { inpatientProcedure: 'pci' }),
  chronic('afib', '49436004', 'Atrial fibrillation (disorder)', [[55, 0.03], [70, 0.08]], ['warfarin', 'metoprolol'], { inpatientProcedure: 'ablation' }),
  chronic('heartFailure', '84114007', 'Heart failure (disorder)', [[60, 0.04], [75, 0.08]], ['furosemide', 'carvedilol']),
  chronic('ckd', '433144002', 'Chronic kidney disease stage 3 (disorder)', [[50, 0.04], [70, 0.1]], []),
  chronic('hypothyroidism', '40930008', 'Hypothyroidism (disorder)', [[20, 0.03], [50, 0.07]], ['levothyroxine']),
  chronic('depression', '370143000', 'Major depressive disorder (disorder)', [[13, 0.07]], ['sertraline', 'fluoxetine']),
  chronic('anxiety', '197480006', 'Anxiety disorder (disorder)', [[13, 0.06]], ['sertraline']),
  chronic('migraine', '37796009', 'Migraine (disorder)', [[12, 0.07]], ['naproxen']),
  chronic('osteoarthritis', '239873007', 'Osteoarthritis of knee (disorder)', [[45, 0.06], [65, 0.16]], ['naproxen', 'acetaminophen'], { inpatientProcedure: 'kneeReplacement' }),
  chronic('rhinitis', '61582004', 'Allergic rhinitis (disorder)', [[3, 0.1]], ['cetirizine']),
  chronic('alzheimers', '26929004', "Alzheimer's disease (disorder)", [[70, 0.04], [80, 0.1]], ['donepezil']),
  chronic('anemia', '271737000', 'Anemia (disorder)', [[0, 0.04]], ['ferrousSulfate']),
];

/** Found, not drawn: an adult whose BMI is 30 or more gets this one. */
export const OBESITY = chronic('obesity', '162864005', 'Body mass index 30+ - obesity (finding)', [], []);

/** A short illness or injury: the reason for an outpatient, urgent, emergency or inpatient encounter. */
export interface AcuteCondition {
  readonly code: string;
  readonly display: string;
  readonly ages: readonly [number, number];
  readonly kinds: readonly EncounterKind[];
  readonly weight: number;
  /** Days until it resolves. */
  readonly days: readonly [number, number];
  /** One of these may be prescribed. */
  readonly meds: readonly MedKey[];
  readonly procedures: readonly ProcedureKey[];
  readonly labs: readonly PanelKey[];
  readonly fever?: boolean;
  readonly pain?: readonly [number, number];
  /** Only diagnosed on or after this date (e.g. COVID-19). */
  readonly notBefore?: string;
  /** Only for a patient with this chronic condition. */
  readonly requires?: string;
}

const acute = (code: string, display: string, a: Omit<AcuteCondition, 'code' | 'display'>): AcuteCondition => ({ code, display, ...a });
const OFFICE: readonly EncounterKind[] = ['outpatient', 'urgent'];

export const ACUTE: readonly AcuteCondition[] = [
  acute('444814009', 'Viral sinusitis (disorder)', { ages: [2, 110], kinds: OFFICE, weight: 10, days: [7, 21], meds: ['acetaminophen', 'amoxicillinClavulanate'], procedures: [], labs: [] }),
  acute('10509002', 'Acute bronchitis (disorder)', { ages: [2, 110], kinds: [...OFFICE, 'emergency'], weight: 8, days: [7, 21], meds: ['coldSyrup'], procedures: ['chestXray', 'spirometry'], labs: [], fever: true }),
  acute('195662009', 'Acute viral pharyngitis (disorder)', { ages: [2, 110], kinds: OFFICE, weight: 8, days: [5, 10], meds: ['acetaminophen'], procedures: [], labs: [], fever: true }),
  acute('43878008', 'Streptococcal sore throat (disorder)', { ages: [3, 45], kinds: OFFICE, weight: 5, days: [7, 14], meds: ['penicillinV', 'amoxicillin'], procedures: ['throatCulture'], labs: [], fever: true }),
  acute('65363002', 'Otitis media (disorder)', { ages: [0, 12], kinds: OFFICE, weight: 12, days: [7, 14], meds: ['amoxicillin', 'acetaminophenChewable'], procedures: [], labs: [], fever: true, pain: [3, 6] }),
  acute('68566005', 'Urinary tract infectious disease (disorder)', { ages: [5, 110], kinds: OFFICE, weight: 5, days: [5, 10], meds: ['nitrofurantoin', 'phenazopyridine'], procedures: [], labs: ['urinalysis'], pain: [2, 5] }),
  acute('44465007', 'Sprain of ankle (disorder)', { ages: [5, 80], kinds: ['urgent', 'emergency'], weight: 5, days: [14, 42], meds: ['ibuprofen', 'naproxen'], procedures: [], labs: [], pain: [4, 7] }),
  acute('263102004', 'Fracture subluxation of wrist (disorder)', { ages: [5, 95], kinds: ['emergency'], weight: 3, days: [42, 84], meds: ['oxycodoneAcetaminophen', 'ibuprofen'], procedures: ['immobilization'], labs: [], pain: [6, 9] }),
  acute('284551006', 'Laceration of foot (disorder)', { ages: [3, 90], kinds: ['urgent', 'emergency'], weight: 3, days: [14, 28], meds: ['ibuprofen'], procedures: ['suture'], labs: [], pain: [3, 6] }),
  acute('370247008', 'Facial laceration (disorder)', { ages: [1, 90], kinds: ['urgent', 'emergency'], weight: 2, days: [14, 28], meds: ['acetaminophen'], procedures: ['suture'], labs: [], pain: [3, 6] }),
  acute('62106007', 'Concussion with no loss of consciousness (disorder)', { ages: [5, 90], kinds: ['emergency'], weight: 2, days: [7, 30], meds: ['acetaminophen'], procedures: [], labs: [], pain: [2, 6] }),
  acute('271807003', 'Eruption of skin (disorder)', { ages: [0, 110], kinds: OFFICE, weight: 3, days: [7, 21], meds: ['hydrocortisone'], procedures: [], labs: [] }),
  acute('233604007', 'Pneumonia (disorder)', { ages: [0, 110], kinds: ['emergency', 'inpatient'], weight: 3, days: [14, 35], meds: ['amoxicillinClavulanate'], procedures: ['chestXray'], labs: ['cbc', 'metabolic'], fever: true }),
  acute('840539006', 'Disease caused by severe acute respiratory syndrome coronavirus 2 (disorder)', { ages: [0, 110], kinds: ['outpatient', 'emergency', 'inpatient'], weight: 4, days: [10, 30], meds: ['acetaminophen'], procedures: [], labs: ['cbc'], fever: true, notBefore: '2020-03-01' }),
  acute('22298006', 'Myocardial infarction (disorder)', { ages: [40, 110], kinds: ['emergency', 'inpatient'], weight: 20, days: [28, 60], meds: ['aspirin', 'clopidogrel'], procedures: ['pci'], labs: ['cbc', 'metabolic'], pain: [6, 10], requires: 'chd' }),
  acute('5913000', 'Fracture of neck of femur (disorder)', { ages: [65, 110], kinds: ['inpatient'], weight: 1, days: [60, 120], meds: ['oxycodoneAcetaminophen'], procedures: ['hipReplacement'], labs: ['cbc'], pain: [7, 10] }),
];

export interface ConditionInput {
  readonly code: string;
  readonly display: string;
  readonly patient: Reference<Patient>;
  readonly encounter: string;
  readonly onset: number;
  readonly recorded: number;
  /** When it resolved; absent while it is active. */
  readonly abatement?: number;
  readonly problemList: boolean;
}

export function conditionResource(input: ConditionInput): Condition {
  const resolved = input.abatement !== undefined;
  return {
    resourceType: 'Condition',
    clinicalStatus: hl7('condition-clinical', resolved ? 'resolved' : 'active', resolved ? 'Resolved' : 'Active'),
    verificationStatus: hl7('condition-ver-status', 'confirmed', 'Confirmed'),
    category: [input.problemList ? hl7('condition-category', 'problem-list-item', 'Problem List Item') : hl7('condition-category', 'encounter-diagnosis', 'Encounter Diagnosis')],
    code: concept(SNOMED, input.code, input.display),
    subject: input.patient,
    encounter: { reference: input.encounter },
    onsetDateTime: dateTime(input.onset),
    ...(resolved ? { abatementDateTime: dateTime(input.abatement) } : {}),
    recordedDate: dateTime(input.recorded),
  };
}
