export { processBundle } from './process.js';
export { runInWindows, windowEnd, type Turn, type WindowEntry } from './windows.js';
export type { BundleOptions } from './process.js';
export { parseEntries } from './entries.js';
export type { EntryRequest } from './entries.js';
