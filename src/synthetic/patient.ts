import type { ContactPoint, HumanName, Organization, Patient, Practitioner, Reference } from '@medplum/fhirtypes';
import { CULTURES, STREETS, STREET_KINDS, asciiSlug, fictionalPhone, type Culture, type Place } from './names.js';
import type { Rng } from './random.js';
import { BCP47, MRN_SYSTEM, SSN_SYSTEM, hl7 } from './systems.js';
import { DAY, YEAR, date, dateTime, yearsBetween } from './time.js';

const BORN_FROM = Date.parse('1925-01-01T00:00:00Z');
const BORN_UNTIL = Date.parse('2025-01-01T00:00:00Z');

/** Who the patient is, and the dates their record spans. */
export interface Person {
  readonly female: boolean;
  readonly culture: Culture;
  readonly given: string;
  readonly family: string;
  readonly birth: number;
  /** The time of death, if the patient has died. */
  readonly death?: number;
}

/** The chance of having died by `asOf`, by age then. */
function deathChance(age: number): number {
  return age >= 90 ? 0.5 : age >= 80 ? 0.3 : age >= 65 ? 0.12 : age >= 40 ? 0.03 : 0.008;
}

export function drawPerson(rng: Rng, asOf: number): Person {
  const female = rng.chance(0.51);
  const culture = rng.weighted(CULTURES, (c) => c.weight);
  const given = rng.pick(female ? culture.female : culture.male);
  const family = rng.pick(culture.family);
  // Birth dates cover 1925 to 2024 evenly, at midnight: a birthDate is a date.
  const birth = Math.floor(rng.float(BORN_FROM, Math.min(BORN_UNTIL, asOf) - DAY) / DAY) * DAY;
  const base = { female, culture, given, family, birth };
  if (!rng.chance(deathChance(yearsBetween(birth, asOf)))) return base;
  // Death falls within the last ten years, and not in the first month of life.
  const from = Math.max(birth + 30 * DAY, asOf - 10 * YEAR);
  return from < asOf ? { ...base, death: Math.floor(rng.float(from, asOf) / 60_000) * 60_000 } : base;
}

const MARITAL = {
  M: 'Married',
  S: 'Never Married',
  D: 'Divorced',
  W: 'Widowed',
} as const;

export interface PatientInput {
  readonly person: Person;
  readonly index: number;
  /** Three letters that set this data set's MRNs apart from another seed's. */
  readonly mrnPrefix: string;
  /** A bijective scramble of the index into 0..999999, for the SSN's last six digits. */
  readonly ssnSerial: number;
  readonly place: Place;
  readonly asOf: number;
  readonly generalPractitioner: Reference<Practitioner>;
  readonly managingOrganization: Reference<Organization>;
}

/**
 * The Patient resource. Identifiers are synthetic by construction: SSNs start with 999, which the
 * US never issues, and phone numbers are in the 555-01xx block reserved for fiction.
 */
export function patientResource(rng: Rng, input: PatientInput): Patient {
  const p = input.person;
  const age = yearsBetween(p.birth, p.death ?? input.asOf);
  const adult = age >= 18;
  const status: keyof typeof MARITAL = !adult ? 'S' : age > 75 && rng.chance(0.35) ? 'W' : rng.weighted(['M', 'S', 'D'] as const, (s) => (s === 'M' ? 5 : s === 'S' ? 3 : 2));
  const middle = rng.chance(0.45) ? [rng.pick(p.female ? p.culture.female : p.culture.male)].filter((m) => m !== p.given) : [];
  const official: HumanName = {
    use: 'official',
    family: p.culture.language.code === 'es' && rng.chance(0.3) ? `${p.family} ${rng.pick(p.culture.family)}` : p.family,
    given: [p.given, ...middle],
    ...(adult ? { prefix: [rng.chance(0.03) ? 'Dr.' : p.female ? (status === 'M' ? 'Mrs.' : 'Ms.') : 'Mr.'] } : {}),
    ...(!p.female && adult && rng.chance(0.02) ? { suffix: ['Jr.'] } : {}),
  };
  const names: HumanName[] = [official];
  if (p.female && status !== 'S' && rng.chance(0.4)) {
    names.push({ use: 'maiden', family: rng.pick(p.culture.family), given: [p.given] });
  }
  const telecom: ContactPoint[] = [{ system: 'phone', value: fictionalPhone(input.place.areaCode, rng.int(0, 99)), use: rng.chance(0.6) ? 'mobile' : 'home' }];
  if (age >= 13 && rng.chance(0.7)) {
    telecom.push({ system: 'email', value: `${asciiSlug(p.given)}.${asciiSlug(p.family)}${input.index}@example.com`, use: 'home' });
  }
  const street = `${rng.int(1, 9999)} ${rng.pick(STREETS)} ${rng.pick(STREET_KINDS)}`;
  const language = rng.chance(0.55) ? p.culture.language : CULTURES[0]?.language ?? p.culture.language;
  const ssn = String(input.ssnSerial).padStart(6, '0');
  return {
    resourceType: 'Patient',
    identifier: [
      { use: 'usual', type: hl7('v2-0203', 'MR', 'Medical Record Number'), system: MRN_SYSTEM, value: `${input.mrnPrefix}${String(input.index).padStart(7, '0')}` },
      { use: 'official', type: hl7('v2-0203', 'SS', 'Social Security number'), system: SSN_SYSTEM, value: `999-${ssn.slice(0, 2)}-${ssn.slice(2)}` },
    ],
    active: true,
    name: names,
    telecom,
    gender: p.female ? 'female' : 'male',
    birthDate: date(p.birth),
    ...(p.death === undefined ? { deceasedBoolean: false } : { deceasedDateTime: dateTime(p.death) }),
    address: [{
      use: 'home',
      type: 'physical',
      line: rng.chance(0.2) ? [street, `Apt ${rng.int(1, 40)}${rng.pick(['A', 'B', 'C', 'D'])}`] : [street],
      city: input.place.city,
      state: input.place.state,
      postalCode: `${input.place.zip3}${String(rng.int(0, 99)).padStart(2, '0')}`,
      country: 'US',
    }],
    maritalStatus: { ...hl7('v3-MaritalStatus', status, MARITAL[status]), text: MARITAL[status] },
    multipleBirthBoolean: rng.chance(0.015),
    communication: [{ language: { coding: [{ system: BCP47, code: language.code, display: language.display }], text: language.display }, preferred: true }],
    generalPractitioner: [input.generalPractitioner],
    managingOrganization: input.managingOrganization,
  };
}
