import type { Rng } from './random.js';
import { addObservation, type Recording, type Smoking } from './observations.js';
import { LOINC, coding, quantity, round } from './systems.js';

/** A patient's lasting traits, so that their measurements stay consistent from visit to visit. */
export interface Physiology {
  readonly female: boolean;
  /** Height percentile as a z-score. */
  readonly heightZ: number;
  /** Adult BMI (children follow a curve scaled by it). */
  readonly bmi: number;
  /** Adult resting systolic pressure and heart rate. */
  readonly systolic: number;
  readonly heartRate: number;
  readonly smoking: Smoking;
}

export function drawPhysiology(rng: Rng, female: boolean, hypertension: boolean, copd: boolean): Physiology {
  const smokingRoll = rng.next();
  const smokerShare = copd ? 0.7 : 0.25;
  return {
    female,
    heightZ: Math.max(-2.5, Math.min(2.5, rng.normal(0, 1))),
    bmi: Math.max(17, Math.min(48, rng.normal(27.5, 5))),
    systolic: hypertension ? rng.normal(146, 10) : rng.normal(118, 9),
    heartRate: rng.normal(72, 7),
    smoking: smokingRoll < smokerShare * 0.5 ? 'current' : smokingRoll < smokerShare ? 'former' : 'never',
  };
}

/** Height in cm at `age` years: a rough growth curve, scaled by the patient's percentile. */
export function heightAt(p: Physiology, age: number): number {
  const adult = p.female ? 163 : 177;
  let h: number;
  if (age < 1) h = 50 + 25 * age;
  else if (age < 2) h = 75 + 12 * (age - 1);
  else if (age < 18) h = 87 + (adult - 87) * ((age - 2) / 16) ** 0.85;
  else h = adult - Math.max(0, age - 65) * 0.12;
  return h * (1 + 0.04 * p.heightZ);
}

/** Weight in kg at `age` years. */
export function weightAt(p: Physiology, age: number): number {
  if (age < 1) return 3.4 + 6.3 * age;
  if (age < 2) return 9.7 + 2.4 * (age - 1);
  return bmiAt(p, age) * (heightAt(p, age) / 100) ** 2;
}

function bmiAt(p: Physiology, age: number): number {
  if (age >= 20) return p.bmi;
  const child = age < 6 ? 16 : age < 13 ? 16 + (age - 6) * 0.35 : 18.5 + (age - 13) * 0.55;
  return child * (0.75 + 0.25 * (p.bmi / 25));
}

export interface VitalsOptions {
  readonly fever: boolean;
  readonly lowOxygen: boolean;
  readonly oximetry: boolean;
  /** A pain score range, if pain is asked about. */
  readonly pain?: readonly [number, number];
}

const VITALS = 'vital-signs';

/** The vital signs of one visit, each an Observation with a UCUM quantity; blood pressure has two components. */
export function addVitalSigns(rec: Recording, p: Physiology, age: number, opts: VitalsOptions): void {
  const rng = rec.rng;
  const jitter = (sd: number): number => rng.normal(0, sd);
  const height = heightAt(p, age) + jitter(0.4);
  const weight = weightAt(p, age) * (1 + jitter(0.015));
  addObservation(rec, VITALS, '8302-2', 'Body Height', { valueQuantity: quantity(round(height, 1), 'cm') });
  addObservation(rec, VITALS, '29463-7', 'Body Weight', { valueQuantity: quantity(round(weight, 1), 'kg') });
  if (age < 2) {
    const head = (age < 1 ? 35 + 11 * age : 46 + 2 * (age - 1)) + jitter(0.5);
    addObservation(rec, VITALS, '9843-4', 'Head Occipital-frontal circumference', { valueQuantity: quantity(round(head, 1), 'cm') });
  } else {
    addObservation(rec, VITALS, '39156-5', 'Body mass index (BMI) [Ratio]', { valueQuantity: quantity(round(weight / (height / 100) ** 2, 1), 'kg/m2') });
  }
  if (age >= 3) {
    const systolic = Math.round((age < 18 ? 95 + 1.3 * age : p.systolic + Math.max(0, age - 40) * 0.3) + jitter(6));
    const diastolic = Math.round(systolic * 0.62 + jitter(4));
    addObservation(rec, VITALS, '85354-9', 'Blood pressure panel with all children optional', {
      component: [
        { code: { coding: [coding(LOINC, '8480-6', 'Systolic blood pressure')], text: 'Systolic blood pressure' }, valueQuantity: quantity(systolic, 'mm[Hg]', 'mmHg') },
        { code: { coding: [coding(LOINC, '8462-4', 'Diastolic blood pressure')], text: 'Diastolic blood pressure' }, valueQuantity: quantity(diastolic, 'mm[Hg]', 'mmHg') },
      ],
    });
  }
  const restingRate = age < 1 ? 130 : age < 3 ? 115 : age < 6 ? 100 : age < 12 ? 90 : p.heartRate;
  addObservation(rec, VITALS, '8867-4', 'Heart rate', { valueQuantity: quantity(Math.round(restingRate + (opts.fever ? 12 : 0) + jitter(5)), '/min', 'beats/minute') });
  const breathing = age < 1 ? 35 : age < 3 ? 28 : age < 6 ? 24 : age < 12 ? 20 : 15;
  addObservation(rec, VITALS, '9279-1', 'Respiratory rate', { valueQuantity: quantity(Math.round(breathing + (opts.lowOxygen ? 5 : 0) + jitter(1.5)), '/min', 'breaths/minute') });
  const temperature = opts.fever ? rng.float(38.1, 39.6) : rng.normal(36.8, 0.2);
  addObservation(rec, VITALS, '8310-5', 'Body temperature', { valueQuantity: quantity(round(temperature, 1), 'Cel', '°C') });
  if (opts.oximetry || opts.lowOxygen) {
    const saturation = opts.lowOxygen ? rng.float(87, 93) : Math.min(100, rng.normal(97.5, 1));
    addObservation(rec, VITALS, '59408-5', 'Oxygen saturation in Arterial blood by Pulse oximetry', { valueQuantity: quantity(Math.round(saturation), '%') });
  }
  if (opts.pain !== undefined && age >= 5) {
    addObservation(rec, 'survey', '72514-3', 'Pain severity - 0-10 verbal numeric rating [Score] - Reported', { valueQuantity: quantity(rng.int(opts.pain[0], opts.pain[1]), '{score}') });
  }
}
