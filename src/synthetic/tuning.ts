/**
 * The knobs of the generator. With these values a patient has about 115 resources on average
 * (from ten for a healthy young adult to about 300 for an old patient with several chronic diseases).
 * `encounterScale` is the main lever: resources per patient grow roughly in proportion to it.
 */
export const TUNING = {
  minOrganizations: 2,
  patientsPerOrganization: 500,
  minPractitioners: 5,
  patientsPerPractitioner: 50,
  /** Every patient has between these many encounters. */
  minEncounters: 1,
  maxEncounters: 20,
  /** Years of history before the record's end (today, or death). */
  historyYears: 10,
  /** Multiplies the expected number of encounters of every patient. */
  encounterScale: 1,
  /** Share of patients with one to three allergies. */
  allergyShare: 0.25,
  /** Chance that an adult wellness visit draws each lab panel (lipids, metabolic, blood count). */
  wellnessLabChance: 0.25,
  /** Chance that a non-wellness encounter records vital signs. */
  acuteVitalsChance: 0.8,
} as const;

export type Tuning = { -readonly [K in keyof typeof TUNING]: number };
