export { generateDataset, patientFileName, PROVIDERS_FILE, MAX_PATIENTS, DEFAULT_AS_OF } from './dataset.js';
export type { DatasetOptions, DatasetFile } from './dataset.js';
export { TUNING } from './tuning.js';
export type { Tuning } from './tuning.js';
export { providerCounts } from './providers.js';
export { NPI_SYSTEM, SSN_SYSTEM, MRN_SYSTEM, LOCATION_SYSTEM } from './systems.js';
