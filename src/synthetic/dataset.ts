import type { Bundle } from '@medplum/fhirtypes';
import { VigilError } from '../errors.js';
import { buildProviders } from './providers.js';
import { Rng } from './random.js';
import { patientBundle, type RecordContext } from './record.js';
import { TUNING, type Tuning } from './tuning.js';

/** The most patients one data set may have (ten million files is already more than most disks like). */
export const MAX_PATIENTS = 10_000_000;

/** Living patients' records end here unless told otherwise, so the output never depends on the clock. */
export const DEFAULT_AS_OF = '2025-01-01T00:00:00Z';

export const PROVIDERS_FILE = 'organizations-practitioners.json';

export interface DatasetOptions {
  /** How many patients, from 1 to MAX_PATIENTS. */
  readonly patients: number;
  /** The same seed and patient count give the same data set, byte for byte. */
  readonly seed: number | string;
  /** The end of the records of living patients (default DEFAULT_AS_OF). */
  readonly asOf?: Date;
  /** Overrides of the generator's knobs (see TUNING). */
  readonly tuning?: Partial<Tuning>;
}

/** One file of a data set: its name and the transaction Bundle it holds. */
export interface DatasetFile {
  readonly name: string;
  readonly kind: 'providers' | 'patient';
  readonly bundle: Bundle;
}

/** `patient-000042.json`: zero-padded to at least six digits, so that names sort in order. */
export function patientFileName(index: number, patients: number): string {
  return `patient-${String(index).padStart(Math.max(6, String(patients).length), '0')}.json`;
}

function check(options: DatasetOptions): { patients: number; seed: string; asOf: number } {
  const { patients, seed, asOf } = options;
  if (!Number.isSafeInteger(patients) || patients < 1 || patients > MAX_PATIENTS) {
    throw new VigilError('ERR_BAD_REQUEST', `patients must be an integer from 1 to ${MAX_PATIENTS}`);
  }
  const text = String(seed);
  if (text.length === 0 || text.length > 200 || (typeof seed === 'number' && !Number.isSafeInteger(seed))) {
    throw new VigilError('ERR_BAD_REQUEST', 'seed must be an integer or a text of 1 to 200 characters');
  }
  const end = asOf?.getTime() ?? Date.parse(DEFAULT_AS_OF);
  if (!Number.isFinite(end) || end < Date.parse('1926-01-01T00:00:00Z')) throw new VigilError('ERR_BAD_REQUEST', 'asOf must be a valid date after 1925');
  return { patients, seed: text, asOf: end };
}

/**
 * A deterministic synthetic data set, as FHIR R4 transaction Bundles like Synthea's: first the
 * organizations, locations and practitioners, then one bundle per patient, whose records point at
 * them by conditional reference (`Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|...`).
 *
 * Bundles are made one at a time as the caller iterates, so a data set of any size needs the
 * memory of one patient (plus the provider directory, one entry per ~50 patients).
 *
 * @example
 * for (const file of generateDataset({ patients: 100, seed: 42 })) {
 *   writeFileSync(join(dir, file.name), JSON.stringify(file.bundle));
 * }
 */
export function generateDataset(options: DatasetOptions): Generator<DatasetFile, void, undefined> {
  const { patients, seed, asOf } = check(options);
  return produce(patients, seed, asOf, { ...TUNING, ...options.tuning });
}

function* produce(patients: number, seed: string, asOf: number, tuning: Tuning): Generator<DatasetFile, void, undefined> {
  const { directory, bundle } = buildProviders(Rng.derive(seed, 'providers'), patients);
  yield { name: PROVIDERS_FILE, kind: 'providers', bundle };
  const ids = Rng.derive(seed, 'identifiers');
  const ctx: RecordContext = {
    seed,
    asOf,
    tuning,
    directory,
    mrnPrefix: String.fromCharCode(65 + ids.int(0, 25), 65 + ids.int(0, 25), 65 + ids.int(0, 25)),
    ssnOffset: ids.int(0, 999_999),
  };
  for (let index = 1; index <= patients; index++) {
    yield { name: patientFileName(index, patients), kind: 'patient', bundle: patientBundle(ctx, index) };
  }
}
