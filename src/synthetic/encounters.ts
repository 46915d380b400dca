import type { Encounter, Location, Organization, Patient, Practitioner, Reference } from '@medplum/fhirtypes';
import type { EncounterKind } from './conditions.js';
import type { Rng } from './random.js';
import { SNOMED, TERMINOLOGY, coding, concept, hl7 } from './systems.js';
import { DAY, HOUR, MINUTE, YEAR, dateTime, startOfDay } from './time.js';
import type { Tuning } from './tuning.js';

export interface PlannedEncounter {
  readonly kind: EncounterKind;
  readonly start: number;
  readonly end: number;
}

/** Wellness visits a year at `age`: frequent for infants, yearly-ish for the old. */
function wellnessRate(age: number): number {
  return age < 2 ? 2.5 : age < 18 ? 0.5 : age < 50 ? 0.3 : age < 65 ? 0.45 : 0.6;
}

const DURATION: Record<EncounterKind, readonly [number, number]> = {
  wellness: [20 * MINUTE, 40 * MINUTE],
  outpatient: [15 * MINUTE, 30 * MINUTE],
  urgent: [30 * MINUTE, 90 * MINUTE],
  emergency: [1 * HOUR, 6 * HOUR],
  inpatient: [1 * DAY, 7 * DAY],
};

/**
 * When the patient was seen, and why (by kind), between `from` and `until`. The first visit is a
 * wellness visit, so every record starts with a baseline; the last one before a death is often a stay.
 */
export function planEncounters(rng: Rng, tuning: Tuning, birth: number, from: number, until: number, chronicCount: number, died: boolean): PlannedEncounter[] {
  const years = Math.max(0, until - from) / YEAR;
  const midAge = ((from + until) / 2 - birth) / YEAR;
  const well = wellnessRate(midAge);
  const acute = 0.25 + 0.08 * chronicCount;
  const expected = years * (well + acute) * tuning.encounterScale;
  const n = Math.max(tuning.minEncounters, Math.min(tuning.maxEncounters, Math.round(expected * rng.float(0.6, 1.4))));
  const weights: readonly (readonly [EncounterKind, number])[] = [
    ['wellness', well],
    ['outpatient', acute * 0.45],
    ['urgent', acute * 0.2],
    ['emergency', acute * 0.25],
    ['inpatient', acute * (midAge >= 65 ? 0.1 : 0.04)],
  ];
  const days: number[] = [];
  for (let i = 0; i < n; i++) days.push(startOfDay(rng.float(from, until)));
  days.sort((a, b) => a - b);
  return days.map((day, i) => {
    let kind: EncounterKind = i === 0 ? 'wellness' : rng.weighted(weights, (w) => w[1])[0];
    if (died && i === n - 1 && n > 1 && rng.chance(0.6)) kind = 'inpatient';
    const office = kind === 'wellness' || kind === 'outpatient' || kind === 'urgent';
    // Office visits start between 8:00 and 17:00 on the quarter hour; emergencies at any minute.
    let start = day + (office ? 8 * HOUR + rng.int(0, 36) * 15 * MINUTE : rng.int(0, 24 * 60 - 1) * MINUTE);
    start = Math.max(from, Math.min(start, until - HOUR));
    const [lo, hi] = DURATION[kind];
    const end = Math.min(until, start + Math.round(rng.float(lo, hi) / MINUTE) * MINUTE);
    return { kind, start, end: Math.max(start, end) };
  });
}

const CLASSES: Record<EncounterKind, readonly [string, string]> = {
  wellness: ['AMB', 'ambulatory'],
  outpatient: ['AMB', 'ambulatory'],
  urgent: ['AMB', 'ambulatory'],
  emergency: ['EMER', 'emergency'],
  inpatient: ['IMP', 'inpatient encounter'],
};

export interface EncounterInput {
  readonly plan: PlannedEncounter;
  readonly child: boolean;
  /** A visit for a known long-term condition rather than a new problem. */
  readonly followUp: boolean;
  readonly patient: Reference<Patient>;
  readonly practitioner: Reference<Practitioner>;
  readonly organization: Reference<Organization>;
  readonly location: Reference<Location>;
  readonly reason?: string;
  /** The patient died during this stay. */
  readonly expired: boolean;
}

function encounterType(input: EncounterInput): readonly [string, string] {
  switch (input.plan.kind) {
    case 'wellness':
      return input.child ? ['410620009', 'Well child visit (procedure)'] : ['162673000', 'General examination of patient (procedure)'];
    case 'outpatient':
      return input.followUp ? ['390906007', 'Follow-up encounter (procedure)'] : ['185345009', 'Encounter for symptom (procedure)'];
    case 'urgent':
      return ['702927004', 'Urgent care clinic (environment)'];
    case 'emergency':
      return ['50849002', 'Emergency room admission (procedure)'];
    case 'inpatient':
      return input.followUp ? ['32485007', 'Hospital admission (procedure)'] : ['183452005', 'Emergency hospital admission (procedure)'];
  }
}

export function encounterResource(input: EncounterInput): Encounter {
  const { kind, start, end } = input.plan;
  const period = { start: dateTime(start), end: dateTime(end) };
  const [classCode, classDisplay] = CLASSES[kind];
  const [typeCode, typeDisplay] = encounterType(input);
  const [roleCode, roleDisplay] = kind === 'inpatient' ? ['ATND', 'attender'] : ['PPRF', 'primary performer'];
  return {
    resourceType: 'Encounter',
    status: 'finished',
    class: coding(`${TERMINOLOGY}/v3-ActCode`, classCode, classDisplay),
    type: [concept(SNOMED, typeCode, typeDisplay)],
    subject: input.patient,
    participant: [{ type: [{ coding: [coding(`${TERMINOLOGY}/v3-ParticipationType`, roleCode, roleDisplay)], text: roleDisplay }], period, individual: input.practitioner }],
    period,
    ...(input.reason === undefined ? {} : { reasonReference: [{ reference: input.reason }] }),
    ...(kind === 'inpatient' ? { hospitalization: { dischargeDisposition: input.expired ? hl7('discharge-disposition', 'exp', 'Expired') : hl7('discharge-disposition', 'home', 'Home') } } : {}),
    location: [{ location: input.location, status: 'completed', period }],
    serviceProvider: input.organization,
  };
}
