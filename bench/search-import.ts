/**
 * The search bench's data: a synthetic data set generated in this process, written as files and
 * loaded by the code and the threads `vigil import` uses (one transaction per Bundle, one thread
 * per core), with what the queries need noted on the way: each patient's family name, MRN, birth
 * date and Observation count (the server id is looked up by MRN after the import), and a sample of
 * recent Observation codes. The generator is deterministic, so the same `--patients` loads the
 * same records in every run.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { BundleEntry, Observation, Patient } from '@medplum/fhirtypes';
import { loadConfig } from '../src/config/index.js';
import type { ImportState } from '../src/cli/import-progress.js';
import { listFiles } from '../src/cli/import-sources.js';
import { runImport } from '../src/cli/import-workers.js';
import { openVigil, type Vigil } from '../src/runtime/index.js';
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
  /** Wall time of the import alone (the files were written before it started). */
  readonly seconds: number;
  /** Time spent before the import: generating the Bundles, noting samples and writing the files. */
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
  readonly family: string;
  readonly mrn: string;
  readonly birthDate: string;
  readonly observations: number;
}

/** Reads what the queries need from a patient Bundle before it is stored. */
function notePatient(entries: readonly BundleEntry[], codes: string[], seen: { n: number }, random: () => number): Noted | undefined {
  const entry = entries.find((e) => e.resource?.resourceType === 'Patient');
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
  return { family, mrn, birthDate: patient.birthDate, observations };
}

/** A rough duration for progress lines: `45 s`, `12 min`, `2.5 h`. */
export function duration(ms: number): string {
  const s = ms / 1000;
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/** The bench's import threads: as `vigil import` picks by default (one per core, at most 4). */
const IMPORT_WORKERS = Math.min(4, availableParallelism());

/** What generating the data set noted for the queries (patients by MRN, sampled recent codes). */
interface Notes {
  readonly noted: readonly Noted[];
  readonly recentCodes: string[];
  /** Resources in the data set's Bundles. */
  readonly resources: number;
}

/** Generates the bench's data set (the same every run), notes what the queries need, and hands each file to `write`. */
function noteDataset(patients: number, write: (name: string, bundle: unknown) => void): Notes {
  const random = seeded(7);
  const recentCodes: string[] = [];
  const seen = { n: 0 };
  const noted: Noted[] = [];
  let resources = 0;
  for (const file of generateDataset({ patients, seed: DATASET_SEED })) {
    const note = file.kind === 'patient' ? notePatient(file.bundle.entry ?? [], recentCodes, seen, random) : undefined;
    if (note !== undefined) noted.push(note);
    resources += file.bundle.entry?.length ?? 0;
    write(file.name, file.bundle);
  }
  if (noted.length !== patients) throw new Error(`the bench noted ${noted.length} of ${patients} patients`);
  return { noted, recentCodes, resources };
}

/** Each noted patient with its server id, looked up by MRN in the store. */
async function lookUpPatients(vigil: Vigil, noted: readonly Noted[]): Promise<LoadedPatient[]> {
  const loaded: LoadedPatient[] = [];
  for (const n of noted) {
    const [found] = await vigil.repository.engine.matchCondition('Patient', `identifier=${encodeURIComponent(`${MRN_SYSTEM}|${n.mrn}`)}`);
    if (found === undefined) throw new Error('an imported patient was not found by its MRN');
    loaded.push({ id: found.id, family: n.family, mrn: n.mrn, birthDate: n.birthDate, observations: n.observations });
  }
  return loaded;
}

/**
 * Creates a Vigil data directory at `dataDir` (as `vigil serve` would, bootstrap admin included)
 * and loads `patients` synthetic patients into it as `vigil import` does: the data set is first
 * written as files to `workDir` (as `vigil generate` would), then imported by the same code and
 * the same number of threads as the command. The queries' values are noted while generating, and
 * each patient's server id is looked up by its MRN afterwards.
 */
export async function importDataset(dataDir: string, patients: number, progress: (line: string) => void, workDir: string): Promise<ImportResult> {
  const generated = join(workDir, 'generated');
  mkdirSync(generated, { recursive: true });
  const t0 = performance.now();
  const { noted, recentCodes } = noteDataset(patients, (name, bundle) => writeFileSync(join(generated, name), JSON.stringify(bundle)));
  const generateSeconds = (performance.now() - t0) / 1000;
  progress(`generated ${patients.toLocaleString('en-US')} patients' Bundles in ${generateSeconds.toFixed(1)} s; importing with ${IMPORT_WORKERS} thread(s)`);

  // No VIGIL_* variable from the caller's shell: the import must match what the server will read.
  const vigil = await openVigil(loadConfig({}, { dataDir }), { create: true, bulk: true });
  try {
    const list = await listFiles([generated]);
    const started = performance.now();
    let shown = started;
    const onProgress = (state: ImportState): void => {
      const now = performance.now();
      if (now - shown < PROGRESS_EVERY_MS) return;
      shown = now;
      const rate = state.resources / ((now - started) / 1000);
      const left = state.files > 0 ? ((now - started) / state.files) * (list.files.length - state.files) : 0;
      progress(`imported ${state.files.toLocaleString('en-US')}/${list.files.length.toLocaleString('en-US')} files, ${state.resources.toLocaleString('en-US')} resources (${Math.round(rate).toLocaleString('en-US')}/s), about ${duration(left)} left`);
    };
    const report = await runImport(vigil, list, { workers: IMPORT_WORKERS, onProgress });
    const seconds = report.seconds;
    if (report.failed > 0) throw new Error(`the import failed for ${report.failed} file(s) or entries`);
    progress(`imported ${report.resources.toLocaleString('en-US')} resources in ${seconds.toFixed(1)} s; looking up the patients' ids by MRN`);
    return { patients, resources: report.resources, seconds, generateSeconds, data: { patients: await lookUpPatients(vigil, noted), recentCodes } };
  } finally {
    await vigil.close();
    rmSync(generated, { recursive: true, force: true });
  }
}

/**
 * The queries' values for a data directory this bench imported before with the same `patients`
 * (kept with `--keep`): the data set is generated again in memory (it is the same every run) and
 * each patient's id looked up by MRN. Nothing is imported; `seconds` is 0.
 */
export async function reuseDataset(dataDir: string, patients: number, progress: (line: string) => void): Promise<ImportResult> {
  const t0 = performance.now();
  const { noted, recentCodes, resources } = noteDataset(patients, () => undefined);
  const generateSeconds = (performance.now() - t0) / 1000;
  progress(`generated ${patients.toLocaleString('en-US')} patients' Bundles again in ${generateSeconds.toFixed(1)} s; looking up the patients' ids by MRN in ${dataDir}`);
  const vigil = await openVigil(loadConfig({}, { dataDir }));
  try {
    return { patients, resources, seconds: 0, generateSeconds, data: { patients: await lookUpPatients(vigil, noted), recentCodes } };
  } finally {
    await vigil.close();
  }
}
