import type { Bundle, Location, MedicationRequest, Organization, Patient, Practitioner, Reference } from '@medplum/fhirtypes';
import { ALLERGIES, PENICILLIN_ALLERGY, allergyResource } from './allergies.js';
import { TransactionBuilder, conditionalRef } from './bundle.js';
import { careTeamResource } from './care-team.js';
import { ACUTE, CHRONIC, OBESITY, conditionResource, type AcuteCondition, type ChronicCondition } from './conditions.js';
import { encounterResource, planEncounters, type PlannedEncounter } from './encounters.js';
import { immunizationResource, vaccinesDue, type Vaccine } from './immunizations.js';
import { addLabPanel, type LabState, type PanelKey } from './labs.js';
import { MEDS, medicationRequest, type MedKey, type Medication } from './medications.js';
import { addExamFindings, addSmokingStatus, type Recording } from './observations.js';
import { drawPerson, patientResource } from './patient.js';
import { procedureResource, type ProcedureKey } from './procedures.js';
import type { OrganizationInfo, ProviderDirectory } from './providers.js';
import { Rng } from './random.js';
import { LOCATION_SYSTEM, NPI_SYSTEM } from './systems.js';
import { DAY, HOUR, MINUTE, YEAR } from './time.js';
import type { Tuning } from './tuning.js';
import { addVitalSigns, drawPhysiology } from './vitals.js';

/** What every patient record of one data set shares. */
export interface RecordContext {
  readonly seed: string;
  readonly asOf: number;
  readonly tuning: Tuning;
  readonly directory: ProviderDirectory;
  readonly mrnPrefix: string;
  readonly ssnOffset: number;
}

interface Diagnosis {
  readonly def: ChronicCondition;
  readonly onset: number;
  /** The Condition's fullUrl, once diagnosed. */
  url?: string;
}

interface MedSeries {
  readonly med: Medication;
  readonly reason: string;
  readonly requests: MedicationRequest[];
}

const UTI = '68566005';
const RESPIRATORY = new Set(['233604007', '840539006']);

function prevalence(def: ChronicCondition, age: number): number {
  let p = 0;
  for (const [from, q] of def.prevalence) if (age >= from) p = q;
  return p;
}

function chooseAcute(rng: Rng, plan: PlannedEncounter, age: number, has: (key: string) => boolean): AcuteCondition {
  const fits = (a: AcuteCondition): boolean =>
    age >= a.ages[0] && age <= a.ages[1] && (a.notBefore === undefined || plan.start >= Date.parse(a.notBefore)) && (a.requires === undefined || has(a.requires));
  const candidates = ACUTE.filter((a) => fits(a) && a.kinds.includes(plan.kind));
  return rng.weighted(candidates.length > 0 ? candidates : ACUTE.filter(fits), (a) => a.weight);
}

const toMinute = (ms: number): number => Math.floor(ms / MINUTE) * MINUTE;

function item<T>(list: readonly T[], i: number): T {
  const value = list[i];
  if (value === undefined) throw new Error('index out of range');
  return value;
}

/** The transaction Bundle of patient `index` (1-based): the same for the same seed, whatever came before. */
export function patientBundle(ctx: RecordContext, index: number): Bundle {
  const { asOf, tuning, directory } = ctx;
  const rng = Rng.derive(ctx.seed, `patient:${index}`);
  const tx = new TransactionBuilder(rng);
  const person = drawPerson(rng, asOf);
  const end = person.death ?? asOf;
  const ageAt = (t: number): number => (t - person.birth) / YEAR;

  const orgRef = (o: OrganizationInfo): Reference<Organization> => conditionalRef<Organization>('Organization', NPI_SYSTEM, o.npi, o.name);
  const locationRef = (o: OrganizationInfo): Reference<Location> => conditionalRef<Location>('Location', LOCATION_SYSTEM, o.locationId, o.locationName);
  const practitionerRef = (i: number): Reference<Practitioner> => {
    const p = item(directory.practitioners, i);
    return conditionalRef<Practitioner>('Practitioner', NPI_SYSTEM, p.npi, p.display);
  };
  const home = item(directory.organizations, rng.int(0, directory.organizations.length - 1));
  const primary = rng.pick(home.primaryCare.length > 0 ? home.primaryCare : home.staff);

  const diagnoses: Diagnosis[] = [];
  const hasKey = (key: string): boolean => diagnoses.some((d) => d.def.key === key);
  for (const def of CHRONIC) {
    if (def.excludes !== undefined && hasKey(def.excludes)) continue;
    if (!rng.chance(prevalence(def, ageAt(end)))) continue;
    diagnoses.push({ def, onset: toMinute(rng.float(person.birth + (def.prevalence[0]?.[0] ?? 0) * YEAR, end)) });
  }
  const physiology = drawPhysiology(rng, person.female, hasKey('hypertension'), hasKey('copd'));
  if (ageAt(end) >= 20 && physiology.bmi >= 30 && rng.chance(0.8)) diagnoses.push({ def: OBESITY, onset: toMinute(rng.float(person.birth + 20 * YEAR, end)) });
  const allergies = rng.chance(tuning.allergyShare) ? rng.sample(ALLERGIES, rng.int(1, 3)) : [];
  const penicillinAllergic = allergies.some((a) => a.code === PENICILLIN_ALLERGY);

  const ssnSerial = (index * 731_297 + ctx.ssnOffset) % 1_000_000;
  const patientUrl = tx.add(patientResource(rng, {
    person, index, mrnPrefix: ctx.mrnPrefix, ssnSerial, place: home.place, asOf,
    generalPractitioner: practitionerRef(primary), managingOrganization: orgRef(home),
  }));
  const patient: Reference<Patient> = { reference: patientUrl };

  const from = Math.max(person.birth, end - tuning.historyYears * YEAR);
  const plans = planEncounters(rng, tuning, person.birth, from, end, diagnoses.length, person.death !== undefined);
  const series: MedSeries[] = [];
  const vaccinesGiven = new Set<Vaccine>();
  let colonoscopy = false;
  let first: { url: string; start: number } | undefined;

  plans.forEach((plan, i) => {
    const age = ageAt(plan.start);
    const within = (offset: number): number => Math.min(plan.start + offset, plan.end);
    const office = plan.kind === 'wellness' || plan.kind === 'outpatient';
    const org = office || rng.chance(0.7) ? home : rng.pick(directory.organizations);
    const team = office ? org.primaryCare : plan.kind === 'inpatient' ? [] : org.emergency;
    const clinician = office && org === home && rng.chance(0.8) ? primary : rng.pick(team.length > 0 ? team : org.staff);
    const practitioner = practitionerRef(clinician);
    const diagnosed = diagnoses.filter((d) => d.url !== undefined);

    let followUp: Diagnosis | undefined;
    if (plan.kind === 'outpatient' && diagnosed.length > 0 && rng.chance(0.5)) followUp = rng.pick(diagnosed);
    if (plan.kind === 'inpatient') {
      const elective = diagnosed.filter((d) => d.def.inpatientProcedure !== undefined);
      if (elective.length > 0 && rng.chance(0.35)) followUp = rng.pick(elective);
    }
    const acute = followUp === undefined && plan.kind !== 'wellness' ? chooseAcute(rng, plan, age, (k) => diagnosed.some((d) => d.def.key === k)) : undefined;

    const encounterUrl = tx.reserve();
    const acuteUrl = acute === undefined ? undefined : tx.reserve();
    const reason = acuteUrl ?? followUp?.url;
    tx.add(encounterResource({
      plan, child: age < 18, followUp: followUp !== undefined, patient, practitioner, organization: orgRef(org), location: locationRef(org),
      ...(reason === undefined ? {} : { reason }),
      expired: person.death !== undefined && i === plans.length - 1 && plan.kind === 'inpatient',
    }), encounterUrl);
    first ??= { url: encounterUrl, start: plan.start };

    // Long-term conditions are recorded at the first visit after they began (urgent care leaves them to the GP).
    const newly: Diagnosis[] = [];
    if (plan.kind !== 'urgent') {
      for (const d of diagnoses) {
        if (d.url !== undefined || d.onset > plan.start) continue;
        d.url = tx.add(conditionResource({ code: d.def.code, display: d.def.display, patient, encounter: encounterUrl, onset: d.onset, recorded: plan.start, problemList: true }));
        newly.push(d);
      }
    }
    if (acute !== undefined && acuteUrl !== undefined) {
      const onset = Math.max(person.birth, plan.start - rng.int(0, 4) * DAY - rng.int(0, 23) * HOUR);
      const abatement = plan.start + rng.int(acute.days[0], acute.days[1]) * DAY;
      tx.add(conditionResource({
        code: acute.code, display: acute.display, patient, encounter: encounterUrl, onset, recorded: plan.start, problemList: false,
        ...(abatement <= end ? { abatement } : {}),
      }), acuteUrl);
    }
    if (i === 0) {
      for (const allergy of allergies) tx.add(allergyResource(rng, { allergy, patient, encounter: encounterUrl, recorded: plan.start, recorder: practitioner }));
    }

    // Measurements follow the body, not the paperwork: a condition counts from its onset.
    const present = new Set(diagnoses.filter((d) => d.onset <= plan.start).map((d) => d.def.key));
    const labState: LabState = { female: person.female, has: (k) => present.has(k) };
    const rec: Recording = { tx, rng, patient, encounter: encounterUrl, at: within(5 * MINUTE), issued: within(5 * MINUTE) };
    if (plan.kind === 'wellness' || rng.chance(tuning.acuteVitalsChance)) {
      const severe = plan.kind === 'emergency' || plan.kind === 'inpatient';
      const pain = acute?.pain ?? (age >= 18 && rng.chance(0.3) ? ([0, 2] as const) : undefined);
      addVitalSigns(rec, physiology, age, {
        fever: acute?.fever === true,
        lowOxygen: (acute !== undefined && RESPIRATORY.has(acute.code)) || (severe && present.has('copd')),
        oximetry: severe || acute?.fever === true,
        ...(pain === undefined ? {} : { pain }),
      });
    }
    if (plan.kind === 'wellness' && age >= 18 && rng.chance(0.8)) addSmokingStatus(rec, physiology.smoking);
    if (rng.chance(0.15)) addExamFindings(rec);

    const panels = new Set<PanelKey>(acute?.labs ?? []);
    if (plan.kind === 'wellness' && age >= 18) {
      if (age >= 20 && rng.chance(tuning.wellnessLabChance)) panels.add('lipids');
      if (rng.chance(tuning.wellnessLabChance)) panels.add('metabolic');
      if (rng.chance(tuning.wellnessLabChance)) panels.add('cbc');
    }
    if (plan.kind === 'wellness' || followUp !== undefined) {
      if ((present.has('diabetes') || present.has('prediabetes')) && rng.chance(0.8)) panels.add('a1c');
      if (present.has('hypothyroidism') && rng.chance(0.5)) panels.add('tsh');
      if (present.has('ckd') && rng.chance(0.6)) panels.add('kidney');
    }
    const labAt = within(20 * MINUTE);
    const labRec: Recording = { ...rec, at: labAt, issued: Math.max(labAt, Math.min(labAt + rng.int(1, 24) * HOUR, asOf)) };
    for (const key of panels) addLabPanel(labRec, key, labState, orgRef(org), acute?.code === UTI);

    const location = locationRef(org);
    const perform = (key: ProcedureKey, reasonUrl?: string): void => {
      tx.add(procedureResource({ key, patient, encounter: encounterUrl, start: within(10 * MINUTE), performer: practitioner, location, ...(reasonUrl === undefined ? {} : { reason: reasonUrl }) }));
    };
    if (plan.kind === 'wellness' && age >= 18) {
      if (rng.chance(0.25)) perform('depressionScreening');
      if (rng.chance(0.2)) perform('needsAssessment');
      if (series.length > 0 && rng.chance(0.7)) perform('medicationReconciliation');
      if (person.female && age >= 40 && rng.chance(0.2)) perform('mammography');
      if (age >= 50 && !colonoscopy && rng.chance(0.1)) {
        colonoscopy = true;
        perform('colonoscopy');
      }
    }
    if (acute !== undefined) for (const key of acute.procedures) if (rng.chance(0.7)) perform(key, acuteUrl);
    if (followUp?.url !== undefined && plan.kind === 'inpatient' && followUp.def.inpatientProcedure !== undefined) perform(followUp.def.inpatientProcedure, followUp.url);

    if (plan.kind === 'wellness') {
      for (const vaccine of vaccinesDue(rng, age, plan.start, vaccinesGiven)) {
        tx.add(immunizationResource(rng, { vaccine, patient, encounter: encounterUrl, at: within(15 * MINUTE), location, performer: practitioner }));
      }
    }

    const prescribe = (med: Medication, status: 'active' | 'completed' | 'stopped', chronic: boolean, reasonUrl: string | undefined): MedicationRequest => {
      const request = medicationRequest({ medication: med, status, patient, encounter: encounterUrl, authoredOn: within(25 * MINUTE), requester: practitioner, chronic, ...(reasonUrl === undefined ? {} : { reason: reasonUrl }) });
      tx.add(request);
      return request;
    };
    if (plan.kind === 'wellness' || followUp !== undefined) {
      for (const s of series) if (rng.chance(0.4)) s.requests.push(prescribe(s.med, 'active', true, s.reason));
    }
    for (const d of newly) {
      const options = d.def.meds.filter((k) => !series.some((s) => s.med === MEDS[k]));
      const chosen = options.length === 0 ? [] : rng.sample(options, rng.int(1, Math.min(2, options.length)));
      for (const key of chosen) series.push({ med: MEDS[key], reason: d.url ?? '', requests: [prescribe(MEDS[key], 'active', true, d.url)] });
    }
    if (acute !== undefined && rng.chance(0.8)) {
      const options = acute.meds.filter((k: MedKey) => !(penicillinAllergic && MEDS[k].penicillin === true) && !(age < 18 && k === 'oxycodoneAcetaminophen'));
      if (options.length > 0) prescribe(MEDS[rng.pick(options)], rng.chance(0.05) ? 'stopped' : 'completed', false, acuteUrl);
    }
  });

  // A long-term prescription is renewed at visits: the latest one is current, the earlier ones done.
  for (const s of series) {
    s.requests.forEach((r, j) => {
      r.status = j < s.requests.length - 1 ? 'completed' : person.death === undefined ? 'active' : 'stopped';
    });
  }
  if (first !== undefined) {
    const diagnosed = diagnoses.filter((d) => d.url !== undefined);
    const colleagues = rng.sample(home.staff.filter((s) => s !== primary), Math.min(2, diagnosed.length));
    tx.add(careTeamResource({
      patient, encounter: first.url, start: first.start, ...(person.death === undefined ? {} : { end: person.death }),
      primary: practitionerRef(primary), others: colleagues.map(practitionerRef), organization: orgRef(home), reasons: diagnosed.map((d) => d.def),
    }));
  }
  return tx.build();
}
