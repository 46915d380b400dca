/**
 * The search bench's data: a synthetic data set generated in this process and loaded through the
 * code `vigil import` uses (`processBundle` over the repository, one transaction per Bundle, every
 * interaction allowed, `Prefer: return=minimal`), with what the queries need noted on the way:
 * each patient's server id, family name, MRN, birth date and Observation count, and a sample of
 * recent Observation codes. The generator is deterministic, so the same `--patients` loads the
 * same records in every run.
 */
import type { Bundle, BundleEntry, Observation, Patient } from '@medplum/fhirtypes';
import { loadConfig } from '../src/config/index.js';
import { processBundle, type BundleOptions } from '../src/fhir/index.js';
import { openVigil } from '../src/runtime/index.js';
import { MRN_SYSTEM, generateDataset } from '../src/synthetic/index.js';

export const DATASET_SEED = 'vigil-bench';
const LOINC = 'http://loinc.org';
/** The Observation code+date query asks for `date=ge` this day. */
export const RECENT_FROM = '2020-01-01';
/** Only observations a full day after it are sampled, so a time zone cannot push one out of range. */
const RECENT_SAMPLED_FROM = Date.parse(`${RECENT_FROM}T00:00:00Z`) + 86_400_000;
const CODE_SAMPLE = 4000;
const PROGRESS_EVERY_MS = 2000;

/** One loaded patient, as the queries use it. */
export interface LoadedPatient {
  readonly id: string;
  /** The family name of the first (official) name. */
  readonly family: string;
  readonly mrn: string;
  readonly birthDate: string;
  /** Observations whose subject is this patient: what `_revinclude=Observation:subject` must return. */
  readonly observations: number;
}

/** What was loaded, as far as the queries need it. */
export interface LoadedData {
  readonly patients: readonly LoadedPatient[];
  /**
   * LOINC codes of observations taken after RECENT_FROM, one per sampled observation (so a uniform
   * draw from it follows how often each code occurs).
   */
  readonly recentCodes: readonly string[];
}

export interface ImportResult {
  readonly patients: number;
  readonly resources: number;
  /** Wall time of the whole import, generation included. */
  readonly seconds: number;
  /** The part of `seconds` spent in this bench: generating the Bundles and noting samples. */
  readonly generateSeconds: number;
  readonly data: LoadedData;
}

/**
 * A small seeded generator (mulberry32), so draws repeat from run to run.
 *
 * @example
 * const random = seeded(1);
 * random(); // a number in [0, 1)
 */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Noted {
  readonly index: number;
  readonly family: string;
  readonly mrn: string;
  readonly birthDate: string;
  readonly observations: number;
}

/** Reads what the queries need from a patient Bundle before it is stored. */
function notePatient(entries: readonly BundleEntry[], codes: string[], seen: { n: number }, random: () => number): Noted | undefined {
  const index = entries.findIndex((e) => e.resource?.resourceType === 'Patient');
  const entry = entries[index];
  const patient = entry?.resource as Patient | undefined;
  if (entry === undefined || patient === undefined || entry.fullUrl === undefined) return undefined;
  let observations = 0;
  for (const e of entries) {
    if (e.resource?.resourceType !== 'Observation') continue;
    const obs = e.resource as Observation;
    if (obs.subject?.reference !== entry.fullUrl) continue;
    observations++;
    const code = obs.code.coding?.find((c) => c.system === LOINC)?.code;
    const at = Date.parse(obs.effectiveDateTime ?? '');
    if (code === undefined || !(at >= RECENT_SAMPLED_FROM)) continue;
    // Reservoir sampling: every recent observation has the same chance to be kept.
    seen.n++;
    if (codes.length < CODE_SAMPLE) codes.push(code);
    else {
      const slot = Math.floor(random() * seen.n);
      if (slot < CODE_SAMPLE) codes[slot] = code;
    }
  }
  const family = patient.name?.[0]?.family;
  const mrn = patient.identifier?.find((i) => i.system === MRN_SYSTEM)?.value;
  if (family === undefined || mrn === undefined || patient.birthDate === undefined) return undefined;
  return { index, family, mrn, birthDate: patient.birthDate, observations };
}

/** A rough duration for progress lines: `45 s`, `12 min`, `2.5 h`. */
export function duration(ms: number): string {
  const s = ms / 1000;
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

const writes = (entries: readonly BundleEntry[]): number => entries.filter((e) => e.request?.method === 'POST' || e.request?.method === 'PUT').length;

/**
 * Creates a Vigil data directory at `dataDir` (as `vigil serve` would, bootstrap admin included)
 * and loads `patients` synthetic patients into it, reporting progress through `progress`.
 */
export async function importDataset(dataDir: string, patients: number, progress: (line: string) => void): Promise<ImportResult> {
  // No VIGIL_* variable from the caller's shell: the import must match what the server will read.
  const vigil = await openVigil(loadConfig({}, { dataDir }), { create: true });
  try {
    // As `vigil import`: the data owner on its own store, every interaction allowed.
    const options: BundleOptions = { fhirBaseUrl: vigil.config.fhirBaseUrl, authorize: () => undefined, mayCreate: () => true, minimal: true };
    const random = seeded(7);
    const loaded: LoadedPatient[] = [];
    const recentCodes: string[] = [];
    const seen = { n: 0 };
    const files = generateDataset({ patients, seed: DATASET_SEED });
    let resources = 0;
    let generateMs = 0;
    const started = performance.now();
    let shown = started;
    for (;;) {
      const t0 = performance.now();
      const next = files.next();
      if (next.done === true) break;
      const entries = next.value.bundle.entry ?? [];
      const noted = next.value.kind === 'patient' ? notePatient(entries, recentCodes, seen, random) : undefined;
      generateMs += performance.now() - t0;
      const response: Bundle = await processBundle(vigil.repository, next.value.bundle, options);
      resources += writes(entries);
      if (noted !== undefined) {
        const id = response.entry?.[noted.index]?.fullUrl?.split('/').pop();
        if (id === undefined) throw new Error('the import did not answer with the Patient id');
        loaded.push({ id, family: noted.family, mrn: noted.mrn, birthDate: noted.birthDate, observations: noted.observations });
      }
      const now = performance.now();
      if (now - shown >= PROGRESS_EVERY_MS) {
        shown = now;
        const rate = Math.round(resources / ((now - started) / 1000));
        // At this pace for the patients left (a big import slows a little as its index grows).
        const left = loaded.length > 0 ? ((now - started) / loaded.length) * (patients - loaded.length) : 0;
        progress(
          `imported ${loaded.length.toLocaleString('en-US')}/${patients.toLocaleString('en-US')} patients, ${resources.toLocaleString('en-US')} resources (${rate.toLocaleString('en-US')}/s), about ${duration(left)} left`,
        );
      }
    }
    const seconds = (performance.now() - started) / 1000;
    if (loaded.length !== patients) throw new Error(`the import noted ${loaded.length} of ${patients} patients`);
    return { patients, resources, seconds, generateSeconds: generateMs / 1000, data: { patients: loaded, recentCodes } };
  } finally {
    await vigil.close();
  }
}
