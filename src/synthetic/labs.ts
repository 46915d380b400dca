import type { DiagnosticReport, Observation, Organization, Reference } from '@medplum/fhirtypes';
import { addObservation, type Recording } from './observations.js';
import { LOINC, SNOMED, TERMINOLOGY, coding, concept, quantity, round } from './systems.js';
import { dateTime } from './time.js';

/** What lab values depend on: sex and the chronic conditions active at the time. */
export interface LabState {
  readonly female: boolean;
  has(condition: string): boolean;
}

interface Analyte {
  readonly code: string;
  readonly display: string;
  readonly unit: string;
  readonly unitDisplay?: string;
  readonly low: number;
  readonly high: number;
  readonly digits: number;
  /** Mean and standard deviation for this patient. */
  readonly dist: (s: LabState) => readonly [number, number];
}

const analyte = (code: string, display: string, unit: string, low: number, high: number, digits: number, dist: Analyte['dist'], unitDisplay?: string): Analyte =>
  unitDisplay === undefined ? { code, display, unit, low, high, digits, dist } : { code, display, unit, low, high, digits, dist, unitDisplay };

const GLUCOSE = analyte('2339-0', 'Glucose [Mass/volume] in Blood', 'mg/dL', 70, 99, 0, (s) => (s.has('diabetes') ? [165, 35] : s.has('prediabetes') ? [112, 8] : [88, 7]));
const CREATININE = analyte('38483-4', 'Creatinine [Mass/volume] in Blood', 'mg/dL', 0.6, 1.3, 2, (s) => (s.has('ckd') ? [1.9, 0.3] : s.female ? [0.8, 0.12] : [1.0, 0.15]));
const A1C = analyte('4548-4', 'Hemoglobin A1c/Hemoglobin.total in Blood', '%', 4, 5.6, 1, (s) => (s.has('diabetes') ? [7.9, 1.1] : s.has('prediabetes') ? [6.0, 0.2] : [5.2, 0.25]));
const TSH = analyte('3016-3', 'Thyrotropin [Units/volume] in Serum or Plasma', 'm[IU]/L', 0.4, 4, 2, (s) => (s.has('hypothyroidism') ? [5.5, 1.8] : [1.9, 0.7]), 'mIU/L');
const EGFR = analyte('33914-3', 'Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum or Plasma by Creatinine-based formula (MDRD)', 'mL/min/{1.73_m2}', 60, 120, 0, (s) => (s.has('ckd') ? [44, 7] : [92, 12]));

interface Panel {
  readonly code: string;
  readonly display: string;
  readonly analytes: readonly Analyte[];
}

export const PANELS = {
  metabolic: {
    code: '51990-0',
    display: 'Basic metabolic panel - Blood',
    analytes: [
      GLUCOSE,
      analyte('6299-2', 'Urea nitrogen [Mass/volume] in Blood', 'mg/dL', 7, 20, 1, (s) => (s.has('ckd') ? [28, 5] : [14, 3.5])),
      CREATININE,
      analyte('49765-1', 'Calcium [Mass/volume] in Blood', 'mg/dL', 8.5, 10.2, 1, () => [9.4, 0.35]),
      analyte('2947-0', 'Sodium [Moles/volume] in Blood', 'mmol/L', 136, 145, 0, () => [140, 2]),
      analyte('6298-4', 'Potassium [Moles/volume] in Blood', 'mmol/L', 3.5, 5.1, 1, (s) => (s.has('ckd') ? [5.0, 0.35] : [4.2, 0.3])),
      analyte('2069-3', 'Chloride [Moles/volume] in Blood', 'mmol/L', 98, 107, 0, () => [103, 2]),
      analyte('20565-8', 'Carbon dioxide, total [Moles/volume] in Blood', 'mmol/L', 22, 29, 0, () => [25, 1.8]),
    ],
  },
  lipids: {
    code: '57698-3',
    display: 'Lipid panel with direct LDL - Serum or Plasma',
    analytes: [
      analyte('2093-3', 'Cholesterol [Mass/volume] in Serum or Plasma', 'mg/dL', 100, 199, 0, (s) => (s.has('hyperlipidemia') ? [245, 25] : [182, 22])),
      analyte('2571-8', 'Triglycerides', 'mg/dL', 40, 149, 0, (s) => (s.has('hyperlipidemia') || s.has('diabetes') ? [205, 45] : [115, 30])),
      analyte('18262-6', 'Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct assay', 'mg/dL', 40, 99, 0, (s) => (s.has('hyperlipidemia') ? [158, 20] : [98, 18])),
      analyte('2085-9', 'Cholesterol in HDL [Mass/volume] in Serum or Plasma', 'mg/dL', 40, 90, 0, (s) => (s.female ? [58, 10] : [48, 9])),
    ],
  },
  cbc: {
    code: '58410-2',
    display: 'CBC panel - Blood by Automated count',
    analytes: [
      analyte('6690-2', 'Leukocytes [#/volume] in Blood by Automated count', '10*3/uL', 4.5, 11, 1, () => [7.2, 1.6]),
      analyte('718-7', 'Hemoglobin [Mass/volume] in Blood', 'g/dL', 12, 17.5, 1, (s) => (s.has('anemia') ? [10.2, 0.8] : s.female ? [13.6, 0.9] : [15.1, 1])),
      analyte('4544-3', 'Hematocrit [Volume Fraction] of Blood by Automated count', '%', 36, 50, 1, (s) => (s.has('anemia') ? [31, 2.5] : s.female ? [40.5, 2.5] : [44.5, 2.8])),
      analyte('777-3', 'Platelets [#/volume] in Blood by Automated count', '10*3/uL', 150, 400, 0, () => [255, 50]),
    ],
  },
  urinalysis: { code: '24357-6', display: 'Urinalysis macro (dipstick) panel - Urine', analytes: [] },
  a1c: { code: A1C.code, display: A1C.display, analytes: [A1C] },
  tsh: { code: TSH.code, display: TSH.display, analytes: [TSH] },
  kidney: { code: '24362-6', display: 'Renal function panel - Serum or Plasma', analytes: [EGFR, CREATININE] },
} as const satisfies Record<string, Panel>;

export type PanelKey = keyof typeof PANELS;

const INTERPRETATION = `${TERMINOLOGY}/v3-ObservationInterpretation`;

function measure(rec: Recording, a: Analyte, state: LabState): string {
  const [mean, sd] = a.dist(state);
  const value = round(Math.max(a.digits === 0 ? 1 : 0.1, rec.rng.normal(mean, sd)), a.digits);
  const flag = value < a.low ? ['L', 'Low'] : value > a.high ? ['H', 'High'] : ['N', 'Normal'];
  const unitDisplay = a.unitDisplay ?? a.unit;
  const value_: Pick<Observation, 'valueQuantity' | 'interpretation' | 'referenceRange'> = {
    valueQuantity: quantity(value, a.unit, unitDisplay),
    interpretation: [{ coding: [coding(INTERPRETATION, flag[0] as string, flag[1] as string)] }],
    referenceRange: [{ low: quantity(a.low, a.unit, unitDisplay), high: quantity(a.high, a.unit, unitDisplay) }],
  };
  return addObservation(rec, 'laboratory', a.code, a.display, value_);
}

/** A dipstick urinalysis: coded, string and quantity results side by side. */
function urinalysis(rec: Recording, infected: boolean): string[] {
  const rng = rec.rng;
  const presence = (positive: boolean) => (positive ? concept(SNOMED, '10828004', 'Positive (qualifier value)') : concept(SNOMED, '260385009', 'Negative (qualifier value)'));
  return [
    addObservation(rec, 'laboratory', '5778-6', 'Color of Urine', { valueCodeableConcept: concept(SNOMED, '371244009', 'Yellow color (qualifier value)') }),
    addObservation(rec, 'laboratory', '5767-9', 'Appearance of Urine', { valueString: infected ? rng.pick(['Cloudy', 'Turbid']) : 'Clear' }),
    addObservation(rec, 'laboratory', '5803-2', 'pH of Urine by Test strip', { valueQuantity: quantity(round(rng.float(5, 7.5) * 2, 0) / 2, '[pH]', 'pH') }),
    addObservation(rec, 'laboratory', '5811-5', 'Specific gravity of Urine by Test strip', { valueQuantity: quantity(round(rng.float(1.005, 1.03), 3), '{SG}', 'SG') }),
    addObservation(rec, 'laboratory', '5799-2', 'Leukocyte esterase [Presence] in Urine by Test strip', { valueCodeableConcept: presence(infected && rng.chance(0.85)) }),
    addObservation(rec, 'laboratory', '5802-4', 'Nitrite [Presence] in Urine by Test strip', { valueCodeableConcept: presence(infected && rng.chance(0.6)) }),
  ];
}

/**
 * Adds the observations of one lab panel and, for panels of several tests, the DiagnosticReport
 * that groups them, performed by `performer` (the laboratory's organization).
 */
export function addLabPanel(rec: Recording, key: PanelKey, state: LabState, performer: Reference<Organization>, infected = false): void {
  const panel: Panel = PANELS[key];
  const results = key === 'urinalysis' ? urinalysis(rec, infected) : panel.analytes.map((a) => measure(rec, a, state));
  if (results.length < 2) return;
  const report: DiagnosticReport = {
    resourceType: 'DiagnosticReport',
    status: 'final',
    category: [{ coding: [coding(`${TERMINOLOGY}/v2-0074`, 'LAB', 'Laboratory')] }],
    code: concept(LOINC, panel.code, panel.display),
    subject: rec.patient,
    encounter: { reference: rec.encounter },
    effectiveDateTime: dateTime(rec.at),
    issued: dateTime(rec.issued),
    performer: [performer],
    result: results.map((reference) => ({ reference })),
  };
  rec.tx.add(report);
}
