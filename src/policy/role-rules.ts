import type { Permission } from '../auth/index.js';

/**
 * Which patients a role reaches: every patient, those the user has a care relationship with,
 * the user's own record (and those they act for), or those whose Consent permits research.
 */
export type Reach = 'all' | 'related' | 'self' | 'research';

/** What one role may do on one resource type, and for which patients. */
export interface RoleGrant {
  readonly perms: ReadonlySet<Permission>;
  readonly reach: Reach;
}

const ALL: Permission[] = ['c', 'r', 'u', 'd', 's'];
const READ: Permission[] = ['r', 's'];
const WRITE_NO_DELETE: Permission[] = ['c', 'r', 'u', 's'];

/** Scheduling, registration and demographics: what the front desk works with. */
const FRONT_DESK_WRITES = new Set(['Patient', 'Appointment', 'AppointmentResponse', 'Coverage', 'RelatedPerson', 'Encounter']);
/** Billing works with claims and accounts, and reads what it needs to bill. */
const BILLING_WRITES = new Set(['Account', 'Claim', 'Invoice', 'ChargeItem']);
const BILLING_READS = new Set(['Patient', 'Coverage', 'ClaimResponse', 'ExplanationOfBenefit', 'Encounter', 'PaymentNotice', 'PaymentReconciliation']);
/** Prescribing is a clinician's act: nurses read medication orders but do not write them. */
const PRESCRIBING = new Set(['MedicationRequest']);
/** Privacy officers manage consents and see who a record belongs to, not its clinical content. */
const PRIVACY_READS = new Set(['Patient', 'Provenance', 'RelatedPerson']);

function grant(perms: Permission[], reach: Reach): RoleGrant {
  return { perms: new Set(perms), reach };
}

/**
 * What a role grants on a type. `compartment` says whether the type's resources belong to
 * patients; shared types (Practitioner, Organization, Medication...) are readable by every
 * signed-in role that has the scope. Undefined: nothing (default deny).
 */
export function roleGrant(role: string, type: string, compartment: boolean): RoleGrant | undefined {
  if (!compartment) return role === 'patient' || ROLE_NAMES.has(role) ? grant(READ, 'all') : undefined;
  switch (role) {
    case 'clinician':
      return grant(ALL, 'related');
    case 'nurse':
      return grant(PRESCRIBING.has(type) ? READ : WRITE_NO_DELETE, 'related');
    case 'front-desk':
      return FRONT_DESK_WRITES.has(type) ? grant(WRITE_NO_DELETE, 'all') : undefined;
    case 'billing':
      if (BILLING_WRITES.has(type)) return grant(WRITE_NO_DELETE, 'all');
      return BILLING_READS.has(type) ? grant(READ, 'all') : undefined;
    case 'researcher':
      // Research data without the demographics that identify a person.
      return type === 'Patient' || type === 'RelatedPerson' ? undefined : grant(READ, 'research');
    case 'privacy-officer':
      if (type === 'Consent') return grant(WRITE_NO_DELETE, 'all');
      return PRIVACY_READS.has(type) ? grant(READ, 'all') : undefined;
    case 'patient':
      return grant(READ, 'self');
    default:
      // security-admin and unknown roles: no patient data.
      return undefined;
  }
}

const ROLE_NAMES = new Set(['clinician', 'nurse', 'front-desk', 'billing', 'researcher', 'privacy-officer', 'security-admin']);

/** The purpose of use a role works under by default (HL7 v3 PurposeOfUse), recorded in audit entries. */
export function defaultPurpose(roles: readonly string[]): string | undefined {
  if (roles.includes('clinician') || roles.includes('nurse')) return 'TREAT';
  if (roles.includes('researcher')) return 'HRESCH';
  if (roles.includes('billing')) return 'HPAYMT';
  if (roles.includes('front-desk') || roles.includes('privacy-officer') || roles.includes('security-admin')) return 'HOPERAT';
  if (roles.includes('patient')) return 'PATRQT';
  return undefined;
}
