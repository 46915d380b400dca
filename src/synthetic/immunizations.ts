import type { Immunization, Location, Patient, Practitioner, Reference } from '@medplum/fhirtypes';
import type { Rng } from './random.js';
import { CVX, concept } from './systems.js';
import { YEAR, date, dateTime } from './time.js';

const VACCINES = {
  hepBPediatric: ['08', 'Hep B, adolescent or pediatric'],
  dtap: ['20', 'DTaP'],
  ipv: ['10', 'IPV'],
  hib: ['49', 'Hib (PRP-OMP)'],
  pcv13: ['133', 'Pneumococcal conjugate PCV 13'],
  rotavirus: ['119', 'rotavirus, monovalent'],
  mmr: ['03', 'MMR'],
  varicella: ['21', 'varicella'],
  hepA: ['83', 'Hep A, ped/adol, 2 dose'],
  tdap: ['115', 'Tdap'],
  hpv: ['62', 'HPV, quadrivalent'],
  meningococcal: ['114', 'meningococcal MCV4P'],
  flu: ['140', 'Influenza, seasonal, injectable, preservative free'],
  td: ['113', 'Td (adult) preservative free'],
  zoster: ['187', 'zoster vaccine recombinant'],
  ppsv23: ['33', 'pneumococcal polysaccharide vaccine, 23 valent'],
  covid: ['208', 'SARS-COV-2 (COVID-19) vaccine, mRNA, spike protein, LNP, preservative free, 30 mcg/0.3mL dose'],
} as const;

export type Vaccine = keyof typeof VACCINES;

const COVID_VACCINES_FROM = Date.parse('2020-12-15T00:00:00Z');

/** Which vaccines a wellness visit at `age` gives, roughly after the US schedule; `given` holds the once-only ones already given. */
export function vaccinesDue(rng: Rng, age: number, at: number, given: Set<Vaccine>): Vaccine[] {
  const due: Vaccine[] = [];
  const once = (v: Vaccine, p: number): void => {
    if (!given.has(v) && rng.chance(p)) {
      given.add(v);
      due.push(v);
    }
  };
  if (age < 0.2) due.push('hepBPediatric');
  else if (age < 1.5) due.push(...rng.sample<Vaccine>(['dtap', 'ipv', 'hib', 'pcv13', 'hepBPediatric', ...(age < 0.7 ? (['rotavirus'] as const) : [])], rng.int(2, 4)));
  else if (age < 2.5) due.push(...rng.sample<Vaccine>(['mmr', 'varicella', 'hepA'], rng.int(1, 2)));
  else if (age >= 4 && age < 7) due.push(...rng.sample<Vaccine>(['dtap', 'ipv', 'mmr', 'varicella'], rng.int(1, 3)));
  else if (age >= 11 && age < 13) due.push(...rng.sample<Vaccine>(['tdap', 'hpv', 'meningococcal'], rng.int(1, 3)));
  if (age >= 0.5 && rng.chance(age >= 65 ? 0.65 : 0.45)) due.push('flu');
  if (age >= 19 && rng.chance(0.08)) due.push('td');
  if (age >= 50) once('zoster', 0.25);
  if (age >= 65) once('ppsv23', 0.35);
  if (at >= COVID_VACCINES_FROM && age >= 12) once('covid', 0.5);
  return due;
}

export interface ImmunizationInput {
  readonly vaccine: Vaccine;
  readonly patient: Reference<Patient>;
  readonly encounter: string;
  readonly at: number;
  readonly location: Reference<Location>;
  readonly performer: Reference<Practitioner>;
}

export function immunizationResource(rng: Rng, input: ImmunizationInput): Immunization {
  const [code, display] = VACCINES[input.vaccine];
  return {
    resourceType: 'Immunization',
    status: 'completed',
    vaccineCode: concept(CVX, code, display),
    patient: input.patient,
    encounter: { reference: input.encounter },
    occurrenceDateTime: dateTime(input.at),
    primarySource: true,
    location: input.location,
    lotNumber: `${String.fromCharCode(65 + rng.int(0, 25), 65 + rng.int(0, 25))}${rng.int(1000, 9999)}`,
    expirationDate: date(input.at + rng.float(0.5, 2) * YEAR),
    performer: [{ actor: input.performer }],
  };
}
