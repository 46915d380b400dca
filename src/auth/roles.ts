/**
 * The roles a user or client may hold, and what each one needs. The access policy (src/policy)
 * decides what a role may do; this file only names the roles and the identity link each requires.
 */

/** Every role Vigil knows. A role outside this list is refused wherever roles are set. */
export const ROLES = ['clinician', 'nurse', 'front-desk', 'billing', 'researcher', 'privacy-officer', 'security-admin', 'patient'] as const;

export type Role = (typeof ROLES)[number];

/** Roles whose holders must sign in with a second factor (TOTP): they see or change everyone's access. */
export const PRIVILEGED_ROLES: readonly Role[] = ['security-admin', 'privacy-officer'];

/** The FHIR resource types a user's `fhirUser` link may name. */
export type LinkType = 'Practitioner' | 'Patient' | 'RelatedPerson';

/** What a role needs: the link it requires (if any) and the link types it accepts. */
export interface RoleNeeds {
  readonly role: Role;
  /** Whether a `fhirUser` link must be given. */
  readonly linkRequired: boolean;
  /** The resource types the link may name. */
  readonly linkTypes: readonly LinkType[];
  /** Whether the role requires MFA. */
  readonly mfaRequired: boolean;
  readonly description: string;
}

const DESCRIPTIONS: Record<Role, string> = {
  clinician: 'Reads and writes records of patients they have a care relationship with',
  nurse: 'Reads and writes records of patients they have a care relationship with',
  'front-desk': 'Registers patients and schedules visits',
  billing: 'Reads what claims and coverage need',
  researcher: 'Reads what a study is permitted to read',
  'privacy-officer': 'Answers who accessed a record; reviews break-the-glass',
  'security-admin': 'Manages users, clients, roles and lockouts',
  patient: 'Reads their own record (or those they are authorized for as a related person)',
};

function linkOf(role: Role): { required: boolean; types: readonly LinkType[] } {
  switch (role) {
    case 'patient':
      return { required: true, types: ['Patient', 'RelatedPerson'] };
    case 'clinician':
    case 'nurse':
      return { required: true, types: ['Practitioner'] };
    case 'front-desk':
    case 'billing':
    case 'researcher':
    case 'privacy-officer':
    case 'security-admin':
      return { required: false, types: ['Practitioner'] };
  }
}

/** What each role needs, in ROLES order (served by `GET /admin/roles`). */
export function roleNeeds(): RoleNeeds[] {
  return ROLES.map((role) => {
    const link = linkOf(role);
    return { role, linkRequired: link.required, linkTypes: link.types, mfaRequired: PRIVILEGED_ROLES.includes(role), description: DESCRIPTIONS[role] };
  });
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** True when any of the roles requires MFA. */
export function isPrivileged(roles: readonly string[]): boolean {
  return roles.some((r) => (PRIVILEGED_ROLES as readonly string[]).includes(r));
}

/** A `fhirUser` reference of the form `Type/id` with a FHIR id (1-64 of `A-Za-z0-9-.`). */
const LINK = /^(Practitioner|Patient|RelatedPerson)\/([A-Za-z0-9\-.]{1,64})$/;

/**
 * Checks that a set of roles and a `fhirUser` link fit together; returns the problems (empty when
 * they do). Every role's required link must be present and of an accepted type, and a link must
 * suit every role held (a patient link on a clinician is refused).
 */
export function linkProblems(roles: readonly Role[], fhirUser: string | undefined): string[] {
  const problems: string[] = [];
  if (roles.length === 0) problems.push('At least one role is required');
  let type: LinkType | undefined;
  if (fhirUser !== undefined) {
    const m = LINK.exec(fhirUser);
    if (m === null) problems.push('The link must be Practitioner/ID, Patient/ID or RelatedPerson/ID');
    else type = m[1] as LinkType;
  }
  for (const role of roles) {
    const link = linkOf(role);
    if (fhirUser === undefined) {
      if (link.required) problems.push(`Role ${role} needs a ${link.types.join(' or ')} link`);
    } else if (type !== undefined && !link.types.includes(type)) {
      problems.push(`Role ${role} cannot be linked to a ${type}`);
    }
  }
  return problems;
}
