import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '@medplum/fhirtypes';
import { startTestVigil, type TestVigil } from '../../testing/harness.js';
import { ReferenceSearch, fold, referenceParams, type DRange, type RefParam, type Values } from '../../testing/search-reference.js';

/*
 * Search over encrypted data, checked against a brute-force reference: a seeded data set is
 * written through the REST API, hundreds of generated queries are run page by page, and every
 * answer is compared with src/testing/search-reference.ts, which evaluates the FHIRPath of each
 * parameter over the plain resources and applies docs/search.md one resource at a time.
 */

// ---------------------------------------------------------------------------------------------
// Seeded randomness (mulberry32): the same data and queries on every run.

class Rand {
  #a: number;

  constructor(seed: number) {
    this.#a = seed >>> 0;
  }

  next(): number {
    this.#a = (this.#a + 0x6d2b79f5) | 0;
    let t = Math.imul(this.#a ^ (this.#a >>> 15), 1 | this.#a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  between(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)] as T;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }
}

type Json = Record<string, unknown>;
const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
const cut = <T extends Json>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

// ---------------------------------------------------------------------------------------------
// The data set.

const FAMILIES = [
  'Anders', 'Andersen', 'Anderson', 'Andersson-Lindqvist', 'Müller', 'Mueller', 'MÜLLER-Schmidt', 'García', 'Garcia',
  'García-Márquez de León', 'de  la Cruz', 'Vandenberghe-Lefebvre', 'Vandenberghe-Martens', 'Vandenberg', "O'Brien",
  'McDONALD', 'Nguyễn', 'Ångström', 'Øster', 'Łukaszewicz-Wiśniewska', 'Papadopoulos-Karagiannis', 'Wolfeschlegelsteinhausen',
  'Zoë', 'Smith', 'SMITH', 'Smithson', 'Dupont', 'Du Pont', 'Dupont-Aignan', 'Yılmaz', 'Çelik', 'Šťastný', 'Svensson', 'Li', 'Lee',
  '李', 'Σωκράτης',
];
const GIVENS = [
  'José', 'Jose', 'JOSÉ', 'Marie', 'Marie-Claire', 'Anne', 'Anne-Sophie', 'Zoë', 'Chloé', 'Renée', 'Søren', 'Björn', 'Ana', 'Anaïs',
  'Élodie', 'Jean', 'Jean-Baptiste', 'Nikolaus', 'Maximilian-Alexander', 'Peter', 'Pedro', 'Petra', 'Ángel',
];
const CITIES = ['Zürich', 'Zurich', 'São Paulo', 'Sao Paulo', 'Montréal', 'MONTREAL', 'Saint-Étienne', 'Saint-Denis', 'Los Angeles', 'Los  Alamos', 'Kraków', 'Düsseldorf', 'Reykjavík', 'Llanfairpwllgwyngyll', 'Springfield', 'Spring Valley'];
const COUNTRIES = ['CH', 'Brasil', 'Canada', 'France', 'USA', 'Österreich'];
const TZ = ['Z', '+02:00', '-05:00', '+10:00', '+05:30', '-03:00'];
const MRN = 'http://hospital.example/mrn';
const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const SNOMED = 'http://snomed.info/sct';
const PROFILE = 'http://example.org/fhir/StructureDefinition/vigil-patient';

interface LabCode {
  readonly code: string;
  readonly display: string;
  readonly unit?: string;
  readonly ucum?: string;
  readonly lo?: number;
  readonly hi?: number;
  readonly category: string;
}
const LABS: readonly LabCode[] = [
  { code: '8867-4', display: 'Heart rate', unit: 'beats/minute', ucum: '/min', lo: 40, hi: 180, category: 'vital-signs' },
  { code: '8480-6', display: 'Systolic blood pressure', unit: 'mmHg', ucum: 'mm[Hg]', lo: 90, hi: 190, category: 'vital-signs' },
  { code: '29463-7', display: 'Body weight', unit: 'kg', ucum: 'kg', lo: 3, hi: 150, category: 'vital-signs' },
  { code: '8302-2', display: 'Body height', unit: 'cm', ucum: 'cm', lo: 50, hi: 200, category: 'vital-signs' },
  { code: '8310-5', display: 'Body temperature', unit: 'Cel', ucum: 'Cel', lo: 35, hi: 41, category: 'vital-signs' },
  { code: '2339-0', display: 'Glucose [Mass/volume] in Blood', unit: 'mg/dL', ucum: 'mg/dL', lo: 60, hi: 300, category: 'laboratory' },
  { code: '718-7', display: 'Hemoglobin [Mass/volume] in Blood', unit: 'g/dL', ucum: 'g/dL', lo: 7, hi: 18, category: 'laboratory' },
  { code: '39156-5', display: 'Body mass index (BMI) [Ratio]', unit: 'kg/m2', ucum: 'kg/m2', lo: 15, hi: 45, category: 'vital-signs' },
  { code: '72166-2', display: 'Tobacco smoking status', category: 'social-history' },
];
const CONDITIONS = [
  ['38341003', 'Hypertension', 'Hypertension artérielle'],
  ['44054006', 'Diabetes mellitus type 2', 'Type 2 diabetes'],
  ['195967001', 'Asthma', 'Asthme'],
  ['10509002', 'Acute bronchitis', 'Bronchite aiguë'],
  ['37796009', 'Migraine', 'Migraine with aura and nausea'],
  ['65966004', 'Fracture of forearm', 'Broken arm'],
] as const;

/** A date or dateTime at a random precision: year, month, day, seconds with a zone, milliseconds in UTC. */
function dateTimeText(r: Rand, from: number, to: number, minPrecision = 0): string {
  const y = r.between(from, to);
  const mo = r.between(1, 12);
  const d = r.between(1, 28);
  const h = r.chance(0.3) ? r.pick([0, 1, 22, 23]) : r.int(24);
  const p = Math.max(minPrecision, r.int(20));
  if (p < 2) return `${y}`;
  if (p < 4) return `${y}-${pad(mo)}`;
  if (p < 8) return `${y}-${pad(mo)}-${pad(d)}`;
  const time = `${y}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(r.int(60))}:${pad(r.int(60))}`;
  if (p < 10) return `${time}.${pad(r.int(1000), 3)}Z`;
  return `${time}${r.pick(TZ)}`;
}

function quantityValue(r: Rand, lo: number, hi: number): number {
  const base = r.between(lo, hi);
  const frac = r.pick([0, 0, 0.5, r.int(10) / 10, r.int(100) / 100, 0.05]);
  return Number((base + frac).toFixed(2));
}

function humanName(r: Rand, i: number): Json {
  const family = r.pick(FAMILIES);
  const given = Array.from({ length: r.between(1, 3) }, () => r.pick(GIVENS));
  return cut({
    use: r.pick(['official', 'usual', undefined]),
    family,
    given,
    prefix: r.chance(0.2) ? [r.pick(['Dr.', 'Mme', 'Sr.', 'Prof. Dr.'])] : undefined,
    suffix: r.chance(0.12) ? [r.pick(['Jr.', 'III', 'PhD', 'Sr., MD'])] : undefined,
    text: i % 5 === 0 ? `${given[0] ?? ''} ${family}` : undefined,
  });
}

function address(r: Rand, home = true): Json {
  return cut({
    use: r.pick([home ? 'home' : 'billing', 'work', undefined]),
    line: [`${r.between(1, 300)} ${r.pick(['Rue de la Paix', 'Bahnhofstraße', 'Main St', 'Avenida Paulista', 'Calle Mayor'])}`],
    city: r.pick(CITIES),
    state: r.chance(0.5) ? r.pick(['QC', 'ZH', 'SP', 'CA', 'Île-de-France']) : undefined,
    postalCode: r.chance(0.8) ? r.pick(['8001', '80-123', 'H2X 1Y4', '90001', '01310-100', '75002']) : undefined,
    country: r.chance(0.7) ? r.pick(COUNTRIES) : undefined,
  });
}

/**
 * Blood pressure panels: their values are in components, so `combo-code`, `combo-value-quantity`,
 * `combo-value-concept` and `combo-data-absent-reason` (union parameters, not indexed under their
 * own names) differ from `code` and `value-quantity`. A few panels also carry a value of their own.
 */
function panels(r: Rand, patIds: readonly string[]): Json[] {
  const component = (code: string, display: string): Json => {
    const form = r.int(10);
    const value =
      form < 6
        ? { valueQuantity: { value: quantityValue(r, 50, 190), unit: 'mmHg', system: UCUM, code: 'mm[Hg]' } }
        : form < 8
          ? { valueQuantity: { value: quantityValue(r, 50, 190), unit: 'mmHg' } }
          : form < 9
            ? { valueCodeableConcept: { coding: [{ system: SNOMED, code: r.pick(['271650006', '163031004']) }], text: r.pick(['Diastolic pressure', 'High']) } }
            : { dataAbsentReason: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/data-absent-reason', code: r.pick(['unknown', 'asked-declined']) }] } };
    return { code: { coding: [{ system: LOINC, code, display }], ...(r.chance(0.3) ? { text: display } : {}) }, ...value };
  };
  return Array.from({ length: 30 }, (_, i) =>
    cut({
      resourceType: 'Observation',
      id: `obs-bp-${pad(i + 1)}`,
      status: 'final',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
      code: { coding: [{ system: LOINC, code: '85354-9', display: 'Blood pressure panel' }] },
      subject: { reference: `Patient/${r.pick(patIds)}` },
      effectiveDateTime: dateTimeText(r, 2018, 2024),
      component: i % 7 === 6 ? [component('8480-6', 'Systolic blood pressure')] : [component('8480-6', 'Systolic blood pressure'), component('8462-4', 'Diastolic blood pressure')],
      ...(i % 10 === 0 ? { valueQuantity: { value: quantityValue(r, 60, 120), unit: 'mmHg', system: UCUM, code: 'mm[Hg]' } } : i % 10 === 5 ? { dataAbsentReason: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/data-absent-reason', code: 'unknown' }] } } : {}),
    }),
  );
}

/** The whole data set, in an order where every reference points backwards. */
function generate(r: Rand, base: string): Json[] {
  const out: Json[] = [];
  const orgIds = [...Array.from({ length: 9 }, (_, i) => `org-${pad(i + 1)}`), 'shared-1'];
  const pracIds = [...Array.from({ length: 14 }, (_, i) => `prac-${pad(i + 1)}`), 'shared-1'];
  const patIds = Array.from({ length: 60 }, (_, i) => `pat-${pad(i + 1, 3)}`);
  const encIds = Array.from({ length: 60 }, (_, i) => `enc-${pad(i + 1)}`);
  const condIds = Array.from({ length: 40 }, (_, i) => `cond-${pad(i + 1)}`);
  const orgNames = ['Hôpital Saint-Louis', 'HOPITAL SAINT-ANTOINE', 'General Hospital', 'Universitätsklinikum Zürich', 'Clínica Santa María', "St. Mary's Medical Center", 'Lab Corp', 'Nord Santé', 'Vandenberghe Praktijk', 'Shared Clinic'];
  const partOf: Record<string, string> = { 'org-04': 'org-01', 'org-05': 'org-04', 'org-06': 'org-02', 'org-08': 'org-01' };
  orgIds.forEach((id, i) => {
    out.push(
      cut({
        resourceType: 'Organization',
        id,
        active: r.pick([true, false, undefined]),
        identifier: r.chance(0.7) ? [{ system: 'http://example.org/org-ids', value: `ORG-${100 + i}` }] : undefined,
        type: r.chance(0.8) ? [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: r.pick(['prov', 'dept', 'team']), display: r.pick(['Healthcare Provider', 'Hospital Department', 'Organizational team']) }] }] : undefined,
        name: orgNames[i],
        alias: r.chance(0.3) ? [r.pick(['HSL', 'Le Nord', 'Mary'])] : undefined,
        address: r.chance(0.8) ? [address(r, false)] : undefined,
        partOf: partOf[id] === undefined ? undefined : { reference: `Organization/${partOf[id]}` },
      }),
    );
  });
  pracIds.forEach((id, i) => {
    out.push(
      cut({
        resourceType: 'Practitioner',
        id,
        active: r.pick([true, false, undefined]),
        identifier: r.chance(0.8) ? [{ system: 'http://hl7.org/fhir/sid/us-npi', value: String(1_000_000_000 + i * 7919) }] : undefined,
        name: [{ ...humanName(r, i), prefix: ['Dr.'] }],
        telecom: r.chance(0.7) ? [{ system: 'phone', value: `+41-44-555-${pad(i, 4)}` }, { system: 'email', value: `prac${i}@clinic.example` }] : undefined,
        address: r.chance(0.6) ? [address(r)] : undefined,
        gender: r.pick(['male', 'female', 'other', undefined]),
        communication: r.chance(0.5) ? [{ coding: [{ system: 'urn:ietf:bcp:47', code: r.pick(['fr', 'de', 'en', 'pt']) }] }] : undefined,
      }),
    );
  });
  const special: Record<number, Json> = {
    4: { value: 'A,B-17' },
    5: { system: 'urn:oid:1.2.3', value: 'X|9' },
    6: { value: 'C\\D' },
    7: { system: 'urn:oid:1.2.3', value: 'pay$ment' },
  };
  patIds.forEach((id, i) => {
    const idents: Json[] = [cut({ system: MRN, value: `MRN-${1000 + i}`, type: r.chance(0.3) ? { text: r.pick(['Medical record number', 'Numéro de dossier médical']) } : undefined })];
    if (r.chance(0.4)) idents.push(cut({ value: `LEGACY-${i % 7}`, type: r.chance(0.4) ? { text: 'Legacy identifier of the old system' } : undefined }));
    if (special[i] !== undefined) idents.push(special[i] as Json);
    const telecom: Json[] = [];
    if (r.chance(0.7)) telecom.push({ system: 'phone', value: `+1-555-01${pad(i % 40)}`, use: r.pick(['home', 'mobile']) });
    if (r.chance(0.5)) telecom.push({ system: 'email', value: `patient${i}@example.org` });
    const deceased = i % 9 === 3 ? { deceasedDateTime: r.pick([dateTimeText(r, 2018, 2024), '2020-01-01T05:00:00+10:00', '2022-12-31T23:30:00-05:00']) } : i === 10 ? { deceasedBoolean: true } : {};
    const birth = r.int(10);
    out.push(
      cut({
        resourceType: 'Patient',
        id,
        meta:
          i % 6 === 0 || i % 4 === 0 || i % 10 === 1
            ? cut({
                profile: i % 6 === 0 ? [PROFILE] : undefined,
                tag: i % 4 === 0 ? [{ system: 'http://example.org/tags', code: r.pick(['vip', 'research']), display: r.pick(['Very important', 'Research cohort']) }] : undefined,
                security: i % 10 === 1 ? [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }] : undefined,
              })
            : undefined,
        identifier: idents,
        active: r.pick([true, false, undefined]),
        name: Array.from({ length: r.chance(0.25) ? 2 : 1 }, (_, k) => humanName(r, i + k)),
        telecom: telecom.length === 0 ? undefined : telecom,
        gender: r.pick(['male', 'female', 'female', 'male', 'other', 'unknown', undefined]),
        birthDate: birth === 0 ? undefined : birth < 3 ? `${r.between(1930, 2020)}` : birth < 5 ? `${r.between(1930, 2020)}-${pad(r.between(1, 12))}` : `${r.between(1930, 2020)}-${pad(r.between(1, 12))}-${pad(r.between(1, 28))}`,
        ...deceased,
        address: r.chance(0.8) ? Array.from({ length: r.chance(0.2) ? 2 : 1 }, () => address(r)) : undefined,
        managingOrganization: r.chance(0.7) ? { reference: `Organization/${r.pick(orgIds)}` } : undefined,
        generalPractitioner: r.chance(0.6) ? [{ reference: r.chance(0.75) ? `Practitioner/${r.pick(pracIds)}` : `Organization/${r.pick(orgIds)}` }] : undefined,
        communication: r.chance(0.3) ? [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: r.pick(['fr', 'de', 'en']) }] } }] : undefined,
      }),
    );
  });
  encIds.forEach((id) => {
    const cls = r.pick([
      ['AMB', 'ambulatory'],
      ['IMP', 'inpatient encounter'],
      ['EMER', 'emergency'],
      ['HH', 'home health'],
    ] as const);
    const start = dateTimeText(r, 2016, 2024, r.chance(0.8) ? 10 : 4);
    const period = r.int(10);
    out.push(
      cut({
        resourceType: 'Encounter',
        id,
        status: r.pick(['finished', 'finished', 'in-progress', 'planned', 'cancelled']),
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: cls[0], display: cls[1] },
        type: r.chance(0.7) ? [{ coding: [{ system: SNOMED, code: r.pick(['185349003', '270427003']), display: r.pick(['Encounter for check up', 'Patient-initiated encounter']) }], text: r.pick(['Check-up', 'Consultation de suivi', undefined]) }] : undefined,
        subject: r.chance(0.92) ? { reference: `Patient/${r.pick(patIds)}` } : undefined,
        participant: r.chance(0.8)
          ? Array.from({ length: r.between(1, 2) }, () => ({ type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: r.pick(['PPRF', 'ATND', 'CON']) }] }], individual: { reference: `Practitioner/${r.pick(pracIds)}` } }))
          : undefined,
        period: period === 0 ? undefined : period < 7 ? { start, end: start.length > 10 ? start.replace(/T(\d{2})/, (_m, h: string) => `T${h === '23' ? '23' : pad(Number(h) + 1)}`) : start } : period < 9 ? { start } : { end: start },
        length: r.chance(0.5) ? { value: r.pick([15, 30, 45, 60, 90, 120, 30.5]), unit: 'min', system: UCUM, code: 'min' } : undefined,
        reasonCode: r.chance(0.3) ? [{ coding: [{ system: SNOMED, code: r.pick(['38341003', '195967001']) }], text: r.pick(['Hypertension follow-up', 'Asthma review']) }] : undefined,
        serviceProvider: r.chance(0.8) ? { reference: `Organization/${r.pick(orgIds.slice(0, 9))}` } : undefined,
      }),
    );
  });
  condIds.forEach((id) => {
    const c = r.pick(CONDITIONS);
    const status = r.pick(['active', 'active', 'recurrence', 'remission', 'resolved', 'inactive']);
    const onset = r.int(10);
    out.push(
      cut({
        resourceType: 'Condition',
        id,
        clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: status }] },
        verificationStatus: r.chance(0.7) ? { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: r.pick(['confirmed', 'provisional']) }] } : undefined,
        category: r.chance(0.6) ? [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: r.pick(['problem-list-item', 'encounter-diagnosis']) }] }] : undefined,
        code: { coding: [{ system: SNOMED, code: c[0], display: c[1] }], text: r.chance(0.6) ? c[2] : undefined },
        subject: { reference: `Patient/${r.pick(patIds)}` },
        encounter: r.chance(0.4) ? { reference: `Encounter/${r.pick(encIds)}` } : undefined,
        ...(onset < 5
          ? { onsetDateTime: dateTimeText(r, 1990, 2024) }
          : onset < 6
            ? { onsetPeriod: { start: dateTimeText(r, 2000, 2010, 4), end: dateTimeText(r, 2011, 2020, 4) } }
            : onset < 7
              ? { onsetString: r.pick(['childhood', 'Since 2015', 'Après la naissance de son fils aîné']) }
              : onset < 8
                ? { onsetAge: { value: r.pick([5, 12, 40, 40.5, 67]), unit: 'years', system: UCUM, code: 'a' } }
                : {}),
        abatementDateTime: status === 'resolved' && r.chance(0.7) ? dateTimeText(r, 2021, 2024) : undefined,
        recordedDate: r.chance(0.6) ? dateTimeText(r, 2015, 2024, 4) : undefined,
      }),
    );
  });
  for (let i = 0; i < 150; i++) {
    const lab = r.pick(LABS);
    const codingForm = r.int(10);
    const codings: Json[] =
      codingForm < 8 ? [{ system: LOINC, code: lab.code, display: lab.display }] : codingForm < 9 ? [{ code: lab.code }] : [{ system: LOINC, code: lab.code }, { system: 'http://hospital.example/codes', code: `LOC-${lab.code.slice(0, 3)}`, display: 'Local code' }];
    const subjectForm = r.int(50);
    const patient = r.pick(patIds);
    const subject = subjectForm < 3 ? `${base}/Patient/${patient}` : subjectForm < 5 ? `Patient/${patient}/_history/1` : `Patient/${patient}`;
    const performer = r.int(20);
    const eff = r.int(20);
    const value = r.int(20);
    let valueX: Json;
    if (lab.unit === undefined || lab.lo === undefined || lab.hi === undefined) {
      valueX = value < 12 ? { valueString: r.pick(['Never smoker', 'Ex-smoker', 'Fumeur actuel', 'Former smoker, quit 2010 after 20 pack-years']) } : { valueCodeableConcept: { coding: [{ system: SNOMED, code: r.pick(['266919005', '8517006']) }], text: r.pick(['Never smoked tobacco', 'Ex-smoker']) } };
    } else if (value < 14) valueX = { valueQuantity: { value: quantityValue(r, lab.lo, lab.hi), unit: lab.unit, system: UCUM, code: lab.ucum } };
    else if (value < 17) valueX = { valueQuantity: { value: quantityValue(r, lab.lo, lab.hi), unit: lab.unit } };
    else if (value < 18) valueX = { valueString: r.pick(['see note', 'Hémolysé, à refaire']) };
    else valueX = { dataAbsentReason: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/data-absent-reason', code: r.pick(['unknown', 'error']) }] } };
    out.push(
      cut({
        resourceType: 'Observation',
        id: `obs-${pad(i + 1, 3)}`,
        meta: i % 10 === 0 ? { tag: [{ system: 'http://example.org/tags', code: 'research' }] } : undefined,
        status: r.pick(['final', 'final', 'final', 'amended', 'preliminary']),
        category: r.chance(0.85) ? [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: lab.category }] }] : undefined,
        code: cut({ coding: codings, text: r.chance(0.4) ? r.pick([lab.display, `${lab.display} (measured)`, 'Fréquence cardiaque', 'Blood test panel result']) : undefined }),
        subject: subjectForm < 48 ? { reference: subject } : undefined,
        encounter: r.chance(0.4) ? { reference: `Encounter/${r.pick(encIds)}` } : undefined,
        ...(eff < 12
          ? { effectiveDateTime: dateTimeText(r, 2015, 2024) }
          : eff < 16
            ? { effectivePeriod: r.chance(0.6) ? { start: dateTimeText(r, 2015, 2019, 10), end: dateTimeText(r, 2020, 2024, 10) } : r.chance(0.5) ? { start: dateTimeText(r, 2015, 2024, 4) } : { end: dateTimeText(r, 2015, 2024, 4) } }
            : eff < 18
              ? { effectiveInstant: `${r.between(2015, 2024)}-${pad(r.between(1, 12))}-${pad(r.between(1, 28))}T${pad(r.int(24))}:${pad(r.int(60))}:${pad(r.int(60))}Z` }
              : {}),
        performer:
          performer < 12
            ? [{ reference: `Practitioner/${r.pick(pracIds)}` }]
            : performer < 14
              ? [{ reference: `Organization/${r.pick(orgIds)}` }]
              : performer < 16
                ? [{ reference: r.pick(['Practitioner/shared-1', 'Organization/shared-1']) }]
                : performer < 17
                  ? [{ reference: 'http://other.example/fhir/Practitioner/ext-1' }]
                  : undefined,
        ...valueX,
      }),
    );
  }
  out.push(...panels(new Rand(8462), patIds));
  for (let i = 0; i < 20; i++) {
    out.push(
      cut({
        resourceType: 'RiskAssessment',
        id: `ra-${pad(i + 1)}`,
        status: 'final',
        subject: { reference: `Patient/${r.pick(patIds)}` },
        occurrenceDateTime: r.chance(0.7) ? dateTimeText(r, 2018, 2024) : undefined,
        prediction: r.chance(0.85)
          ? Array.from({ length: r.between(1, 2) }, () =>
              cut({
                outcome: { text: r.pick(['Stroke', 'Heart attack', 'Fall']) },
                probabilityDecimal: r.pick([0.02, 0.05, 0.1, 0.25, 0.295, 0.3, 0.305, 0.33, 0.35, 0.5, 0.95, 1, 0.999]),
                qualitativeRisk: r.chance(0.4) ? { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/risk-probability', code: r.pick(['low', 'moderate', 'high']) }] } : undefined,
              }),
            )
          : undefined,
      }),
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Queries.

interface Query {
  readonly kind: string;
  readonly type: string;
  readonly params: [string, string][];
  readonly count: number;
  readonly previous?: boolean;
  readonly post?: boolean;
}

const escapeValue = (v: string): string => v.replace(/[\\,|$]/g, (m) => `\\${m}`);
const uniq = <T>(list: T[]): T[] => [...new Set(list)];

/** Builds the query list from the data, so most queries find something and some find nothing. */
class QueryMaker {
  readonly queries: Query[] = [];
  readonly #r: Rand;
  readonly #ref: ReferenceSearch;
  readonly #base: string;

  constructor(r: Rand, ref: ReferenceSearch, base: string) {
    this.#r = r;
    this.#ref = ref;
    this.#base = base;
  }

  param(type: string, code: string): RefParam {
    const p = referenceParams(type).get(code);
    assert.ok(p !== undefined, `${type}.${code} is an R4 parameter`);
    return p;
  }

  vals(type: string, code: string): Values[] {
    const p = this.param(type, code);
    return this.#ref.all(type).map((x) => this.#ref.values(x, p));
  }

  add(kind: string, type: string, params: [string, string][], extra: { count?: number; previous?: boolean; post?: boolean } = {}): void {
    const r = this.#r;
    const withTotal: [string, string][] = r.chance(0.2) ? [['_total', 'accurate']] : r.chance(0.05) ? [['_total', r.pick(['none', 'estimate'])]] : [];
    this.queries.push({ kind, type, params: [...params, ...withTotal], count: extra.count ?? r.pick([7, 7, 7, 3, 10, 25]), ...(extra.previous === true || r.chance(0.15) ? { previous: true } : {}), ...(extra.post === true ? { post: true } : {}) });
  }

  #variant(v: string): string {
    switch (this.#r.int(5)) {
      case 0:
        return v.toUpperCase();
      case 1:
        return v.toLowerCase();
      case 2:
        return v.normalize('NFD').replace(/\p{M}/gu, '');
      default:
        return v;
    }
  }

  #prefixOf(v: string, min = 1): string {
    const chars = Array.from(v);
    const n = Math.min(chars.length, min + this.#r.int(Math.max(1, chars.length - min + 1)));
    return chars.slice(0, n).join('').trim() || (chars[0] as string);
  }

  strings(n: number): void {
    const r = this.#r;
    const params: [string, string][] = [
      ['Patient', 'name'], ['Patient', 'name'], ['Patient', 'family'], ['Patient', 'family'], ['Patient', 'given'], ['Patient', 'address'], ['Patient', 'address-city'],
      ['Patient', 'address-postalcode'], ['Patient', 'address-country'], ['Patient', 'address-state'], ['Practitioner', 'name'], ['Practitioner', 'family'], ['Practitioner', 'address-city'],
      ['Organization', 'name'], ['Organization', 'address-city'], ['Observation', 'value-string'], ['Condition', 'onset-info'],
    ];
    for (let i = 0; i < n; i++) {
      const [type, code] = r.pick(params);
      const all = uniq(this.vals(type, code).flatMap((v) => v.strings));
      const v = r.pick(all);
      const long = all.filter((x) => Array.from(fold(x)).length > 13);
      let q: [string, string][];
      switch (r.int(12)) {
        case 0:
        case 1:
        case 2:
          q = [[code, escapeValue(this.#prefixOf(this.#variant(v)))]];
          break;
        case 3:
          q = long.length === 0 ? [[code, escapeValue(v)]] : [[code, escapeValue(this.#variant(this.#prefixOf(r.pick(long), 13)))]];
          break;
        case 4:
          q = [[`${code}:exact`, escapeValue(r.chance(0.6) ? v : this.#variant(v))]];
          break;
        case 5:
        case 6: {
          const f = Array.from(this.#variant(v));
          const start = r.int(f.length);
          q = [[`${code}:contains`, escapeValue(f.slice(start, start + 1 + r.int(14)).join('').trim() || v)]];
          break;
        }
        case 7:
          q = [[code, [this.#prefixOf(v), this.#prefixOf(r.pick(all)), r.chance(0.5) ? 'zzq' : this.#prefixOf(r.pick(all), 13)].map(escapeValue).join(',')]];
          break;
        case 8: {
          const holder = this.vals(type, code).filter((x) => x.strings.length > 1);
          const pair = holder.length === 0 ? [v, v] : r.pick(holder).strings;
          q = [[code, escapeValue(this.#prefixOf(r.pick(pair)))], [code, escapeValue(this.#prefixOf(r.pick(pair)))]];
          break;
        }
        case 9:
          q = [[`${code}:missing`, r.pick(['true', 'false'])]];
          break;
        case 10:
          q = [[code, r.pick(['zz', 'Wolfeschlegelsteinhausenberger', 'Vandenberghe-Lefebvrx', 'xyz'])]];
          break;
        default:
          q = [[code, escapeValue(this.#prefixOf(this.#variant(v)))], [`${code}:missing`, 'false']];
      }
      this.add('string', type, q);
    }
  }

  tokens(n: number): void {
    const r = this.#r;
    const params: [string, string][] = [
      ['Patient', 'identifier'], ['Patient', 'identifier'], ['Patient', 'gender'], ['Patient', 'active'], ['Patient', 'telecom'], ['Patient', 'phone'], ['Patient', 'email'], ['Patient', 'deceased'],
      ['Patient', '_tag'], ['Patient', '_security'], ['Patient', 'language'], ['Practitioner', 'identifier'], ['Practitioner', 'gender'], ['Practitioner', 'communication'], ['Organization', 'type'],
      ['Organization', 'identifier'], ['Organization', 'active'], ['Observation', 'code'], ['Observation', 'code'], ['Observation', 'category'], ['Observation', 'status'], ['Observation', 'combo-code'],
      ['Observation', 'value-concept'], ['Observation', 'data-absent-reason'], ['Observation', '_tag'], ['Encounter', 'class'], ['Encounter', 'type'], ['Encounter', 'status'], ['Encounter', 'participant-type'],
      ['Encounter', 'reason-code'], ['Condition', 'clinical-status'], ['Condition', 'verification-status'], ['Condition', 'code'], ['Condition', 'category'], ['RiskAssessment', 'risk'],
    ];
    for (let i = 0; i < n; i++) {
      const [type, code] = r.pick(params);
      const all = this.vals(type, code).flatMap((v) => v.tokens);
      const coded = all.filter((t) => t.code !== undefined);
      const t = r.pick(coded.length === 0 ? [{ code: 'none' }] : coded);
      const texts = all.flatMap((x) => (x.text === undefined ? [] : [x.text]));
      const c = escapeValue(t.code ?? '');
      let q: [string, string][];
      switch (r.int(12)) {
        case 0:
        case 1:
          q = [[code, c]];
          break;
        case 2:
          q = [[code, t.system === undefined ? `|${c}` : `${escapeValue(t.system)}|${c}`]];
          break;
        case 3:
          q = [[code, `|${c}`]];
          break;
        case 4:
          q = [[code, `${escapeValue(t.system ?? r.pick([MRN, LOINC]))}|`]];
          break;
        case 5:
          q = [[`${code}:not`, r.chance(0.7) ? c : `${escapeValue(t.system ?? 'urn:x')}|${c}`]];
          break;
        case 6:
          q = texts.length === 0 ? [[`${code}:text`, 'zz']] : [[`${code}:text`, escapeValue(this.#prefixOf(this.#variant(r.pick(texts))))]];
          break;
        case 7:
          q = [[`${code}:missing`, r.pick(['true', 'false'])]];
          break;
        case 8:
          q = [[code, uniq([c, escapeValue(r.pick(coded.length === 0 ? [t] : coded).code ?? ''), 'nope']).join(',')]];
          break;
        case 9:
          q = [[code, c.toUpperCase() === c ? c.toLowerCase() : c.toUpperCase()]];
          break;
        case 10:
          q = [[code, c], [`${code}:not`, escapeValue(r.pick(coded.length === 0 ? [t] : coded).code ?? '')]];
          break;
        default:
          q = [[code, c], [`${code}:missing`, 'false']];
      }
      this.add('token', type, q);
    }
    // Escaped characters in identifiers, and a ContactPoint, which has no system.
    for (const v of ['A\\,B-17', 'urn:oid:1.2.3|X\\|9', 'C\\\\D', 'pay\\$ment', '|A\\,B-17', 'urn:oid:1.2.3|pay\\$ment', 'X\\|9']) this.add('token', 'Patient', [['identifier', v]]);
    this.add('token', 'Patient', [['telecom', 'phone|+1-555-0101']]);
    this.add('token', 'Patient', [['phone', '|+1-555-0101']]);
    this.add('token', 'Patient', [['deceased', 'true']]);
    this.add('token', 'Patient', [['gender', '|female']]);
  }

  #dateText(range: DRange): string {
    const r = this.#r;
    const lo = Number.isFinite(range.lo) ? range.lo : Number.isFinite(range.hi) ? range.hi - 1 : Date.UTC(2020, 0, 1);
    const ms = r.chance(0.4) ? lo : lo + (r.int(800) - 400) * 86_400_000 + r.int(86_400_000);
    const tz = r.pick([0, 0, 120, -300, 600, 330]);
    const local = new Date(ms + tz * 60_000).toISOString();
    const zone = tz === 0 ? 'Z' : `${tz > 0 ? '+' : '-'}${pad(Math.floor(Math.abs(tz) / 60))}:${pad(Math.abs(tz) % 60)}`;
    switch (r.int(6)) {
      case 0:
        return local.slice(0, 4);
      case 1:
        return local.slice(0, 7);
      case 2:
      case 3:
        return local.slice(0, 10);
      case 4:
        return `${local.slice(0, 16)}${zone}`;
      default:
        return `${local.slice(0, 19)}${zone}`;
    }
  }

  dates(n: number): void {
    const r = this.#r;
    const params: [string, string][] = [
      ['Patient', 'birthdate'], ['Patient', 'birthdate'], ['Patient', 'death-date'], ['Observation', 'date'], ['Observation', 'date'], ['Encounter', 'date'], ['Encounter', 'date'],
      ['Condition', 'onset-date'], ['Condition', 'recorded-date'], ['Condition', 'abatement-date'], ['RiskAssessment', 'date'],
    ];
    const prefixes = ['', 'eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap'];
    for (let i = 0; i < n; i++) {
      const [type, code] = r.pick(params);
      const ranges = this.vals(type, code).flatMap((v) => v.dates);
      const pickRange = (): DRange => (ranges.length === 0 ? { lo: Date.UTC(2020, 0, 1), hi: Date.UTC(2021, 0, 1) } : r.pick(ranges));
      const one = (): string => `${r.pick(prefixes)}${this.#dateText(pickRange())}`;
      let q: [string, string][];
      switch (r.int(10)) {
        case 0:
          q = [[code, `${one()},${one()}`]];
          break;
        case 1: {
          const a = pickRange();
          q = [[code, `ge${this.#dateText(a)}`], [code, `le${this.#dateText(a)}`]];
          break;
        }
        case 2:
          q = [[`${code}:missing`, r.pick(['true', 'false'])]];
          break;
        case 3:
          q = [[code, `ap${new Date(Date.now() - r.int(3) * 400 * 86_400_000).toISOString().slice(0, r.pick([4, 7, 10]))}`]];
          break;
        default:
          q = [[code, one()]];
      }
      this.add('date', type, q);
    }
    // Time zones at the edges of days and years.
    for (const v of ['2019-12-31', '2020-01-01', '2019', '2020', '2022-12-31', '2023-01-01', 'ge2020-01-01T00:00+10:00', 'lt2019-12-31T19:00:00Z', 'eq2023', 'sa2022', 'eb2021']) this.add('date', 'Patient', [['death-date', v]]);
  }

  lastUpdated(n: number): void {
    const r = this.#r;
    for (let i = 0; i < n; i++) {
      const type = r.pick(['Patient', 'Observation', 'Encounter']);
      const all = this.#ref.all(type).map((x) => x.meta?.lastUpdated ?? '');
      const v = r.pick(all);
      const text = r.chance(0.5) ? v : r.chance(0.5) ? v.slice(0, 19) + 'Z' : v.slice(0, r.pick([4, 7, 10]));
      this.add('lastUpdated', type, [['_lastUpdated', `${r.pick(['', 'gt', 'lt', 'ge', 'le', 'ne', 'sa', 'eb'])}${text}`]]);
    }
  }

  numbers(n: number): void {
    const r = this.#r;
    const all = this.vals('RiskAssessment', 'probability').flatMap((v) => v.numbers);
    for (let i = 0; i < n; i++) {
      const d = r.pick(all);
      const x = Number(d.n) / 10 ** d.s + r.pick([0, 0, 0.01, -0.01, 0.005]);
      const text = x.toFixed(r.int(4));
      const p = r.pick(['', 'eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap']);
      this.add('number', 'RiskAssessment', i % 9 === 0 ? [['probability:missing', r.pick(['true', 'false'])]] : i % 7 === 0 ? [['probability', `${p}${text},${r.pick(['gt0.9', 'lt0.03', '0.5'])}`]] : [['probability', `${p}${text}`]]);
    }
    for (const v of ['0.3', '0.30', '0.305', '0.31', '1', '1.0', 'ap0.3', 'ne0.3', 'ap1']) this.add('number', 'RiskAssessment', [['probability', v]]);
  }

  quantities(n: number): void {
    const r = this.#r;
    const params: [string, string][] = [
      ['Observation', 'value-quantity'], ['Observation', 'value-quantity'], ['Observation', 'value-quantity'], ['Observation', 'combo-value-quantity'], ['Encounter', 'length'], ['Condition', 'onset-age'],
    ];
    for (let i = 0; i < n; i++) {
      const [type, code] = r.pick(params);
      const qs = this.vals(type, code).flatMap((v) => v.quantities);
      const q = r.pick(qs);
      const x = Number(q.value.n) / 10 ** q.value.s + r.pick([0, 0, 0.5, -0.5, 1, 0.05]);
      const num = x.toFixed(r.pick([0, 0, 1, 2]));
      const p = r.pick(['', '', 'eq', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap', 'ne']);
      const form = r.int(6);
      const unitless = p === 'ne' ? 5 : form;
      const v =
        unitless === 0 && q.system !== undefined ? `${p}${num}|${q.system}|${escapeValue(q.code ?? '')}` : unitless === 1 ? `${p}${num}||${escapeValue(q.code ?? q.unit ?? '')}` : unitless === 2 ? `${p}${num}||${escapeValue(q.unit ?? '')}` : unitless === 3 ? `${p}${num}|${UCUM}|kg` : `${p}${num}`;
      this.add('quantity', type, i % 11 === 0 ? [[`${code}:missing`, r.pick(['true', 'false'])]] : [[code, v]]);
    }
    for (const v of ['120||mmHg', '120||mm[Hg]', 'gt100||mmHg', 'le5.4||g/dL', `ap120|${UCUM}|mm[Hg]`, '72.5', '73', '100.0', '99.5']) this.add('quantity', 'Observation', [['value-quantity', v]]);
  }

  references(n: number): void {
    const r = this.#r;
    const params: [string, string][] = [
      ['Observation', 'subject'], ['Observation', 'subject'], ['Observation', 'patient'], ['Observation', 'patient'], ['Observation', 'performer'], ['Observation', 'performer'], ['Observation', 'encounter'],
      ['Encounter', 'subject'], ['Encounter', 'practitioner'], ['Encounter', 'participant'], ['Encounter', 'service-provider'], ['Condition', 'subject'], ['Condition', 'patient'], ['Condition', 'encounter'],
      ['Patient', 'organization'], ['Patient', 'general-practitioner'], ['Patient', 'general-practitioner'], ['Organization', 'partof'], ['RiskAssessment', 'subject'],
    ];
    for (let i = 0; i < n; i++) {
      const [type, code] = r.pick(params);
      const refs = this.vals(type, code).flatMap((v) => v.refs);
      const ref = r.pick(refs.length === 0 ? ['Patient/pat-001'] : refs);
      const slash = ref.indexOf('/');
      const id = ref.slice(slash + 1);
      const rt = ref.slice(0, slash);
      let v: [string, string];
      switch (r.int(9)) {
        case 0:
        case 1:
          v = [code, ref];
          break;
        case 2:
          v = [code, id];
          break;
        case 3:
          v = [code, `${this.#base}/${ref}`];
          break;
        case 4:
          v = [code, `${ref}/_history/${r.between(1, 3)}`];
          break;
        case 5:
          v = [`${code}:${rt}`, id];
          break;
        case 6:
          v = [code, `${ref},${r.pick(refs)}`];
          break;
        case 7:
          v = [`${code}:missing`, r.pick(['true', 'false'])];
          break;
        default:
          v = [code, r.pick(['shared-1', 'Practitioner/shared-1', 'Organization/shared-1', 'http://other.example/fhir/Practitioner/ext-1', 'ext-1', 'Patient/pat-999'])];
      }
      this.add('reference', type, [v]);
    }
    this.add('reference', 'Observation', [['subject:Group', 'pat-001']]);
    this.add('reference', 'Observation', [['performer', 'shared-1']]);
  }

  /**
   * Union parameters (`combo-*`): their index rows are their parts', so every form and modifier
   * must find what the parts hold, components included, and the negated forms must exclude it.
   */
  unions(): void {
    const queries: [string, string][][] = [
      [['combo-code', '8462-4']], [['combo-code', `${LOINC}|8480-6`]], [['combo-code', '85354-9,8462-4']], [['combo-code:not', '8462-4']],
      [['combo-code:text', 'diastolic']], [['combo-code:missing', 'false']], [['combo-code', '8480-6'], ['code', '85354-9']], [['component-code', '8462-4']],
      [['combo-value-quantity', 'gt150']], [['combo-value-quantity', `lt90|${UCUM}|mm[Hg]`]], [['combo-value-quantity', 'ge100||mmHg']], [['combo-value-quantity', 'ne120']],
      [['combo-value-quantity:missing', 'true']], [['combo-value-quantity:missing', 'false'], ['code', '85354-9']], [['component-value-quantity', 'gt120']],
      [['combo-value-concept', '271650006']], [['combo-value-concept', `${SNOMED}|266919005,163031004`]], [['combo-value-concept:missing', 'false']],
      [['combo-data-absent-reason', 'unknown']], [['combo-data-absent-reason:not', 'unknown'], ['code', '85354-9']], [['combo-data-absent-reason:missing', 'false']],
    ];
    for (const q of queries) this.add('union', 'Observation', q);
    this.add('union', 'Patient', [['_has:Observation:subject:combo-code', '8462-4']]);
  }

  uris(): void {
    for (const [t, v] of [['Patient', PROFILE], ['Patient', 'http://example.org/fhir/StructureDefinition/other'], ['Observation', PROFILE], ['Patient', `${PROFILE},http://x.example/p`]] as const) this.add('uri', t, [['_profile', v]]);
    this.add('uri', 'Patient', [['_profile:missing', 'true']]);
    this.add('uri', 'Patient', [['_profile:missing', 'false']]);
    this.add('uri', 'Patient', [['_source:missing', 'true']]);
  }

  ids(n: number): void {
    const r = this.#r;
    for (let i = 0; i < n; i++) {
      const type = r.pick(['Patient', 'Observation', 'Organization', 'Practitioner']);
      const ids = this.#ref.all(type).map((x) => x.id ?? '');
      this.add('id', type, [['_id', uniq([r.pick(ids), r.pick(ids), r.chance(0.3) ? 'no-such-id' : r.pick(ids)]).join(',')]]);
    }
  }

  chains(n: number): void {
    const r = this.#r;
    const patientStrings = uniq(this.vals('Patient', 'name').flatMap((v) => v.strings));
    const orgNames = uniq(this.vals('Organization', 'name').flatMap((v) => v.strings));
    const pracNames = uniq(this.vals('Practitioner', 'name').flatMap((v) => v.strings));
    const pick = (list: string[]): string => escapeValue(this.#prefixOf(this.#variant(r.pick(list))));
    const shapes: (() => [string, [string, string][]])[] = [
      () => ['Observation', [['subject:Patient.name', pick(patientStrings)]]],
      () => ['Observation', [['patient.family', pick(patientStrings)]]],
      () => ['Observation', [['subject:Patient.birthdate', `${r.pick(['le', 'ge', 'lt', 'gt', ''])}${r.between(1935, 2015)}`]]],
      () => ['Observation', [['subject:Patient.gender', r.pick(['female', 'male', 'other'])]]],
      () => ['Observation', [['subject:Patient.gender:not', 'male']]],
      () => ['Observation', [['subject:Patient.name:exact', escapeValue(r.pick(patientStrings))]]],
      () => ['Observation', [['performer:Practitioner.family', pick(pracNames)]]],
      () => ['Observation', [['encounter:Encounter.class', r.pick(['IMP', 'AMB', 'EMER'])]]],
      () => ['Observation', [['encounter:Encounter.service-provider.name', pick(orgNames)]]],
      () => ['Observation', [['subject:Patient.organization.name', pick(orgNames)], ['code', r.pick(LABS).code]]],
      () => ['Encounter', [['practitioner.name', pick(pracNames)]]],
      () => ['Encounter', [['participant:Practitioner.gender', r.pick(['female', 'male'])]]],
      () => ['Encounter', [['service-provider.name', pick(orgNames)]]],
      () => ['Encounter', [['subject:Patient.address-city', pick(CITIES)]]],
      () => ['Condition', [['subject:Patient.organization.name', pick(orgNames)]]],
      () => ['Condition', [['encounter.subject:Patient.organization.partof.name', pick(orgNames)]]],
      () => ['Condition', [['encounter.practitioner.name', pick(pracNames)]]],
      () => ['Patient', [['organization.name', pick(orgNames)]]],
      () => ['Patient', [['organization.partof.name', pick(orgNames)]]],
      () => ['Patient', [['general-practitioner:Practitioner.name', pick(pracNames)]]],
      () => ['Patient', [['general-practitioner:Organization.name', pick(orgNames)]]],
      () => ['RiskAssessment', [['subject:Patient.gender', r.pick(['male', 'female'])]]],
      () => ['Observation', [['subject:Patient.identifier', `${MRN}|MRN-10${pad(r.int(60))}`]]],
    ];
    for (let i = 0; i < n; i++) {
      const [type, q] = (shapes[i % shapes.length] as () => [string, [string, string][]])();
      this.add('chain', type, q);
    }
  }

  has(n: number): void {
    const r = this.#r;
    const shapes: (() => [string, [string, string][]])[] = [
      () => ['Patient', [['_has:Observation:patient:code', r.pick(LABS).code]]],
      () => ['Patient', [['_has:Observation:subject:value-quantity', `gt${r.between(50, 150)}`]]],
      () => ['Patient', [['_has:Encounter:subject:class', r.pick(['IMP', 'AMB', 'EMER', 'HH'])]]],
      () => ['Patient', [['_has:Condition:subject:clinical-status', r.pick(['active', 'resolved', 'remission'])]]],
      () => ['Patient', [['gender', r.pick(['female', 'male'])], ['_has:Observation:patient:category', 'vital-signs']]],
      () => ['Practitioner', [['_has:Encounter:practitioner:class', r.pick(['IMP', 'AMB'])]]],
      () => ['Practitioner', [['_has:Observation:performer:code', r.pick(LABS).code]]],
      () => ['Organization', [['_has:Patient:organization:gender', r.pick(['female', 'male'])]]],
      () => ['Organization', [['_has:Encounter:service-provider:date', `ge${r.between(2016, 2024)}`]]],
      () => ['Encounter', [['_has:Observation:encounter:status', r.pick(['final', 'amended'])]]],
      () => ['Patient', [['_has:RiskAssessment:subject:probability', `gt${r.pick(['0.3', '0.5', '0.9'])}`]]],
    ];
    for (let i = 0; i < n; i++) this.add('has', ...(shapes[i % shapes.length] as () => [string, [string, string][]])());
  }

  sorts(): void {
    const r = this.#r;
    const specs: [string, string, [string, string][]][] = [
      ['Patient', 'family', []], ['Patient', '-family', []], ['Patient', 'name', [['gender', 'female']]], ['Patient', 'given', []], ['Patient', 'birthdate', []], ['Patient', '-birthdate', []],
      ['Patient', 'gender,birthdate', []], ['Patient', '-gender,-_id', []], ['Patient', 'death-date', []], ['Patient', '_lastUpdated', []], ['Patient', '-_lastUpdated', [['active', 'true']]],
      ['Patient', 'address-city', []], ['Patient', '_id', []], ['Patient', '-_id', []], ['Patient', '-_id', [['gender', 'female']]], ['Observation', 'date', []], ['Observation', '-date', []],
      ['Observation', 'date', [['code', '8867-4']]], ['Observation', 'value-quantity', [['category', 'vital-signs']]], ['Observation', '-value-quantity', []], ['Observation', 'code', []],
      ['Observation', '-code', []], ['Observation', 'status,-date', []], ['Observation', '_id', [['status', 'final']]], ['Observation', '-_id', [['status', 'final']]], ['Encounter', 'date', []],
      ['Encounter', '-date', []], ['Encounter', 'length', []], ['Encounter', '-length', [['class', 'AMB']]], ['Condition', 'onset-date', []], ['Condition', '-onset-date', []], ['Condition', 'recorded-date', []],
      ['RiskAssessment', 'probability', []], ['RiskAssessment', '-probability', []], ['Organization', 'name', []], ['Organization', '-name', []], ['Practitioner', 'family', []], ['Practitioner', '-family,given', []],
      ['Patient', 'family', [['name', 'and']]], ['Observation', '-date', [['patient', 'pat-003']]], ['Observation', 'subject', []], ['Encounter', '-service-provider,date', []],
      ['Observation', 'date', [['subject:Patient.name', 'vandenberghe-']]], ['Patient', '_lastUpdated', [['family', 'wolfeschlegelst']]],
    ];
    for (const [type, sort, filters] of specs) this.add('sort', type, [...filters, ['_sort', sort]], { count: r.pick([7, 7, 10, 25]), previous: r.chance(0.25) });
  }

  /** Few matches among many candidates that only decryption can tell apart, one or two per page, walked both ways. */
  sparse(): void {
    const r = this.#r;
    const list: [string, [string, string][]][] = [
      ['Patient', [['family', 'vandenberghe-m']]],
      ['Patient', [['family', 'vandenberghe-l,wolfeschlegelsteinhausen']]],
      ['Patient', [['name:contains', 'ber']]],
      ['Patient', [['birthdate', 'ge1980'], ['birthdate', 'lt2000']]],
      ['Patient', [['identifier:text', 'legacy identifier of t']]],
      ['Observation', [['value-string:contains', 'smok']]],
      ['Patient', [['death-date', 'ap2021']]],
      ['Condition', [['onset-info', 'apres la naissance de son']]],
    ];
    for (const [type, q] of list) for (const count of [1, 2]) this.add('sparse', type, q, { count, previous: true });
    // AND-ed identifying dates are narrowed by the years they all accept: windows that meet at an
    // edge, do not meet at all, shrink to days, or mix prefixes must still find exactly the matches.
    const together: [string, string][][] = [
      [['birthdate', 'ge1960-01-01'], ['birthdate', 'lt1965-01-01']],
      [['birthdate', 'gt1990'], ['birthdate', 'lt1985']],
      [['birthdate', 'ge1985-03-01'], ['birthdate', 'le1985-03-20']],
      [['birthdate', 'sa1970'], ['birthdate', 'eb1990-06'], ['birthdate', 'ne1980-01-01']],
      [['birthdate', 'ap1975'], ['birthdate', 'le1975-06-30']],
      [['birthdate', 'eq1982'], ['birthdate', 'ge1982-07-01']],
      [['death-date', 'ge2019'], ['death-date', 'lt2023'], ['birthdate', 'lt1950']],
    ];
    for (const q of together) this.add('date', 'Patient', q, { count: r.pick([3, 10]), previous: r.chance(0.5) });
    this.add('has', 'Patient', [['_has:Observation:patient:performer:Practitioner.family', 'a']]);
    this.add('has', 'Organization', [['_has:Patient:organization:_has:Observation:patient:code', '8867-4']]);
    this.add('token', 'Observation', [['code:not', `${LOINC}|8480-6`]]);
    this.add('token', 'Observation', [['code', 'http://hospital.example/codes|']]);
  }

  includes(): void {
    const r = this.#r;
    const code = (): string => r.pick(LABS).code;
    const list: [string, [string, string][]][] = [
      ['Observation', [['code', code()], ['_include', 'Observation:subject']]],
      ['Observation', [['code', code()], ['_include', 'Observation:patient']]],
      ['Observation', [['code', code()], ['_include', 'Observation:performer:Practitioner']]],
      ['Observation', [['code', code()], ['_include', 'Observation:performer']]],
      ['Observation', [['code', code()], ['_include', 'Observation:*']]],
      ['Observation', [['category', 'laboratory'], ['_include', 'Observation:encounter'], ['_include:iterate', 'Encounter:service-provider']]],
      ['Observation', [['status', 'amended'], ['_include', 'Observation:subject'], ['_include:iterate', 'Patient:organization'], ['_include:iterate', 'Organization:partof']]],
      ['Encounter', [['class', 'IMP'], ['_include', 'Encounter:practitioner'], ['_include', 'Encounter:service-provider']]],
      ['Encounter', [['class', 'EMER'], ['_include', 'Encounter:participant:Practitioner'], ['_include', 'Encounter:subject']]],
      ['Patient', [['gender', 'female'], ['_revinclude', 'Observation:subject']]],
      ['Patient', [['gender', 'male'], ['_revinclude', 'Observation:patient']]],
      ['Patient', [['family', 'and'], ['_revinclude', 'Encounter:subject'], ['_revinclude', 'Condition:subject']]],
      ['Patient', [['active', 'true'], ['_include', 'Patient:organization'], ['_include:iterate', 'Organization:partof']]],
      ['Patient', [['birthdate', 'lt1960'], ['_include', 'Patient:general-practitioner']]],
      ['Patient', [['birthdate', 'ge1990'], ['_include', 'Patient:general-practitioner:Organization']]],
      ['Organization', [['_id', 'org-01'], ['_revinclude:iterate', 'Organization:partof']]],
      ['Organization', [['_id', 'org-02,org-03'], ['_revinclude', 'Patient:organization']]],
      ['Practitioner', [['gender', 'female'], ['_revinclude', 'Encounter:practitioner'], ['_include:iterate', 'Encounter:subject']]],
      ['Condition', [['clinical-status', 'active'], ['_include', 'Condition:subject'], ['_include', 'Condition:encounter']]],
      ['Condition', [['code', '38341003'], ['_include', 'Condition:subject'], ['_revinclude:iterate', 'RiskAssessment:subject']]],
      ['RiskAssessment', [['probability', 'gt0.2'], ['_include', 'RiskAssessment:subject']]],
      ['Encounter', [['status', 'finished'], ['_revinclude', 'Observation:encounter']]],
      ['Organization', [['_revinclude', 'Encounter:service-provider'], ['name', 'h']]],
      ['Patient', [['_has:Observation:patient:code', '8867-4'], ['_revinclude', 'Observation:patient']]],
      ['Observation', [['value-quantity', 'gt150'], ['_include', 'Observation:subject'], ['_sort', '-value-quantity']]],
      ['Patient', [['address-country', 'ca'], ['_revinclude', 'RiskAssessment:subject'], ['_sort', 'family']]],
    ];
    for (const [type, q] of list) this.add('include', type, q, { count: r.pick([5, 7, 10]) });
  }

  posts(): void {
    this.add('post', 'Patient', [['family', 'and']], { post: true });
    this.add('post', 'Observation', [['code', '8867-4'], ['_sort', '-date']], { post: true });
    this.add('post', 'Observation', [['value-quantity', 'gt100'], ['category', 'vital-signs']], { post: true });
    this.add('post', 'Patient', [['birthdate', 'ge1950'], ['birthdate', 'lt1990']], { post: true });
    this.add('post', 'Condition', [['subject:Patient.gender', 'female'], ['_include', 'Condition:subject']], { post: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Running a query page by page.

interface Reply {
  readonly status: number;
  readonly body: Json;
  readonly text: string;
}

interface Page {
  readonly matches: string[];
  readonly includes: string[];
  readonly total: number | undefined;
  readonly next?: string;
  readonly previous?: string;
}

function localPath(url: string): string {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
}

describe('search over encrypted data matches a brute-force reference', () => {
  let t: TestVigil;
  let ref: ReferenceSearch;
  /** Each stored resource's place in creation order, by `Type/id`. */
  const created = new Map<string, number>();
  let base: string;
  let token: string | undefined;
  const started = Date.now();

  async function get(url: string, headers?: Record<string, string>): Promise<Reply> {
    // Cleared for every security label, so labelled records are compared like the rest.
    token ??= await t.token('system/*.cruds', ['label:*']);
    const res = await t.fhir('GET', url, { token, ...(headers === undefined ? {} : { headers }) });
    return { status: res.statusCode, body: JSON.parse(res.body) as Json, text: res.body };
  }

  function page(body: Json, type: string): Page {
    const entries = (body['entry'] as Json[] | undefined) ?? [];
    const links = (body['link'] as { relation: string; url: string }[] | undefined) ?? [];
    const matches: string[] = [];
    const includes: string[] = [];
    for (const e of entries) {
      const res = e['resource'] as Resource;
      const mode = (e['search'] as Json | undefined)?.['mode'];
      if (mode === 'match') {
        assert.equal(res.resourceType, type);
        matches.push(res.id ?? '');
      } else if (mode === 'include') includes.push(`${res.resourceType}/${res.id ?? ''}`);
    }
    const next = links.find((l) => l.relation === 'next')?.url;
    const previous = links.find((l) => l.relation === 'previous')?.url;
    return { matches, includes, total: typeof body['total'] === 'number' ? body['total'] : undefined, ...(next === undefined ? {} : { next }), ...(previous === undefined ? {} : { previous }) };
  }

  before(async () => {
    t = await startTestVigil();
    base = t.config.fhirBaseUrl;
    const data = generate(new Rand(20240607), base);
    // Created in a shuffled order, so that creation order (unsorted pages) and id order differ.
    const shuffle = new Rand(11);
    for (let i = data.length - 1; i > 0; i--) {
      const j = shuffle.int(i + 1);
      [data[i], data[j]] = [data[j] as (typeof data)[number], data[i] as (typeof data)[number]];
    }
    const stored: Resource[] = [];
    for (const resource of data) {
      const res = await t.fhir('PUT', `/fhir/${String(resource['resourceType'])}/${String(resource['id'])}`, { body: resource });
      assert.ok(res.statusCode === 201 || res.statusCode === 200, `PUT ${String(resource['resourceType'])}/${String(resource['id'])}: ${res.statusCode} ${res.body}`);
      const back = JSON.parse(res.body) as Resource & { meta?: Json };
      // The server keeps what it was given (apart from the meta it owns).
      const { versionId: _v, lastUpdated: _l, ...meta } = back.meta ?? {};
      const given = JSON.parse(JSON.stringify(resource)) as Json;
      const seen = { ...back, meta } as Json;
      if (Object.keys(meta).length === 0) delete seen['meta'];
      assert.deepEqual(seen, given);
      stored.push(back);
      created.set(`${back.resourceType}/${back.id ?? ''}`, created.size);
    }
    ref = new ReferenceSearch(stored, { fhirBaseUrl: base, nowFrom: Date.now(), nowTo: Date.now() + 180_000 });
  });

  after(async () => {
    await t.close();
  });

  it('answers hundreds of generated queries like the reference does', async (ctx) => {
    const queryStart = Date.now();
    const maker = new QueryMaker(new Rand(7), ref, base);
    maker.strings(120);
    maker.tokens(105);
    maker.dates(95);
    maker.lastUpdated(12);
    maker.numbers(25);
    maker.quantities(55);
    maker.references(55);
    maker.uris();
    maker.ids(10);
    maker.chains(40);
    maker.has(22);
    maker.sorts();
    maker.includes();
    maker.sparse();
    maker.posts();
    maker.unions();
    const counts = new Map<string, number>();
    const mismatches: string[] = [];
    let requests = 0;
    let ambiguous = 0;
    let withTotal = 0;
    let previousChecked = 0;
    const readings = new Map<string, string[]>();
    const sizes = { empty: 0, few: 0, many: 0 };

    for (const q of maker.queries) {
      const label = `${q.kind} ${q.post === true ? 'POST' : 'GET'} ${q.type}?${q.params.map(([k, v]) => `${k}=${v}`).join('&')}`;
      const fail = (why: string): void => {
        mismatches.push(`${label} (_count=${q.count}): ${why}`);
      };
      const search = new URLSearchParams([...q.params, ['_count', String(q.count)]]);
      let first: Reply;
      if (q.post === true) {
        token ??= await t.token('system/*.cruds', ['label:*']);
        const res = await t.fhir('POST', `/fhir/${q.type}/_search`, { token, body: search.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
        first = { status: res.statusCode, body: JSON.parse(res.body) as Json, text: res.body };
      } else first = await get(`/fhir/${q.type}?${search.toString()}`);
      requests++;
      counts.set(q.kind, (counts.get(q.kind) ?? 0) + 1);
      if (first.status !== 200) {
        fail(`status ${first.status}: ${first.text.slice(0, 200)}`);
        continue;
      }
      const pages: Page[] = [page(first.body, q.type)];
      const expected = ref.evaluate(q.type, q.params);
      // A server that pages forever is cut off a few pages after the reference runs out.
      const maxPages = Math.ceil((expected.yes.length + expected.maybe.length) / Math.max(q.count, 1)) + 3;
      for (let p = pages[0]; p?.next !== undefined && pages.length < maxPages; ) {
        const res = await get(localPath(p.next));
        requests++;
        if (res.status !== 200) {
          fail(`next page: status ${res.status}`);
          break;
        }
        p = page(res.body, q.type);
        pages.push(p);
      }
      if (pages.at(-1)?.next !== undefined) fail(`still a next link after ${pages.length} pages`);
      const actual = pages.flatMap((p) => p.matches);
      const maybe = new Set(expected.maybe);
      if (expected.yes.length === 0) sizes.empty++;
      else if (expected.yes.length <= q.count) sizes.few++;
      else sizes.many++;
      if (maybe.size > 0) ambiguous++;
      const got = new Set(actual);
      const missing = expected.yes.filter((id) => !got.has(id));
      const extra = actual.filter((id) => !expected.yes.includes(id) && !maybe.has(id));
      if (got.size !== actual.length) fail(`a match appears on two pages`);
      if (missing.length > 0 || extra.length > 0) fail(`missing [${missing.join(' ')}] extra [${extra.join(' ')}] (expected ${expected.yes.length}, got ${actual.length})`);
      pages.forEach((p, i) => {
        if (p.matches.length > q.count) fail(`page ${i} has ${p.matches.length} matches for _count=${q.count}`);
        if (i < pages.length - 1 && p.matches.length === 0) fail(`page ${i} is empty but has a next link`);
      });
      // Order: by _sort when asked, else by creation.
      const sort = q.params.find(([k]) => k === '_sort')?.[1];
      if (missing.length === 0 && extra.length === 0 && maybe.size === 0) {
        const rank = (id: string): number => created.get(`${q.type}/${id}`) ?? -1;
        const orders = sort === undefined ? [{ reading: 'creation', order: [...actual].sort((a, b) => rank(a) - rank(b)) }] : ref.sortOrders(q.type, actual, sort);
        const matched = orders.find((o) => o.order.join() === actual.join());
        if (matched === undefined) fail(`order [${actual.join(' ')}], expected [${(orders[0]?.order ?? []).join(' ')}]`);
        else if (sort !== undefined && orders.length > 1) readings.set(matched.reading, [...(readings.get(matched.reading) ?? []), `${q.type}?_sort=${sort}`]);
      }
      // Totals: the same on every page, right when given, and always given with _total=accurate.
      const totalMode = q.params.find(([k]) => k === '_total')?.[1];
      const totals = uniq(pages.map((p) => p.total));
      if (totals.length > 1) fail(`totals differ between pages: ${totals.join(' ')}`);
      const total = totals[0];
      if (total !== undefined) {
        withTotal++;
        if (total !== actual.length) fail(`total ${total} but ${actual.length} matches`);
      }
      if (totalMode === 'accurate' && total === undefined) fail('no total with _total=accurate');
      if (totalMode === 'none' && total !== undefined) fail('a total with _total=none');
      // Included resources, page by page.
      const incl = q.params.filter(([k]) => k.startsWith('_include') || k.startsWith('_revinclude'));
      if (incl.length > 0) {
        for (const [i, p] of pages.entries()) {
          const want = ref.includes(
            p.matches.map((id) => `${q.type}/${id}`),
            incl,
          );
          const have = new Set(p.includes);
          const lack = [...want].filter((k) => !have.has(k));
          const more = [...have].filter((k) => !want.has(k));
          if (lack.length > 0 || more.length > 0) fail(`page ${i} includes: missing [${lack.join(' ')}] extra [${more.join(' ')}]`);
          if (have.size !== p.includes.length) fail(`page ${i} includes a resource twice`);
        }
      } else if (pages.some((p) => p.includes.length > 0)) fail('included resources without _include');
      // Walking back from the last page with `previous` gives the same pages.
      if (q.previous === true && pages.length > 1) {
        previousChecked++;
        let back = pages[pages.length - 1] as Page;
        let walked = true;
        for (let i = pages.length - 2; i >= 0 && walked; i--) {
          if (back.previous === undefined) {
            fail(`page ${i + 1} has no previous link`);
            walked = false;
            break;
          }
          const res = await get(localPath(back.previous));
          requests++;
          back = page(res.body, q.type);
          if (back.matches.join() !== (pages[i] as Page).matches.join()) {
            fail(`previous of page ${i + 1} is [${back.matches.join(' ')}], not [${(pages[i] as Page).matches.join(' ')}]`);
            walked = false;
          }
        }
        if (walked && back.previous !== undefined) fail('the first page, reached by previous, has a previous link');
      }
    }

    const seconds = (Date.now() - queryStart) / 1000;
    ctx.diagnostic(`compared ${maker.queries.length} queries (${requests} requests, ${seconds.toFixed(1)} s; data loaded in ${((queryStart - started) / 1000).toFixed(1)} s)`);
    ctx.diagnostic(`by kind: ${[...counts].map(([k, n]) => `${k} ${n}`).join(', ')}`);
    ctx.diagnostic(`with a total: ${withTotal}; previous links walked: ${previousChecked}; queries with cases docs/search.md leaves open: ${ambiguous}`);
    ctx.diagnostic(`reference answers: ${sizes.empty} empty, ${sizes.few} on one page, ${sizes.many} over several pages`);
    for (const [reading, list] of readings) ctx.diagnostic(`sorted queries whose order matched only some readings, here "${reading}": ${list.join(', ')}`);
    for (const m of mismatches) ctx.diagnostic(`MISMATCH ${m}`);
    assert.ok(maker.queries.length >= 500);
    assert.equal(mismatches.length, 0, `${mismatches.length} mismatches with the reference (listed in the diagnostics), first: ${mismatches[0] ?? ''}`);
  });

  it('reports how cases docs/search.md leaves open are answered', async (ctx) => {
    // The doc's own chain example goes through general-practitioner, which has three target types in R4.
    const gp = await get('/fhir/Patient?general-practitioner.family=a');
    ctx.diagnostic(`Patient?general-practitioner.family=a (doc example, 3 target types): status ${gp.status}`);
    // `:not` with several values: "no value matches any of them", or the OR of one `:not` per value.
    const not = await get('/fhir/Patient?gender:not=male,female&_count=100');
    const notIds = page(not.body, 'Patient').matches;
    const noneOf = ref.evaluate('Patient', [['gender:not', 'male'], ['gender:not', 'female']]).yes;
    const anyNot = ref.all('Patient').map((p) => p.id ?? '');
    ctx.diagnostic(`Patient?gender:not=male,female: ${notIds.length} matches; "none of them" gives ${noneOf.length}, "OR of :not" gives ${anyNot.length}`);
    // `_count=0` gives the total only, for an index-only search and for one confirmed by decryption.
    const zero = await get('/fhir/Patient?gender=female&_count=0');
    assert.equal(zero.status, 200);
    assert.deepEqual(page(zero.body, 'Patient').matches, []);
    assert.equal(zero.body['total'], ref.evaluate('Patient', [['gender', 'female']]).yes.length);
    const zeroLong = await get('/fhir/Patient?family=wolfeschlegelst&_count=0');
    ctx.diagnostic(`Patient?family=wolfeschlegelst&_count=0 (confirmed by decryption): total ${String(zeroLong.body['total'])}, reference ${ref.evaluate('Patient', [['family', 'wolfeschlegelst']]).yes.length}`);
    const noTotal = await get('/fhir/Patient?family=wolfeschlegelst');
    ctx.diagnostic(`Patient?family=wolfeschlegelst (no _total): total ${String(noTotal.body['total'])}`);
    // Leading and trailing spaces in a string value: folding collapses them, it does not say it trims them.
    const spaced = await get(`/fhir/Patient?${new URLSearchParams([['family', 'du '], ['_count', '100']]).toString()}`);
    ctx.diagnostic(`Patient?family="du " : ${page(spaced.body, 'Patient').matches.length} matches; reference without trimming ${ref.evaluate('Patient', [['family', 'du ']]).yes.length}, with trimming ${ref.evaluate('Patient', [['family', 'du']]).yes.length}`);
  });

  it('refuses tampered and replayed cursors, unknown parameters, and never echoes values', async () => {
    const first = await get('/fhir/Patient?gender=female&_count=3');
    const next = page(first.body, 'Patient').next;
    assert.ok(next !== undefined);
    const url = new URL(next);
    const cursor = url.searchParams.get('_cursor') ?? '';
    assert.ok(cursor.length > 10);
    const flip = (s: string, i: number): string => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    const tampered: [string, string][] = [
      ['a flipped first character', flip(cursor, 0)],
      ['a flipped middle character', flip(cursor, Math.floor(cursor.length / 2))],
      ['a flipped last character', flip(cursor, cursor.length - 1)],
      ['one character cut off', cursor.slice(0, -1)],
      ['junk appended', `${cursor}AAAA`],
      ['empty', ''],
      ['not base64url', '%%%***'],
      ['a forged plaintext payload', Buffer.from(JSON.stringify({ k: 'search', a: 'pat-001' })).toString('base64url')],
    ];
    for (const [why, bad] of tampered) {
      url.searchParams.set('_cursor', bad);
      const res = await get(localPath(url.toString()));
      assert.equal(res.status, 400, why);
      assert.equal(res.body['resourceType'], 'OperationOutcome', why);
      if (bad.length > 3) assert.ok(!res.text.includes(bad), `${why}: the cursor is echoed`);
    }
    // A good cursor bound to another query.
    for (const other of ['/fhir/Patient?gender=male&_count=3', '/fhir/Patient?gender=female&_count=4', '/fhir/Observation?_count=3', '/fhir/Patient?gender=female&_count=3&_sort=family']) {
      const res = await get(`${other}&_cursor=${encodeURIComponent(cursor)}`);
      assert.equal(res.status, 400, `cursor replayed on ${other}`);
    }
    // The untouched cursor still works.
    assert.equal((await get(localPath(next))).status, 200);

    // Unknown parameters: 400, or ignored and reported under Prefer: handling=lenient.
    const strict = await get('/fhir/Patient?gender=female&not-a-param=Q7secretVALUE9');
    assert.equal(strict.status, 400);
    const lenient = await get('/fhir/Patient?gender=female&not-a-param=Q7secretVALUE9&_count=100', { prefer: 'handling=lenient' });
    assert.equal(lenient.status, 200);
    const plain = await get('/fhir/Patient?gender=female&_count=100');
    assert.deepEqual(page(lenient.body, 'Patient').matches, page(plain.body, 'Patient').matches);
    const outcome = ((lenient.body['entry'] as Json[]) ?? []).find((e) => (e['search'] as Json | undefined)?.['mode'] === 'outcome');
    assert.equal((outcome?.['resource'] as Json | undefined)?.['resourceType'], 'OperationOutcome');
    assert.ok(!lenient.text.includes('Q7secretVALUE9'));

    // Malformed values answer 400 without repeating them, in the response or in the log.
    const marker = 'Q7secretVALUE9';
    const bad = [
      `/fhir/Patient?birthdate=lt${marker}`,
      `/fhir/Patient?birthdate=2020-13-45${marker}`,
      `/fhir/Patient?_count=${marker}`,
      `/fhir/Observation?value-quantity=${marker}`,
      `/fhir/Observation?value-quantity=12|a|b|${marker}`,
      `/fhir/Patient?identifier=a|b|${marker}`,
      `/fhir/Patient?name:fuzzy=${marker}`,
      `/fhir/Patient?_sort=${marker}`,
      `/fhir/Patient?_include=${marker}`,
      `/fhir/Patient?_total=${marker}`,
      `/fhir/Patient?gender:missing=${marker}`,
      `/fhir/Patient?${marker}=x`,
      `/fhir/Observation?code-value-quantity=${marker}`,
      `/fhir/Condition?encounter.subject:Patient.organization.partof.partof.name=${marker}`,
      `/fhir/RiskAssessment?probability=ap${marker}`,
    ];
    for (const u of bad) {
      const res = await get(u);
      assert.equal(res.status, 400, u);
      assert.equal(res.body['resourceType'], 'OperationOutcome', u);
      assert.ok(!res.text.includes(marker), `${u}: the value is echoed in ${res.text}`);
    }
    assert.ok(!t.logs.join('\n').includes(marker), 'a search value reached the log');
    assert.ok(!t.logs.join('\n').includes('Wolfeschlegel'), 'a search value reached the log');
  });
});

