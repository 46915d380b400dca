export { Keyring, resourceContext } from './keyring.js';
export type { DataKeyStore, WrappedDataKey } from './keyring.js';
export { loadOrCreateMasterKey, deriveKey, MASTER_KEY_FILE } from './master-key.js';
export { keyVersionOf, seal, open, ENVELOPE_OVERHEAD } from './envelope.js';
