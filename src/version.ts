/** Vigil's version, as reported by `vigil --version` and the CapabilityStatement. */
export const VERSION = '0.1.0';
