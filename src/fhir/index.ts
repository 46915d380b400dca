export { Repository } from './repository.js';
export type { ResourceVersion, HistoryEntry, WriteResult, RepositoryOptions } from './repository.js';
export { loadDefinitions, isKnownResourceType } from './definitions.js';
export { validate } from './validate.js';
export { isValidId, parseVersionId, newId } from './ids.js';
export { errorOutcome, infoOutcome } from './outcome.js';
export { capabilityStatement } from './capability.js';
export { historyBundle } from './history-bundle.js';
export { CursorSigner } from './cursor.js';
