export { holdsConditionalReference, processBundle } from './process.js';
export type { BundleOptions } from './process.js';
export { parseEntries } from './entries.js';
export type { EntryRequest } from './entries.js';
