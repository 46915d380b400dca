export { AccessPolicy } from './policy.js';
export type { AccessPolicyOptions, PolicyUser, UserSource } from './policy.js';
export { AccessGate } from './gate.js';
export type { PatientReach } from './gate.js';
export { BreakGlass } from './break-glass.js';
export type { BreakGlassGrant } from './break-glass.js';
export { consentAnswer } from './consent.js';
export { PROTECTED_LABELS } from './labels.js';
export { roleGrant, defaultPurpose } from './role-rules.js';
