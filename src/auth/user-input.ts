import { VigilError } from '../errors.js';
import { isRole, linkProblems, type Role } from './roles.js';

/** User names: lower-case letters, digits and `._@-`, 2 to 64 characters, starting with a letter or digit. */
const USERNAME = /^[a-z0-9][a-z0-9._@-]{1,63}$/;
/** A FHIR id (R4 `id` datatype). */
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
/** A security-label code such as `R`, `V`, `HIV`, `PSY`, `SUD`, `ETH`. */
const LABEL_CODE = /^[A-Za-z0-9_-]{1,32}$/;

/** Lower-cases (after NFKC) a user name; undefined when it does not fit the grammar. */
export function normalizeUsername(name: unknown): string | undefined {
  if (typeof name !== 'string' || name.length > 256) return undefined;
  const n = name.normalize('NFKC').toLowerCase();
  return USERNAME.test(n) ? n : undefined;
}

/** The normalized user name, or ERR_BAD_REQUEST (the message does not quote it). */
export function checkUsername(name: unknown): string {
  const n = normalizeUsername(name);
  if (n === undefined) throw new VigilError('ERR_BAD_REQUEST', 'The user name must be 2 to 64 of a-z 0-9 . _ @ -, starting with a letter or digit');
  return n;
}

/** Checks a list of roles and the link they need; returns them de-duplicated. */
export function checkRoles(roles: unknown, fhirUser: string | undefined): Role[] {
  if (!Array.isArray(roles) || roles.length > 20 || !roles.every(isRole)) throw new VigilError('ERR_BAD_REQUEST', 'Unknown role (see GET /admin/roles)');
  const unique = [...new Set(roles)];
  const problems = linkProblems(unique, fhirUser);
  if (problems.length > 0) throw new VigilError('ERR_BAD_REQUEST', problems.join('; '), { issues: problems.map((message) => ({ message })) });
  return unique;
}

/** Organization ids (a leading `Organization/` is accepted and dropped). */
export function checkOrganizations(orgs: unknown): string[] {
  if (orgs === undefined) return [];
  if (!Array.isArray(orgs) || orgs.length > 50) throw new VigilError('ERR_BAD_REQUEST', 'Organizations must be a list of at most 50 Organization ids');
  const ids = orgs.map((o) => (typeof o === 'string' && o.startsWith('Organization/') ? o.slice('Organization/'.length) : o));
  if (!ids.every((id) => typeof id === 'string' && FHIR_ID.test(id))) throw new VigilError('ERR_BAD_REQUEST', 'An organization is not a FHIR id');
  return [...new Set(ids as string[])];
}

/** Security-label codes the user may see. */
export function checkClearances(codes: unknown): string[] {
  if (codes === undefined) return [];
  if (!Array.isArray(codes) || codes.length > 50 || !codes.every((c) => typeof c === 'string' && LABEL_CODE.test(c))) {
    throw new VigilError('ERR_BAD_REQUEST', 'Clearances must be a list of security-label codes such as R, V, HIV, PSY, SUD, ETH');
  }
  return [...new Set(codes as string[])];
}

/** Checks the `fhirUser` link's type: undefined passes (the roles decide whether one is needed). */
export function checkLink(fhirUser: unknown): string | undefined {
  if (fhirUser === undefined) return undefined;
  if (typeof fhirUser !== 'string' || !/^(Practitioner|Patient|RelatedPerson)\/[A-Za-z0-9\-.]{1,64}$/.test(fhirUser)) {
    throw new VigilError('ERR_BAD_REQUEST', 'The link must be Practitioner/ID, Patient/ID or RelatedPerson/ID');
  }
  return fhirUser;
}
