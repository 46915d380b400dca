import type { Resource } from '@medplum/fhirtypes';
import { VigilError } from '../errors.js';
import type { Permission, Principal } from '../auth/index.js';
import type { AuditDraft } from '../audit/trail.js';
import type { SearchClause } from '../store/index.js';
import { isPatientCompartmentType, patientsOf, type AccessFilter, type Found, type WriteGuard } from '../fhir/index.js';
import type { AccessPolicy, PolicyUser } from './policy.js';
import { defaultPurpose, roleGrant, type Reach } from './role-rules.js';
import { BREAK_GLASS_LABELS, PROTECTED_LABELS, clientClearances, cleared, protectedLabels } from './labels.js';
import { consentAnswer } from './consent.js';
import { restrictionMatches } from './scope-restriction.js';

/** Labels that, under 42 CFR Part 2, not even break-the-glass opens against a Consent's deny. */
const PART_2 = new Set(['SUD', 'ETH', '42CFRPart2']);

/** Which patients a decision covers: all of them, or a set of ids. */
export type PatientReach = 'all' | ReadonlySet<string>;

/**
 * The access decision for one request (default deny). Type-level: the token's scopes AND the
 * user's roles must both grant the interaction. Instance-level: the resource must belong to a
 * patient the caller reaches (own record, care relationship, break-the-glass, research consent),
 * carry no protected label the caller is not cleared for, and no Consent may deny it. It is also
 * the search filter, so hidden resources never shape matches, includes, chains or totals.
 */
export class AccessGate implements AccessFilter {
  readonly principal: Principal;
  readonly #policy: AccessPolicy;
  readonly #user: PolicyUser | undefined;
  readonly #audit: AuditDraft | undefined;
  readonly #roles: readonly string[];
  readonly #clearances: ReadonlySet<string>;
  readonly #purpose: string | undefined;
  readonly #reach = new Map<Reach, Promise<ReadonlySet<string>>>();
  #btg: Promise<ReadonlySet<string>> | undefined;

  constructor(policy: AccessPolicy, principal: Principal, user: PolicyUser | undefined, audit: AuditDraft | undefined) {
    this.#policy = policy;
    this.principal = principal;
    this.#user = user;
    this.#audit = audit;
    // A token never exceeds its user: only roles the user still holds count.
    this.#roles = principal.kind === 'client' ? principal.roles : user === undefined ? [] : principal.roles.filter((r) => user.roles.includes(r));
    this.#clearances = new Set(principal.kind === 'client' ? clientClearances(principal.roles) : (user?.clearances ?? []));
    this.#purpose = principal.kind === 'user' ? defaultPurpose(this.#roles) : undefined;
    if (audit !== undefined && this.#purpose !== undefined) audit.purposeOfUse = [this.#purpose];
  }

  /** For clients the SQL clause (labels) decides alone; users' relationships and Consents need a look. */
  get exact(): boolean {
    return this.principal.kind === 'client' && this.principal.scopes.scopes.every((s) => s.restriction === undefined);
  }

  /** A guard for writes: what is replaced must be visible and writable, and so must the new content. */
  writeGuard(): WriteGuard {
    return async (next, existing) => {
      if (existing !== undefined) {
        const perm = next === undefined ? 'd' : 'u';
        // Someone else's record looks missing, as on a read.
        if (!(await this.#visible(existing, perm))) throw new VigilError('ERR_NOT_FOUND');
        await this.requireWrite(existing, perm);
      }
      if (next !== undefined) await this.requireWrite(next, existing === undefined ? 'c' : 'u');
    };
  }

  get isUser(): boolean {
    return this.principal.kind === 'user';
  }

  /** The patient a `patient/` scope confines the token to: the launch context, or the user's own record. */
  get #launchPatient(): string | undefined {
    const own = this.#user?.fhirUser?.startsWith('Patient/') === true ? this.#user.fhirUser.slice('Patient/'.length) : undefined;
    return this.principal.patient ?? own;
  }

  /** Whether scopes and roles grant `perm` on `type` at all (before looking at any resource). */
  allows(type: string, perm: Permission): boolean {
    const p = this.principal;
    // Restricted scopes count here; each resource is then checked against the restriction.
    if (p.kind === 'client') return p.scopes.grants('system', type, perm).length > 0;
    if (this.#user === undefined) return false;
    // patient/ scopes need a patient: the launch context, the user's own record, or the one a RelatedPerson acts for.
    const hasPatient = this.#launchPatient !== undefined || this.#user.fhirUser?.startsWith('RelatedPerson/') === true;
    const scoped = p.scopes.grants('user', type, perm).length > 0 || (p.scopes.grants('patient', type, perm).length > 0 && hasPatient);
    return scoped && this.#grants(type, perm).length > 0;
  }

  /** The `?param=value` restrictions a resource must meet for `perm` on `type`; undefined when an unrestricted scope grants it. */
  #restrictions(type: string, perm: Permission): string[] | undefined {
    const contexts = this.principal.kind === 'client' ? (['system'] as const) : (['user', 'patient'] as const);
    const scopes = contexts.flatMap((c) => this.principal.scopes.grants(c, type, perm));
    if (scopes.some((s) => s.restriction === undefined)) return undefined;
    return scopes.map((s) => s.restriction ?? '');
  }

  #meetsScopes(resource: Resource, perm: Permission): boolean {
    const restrictions = this.#restrictions(resource.resourceType, perm);
    return restrictions === undefined || restrictions.some((r) => restrictionMatches(resource, r, this.#policy.fhirBaseUrl));
  }

  /** Throws ERR_SCOPE unless `allows(type, perm)`. */
  require(type: string, ...perms: Permission[]): void {
    for (const perm of perms) if (!this.allows(type, perm)) throw new VigilError('ERR_SCOPE', 'The access token does not grant this interaction');
  }

  #grants(type: string, perm: Permission): Reach[] {
    const compartment = isPatientCompartmentType(type);
    return this.#roles.flatMap((role) => {
      const g = roleGrant(role, type, compartment);
      return g !== undefined && g.perms.has(perm) ? [g.reach] : [];
    });
  }

  /** The patients whose `type` resources the caller may `perm`. */
  async patients(type: string, perm: Permission): Promise<PatientReach> {
    if (!this.allows(type, perm)) return new Set();
    if (this.principal.kind === 'client' || !isPatientCompartmentType(type)) return 'all';
    const reaches = new Set(this.#grants(type, perm));
    let out: PatientReach;
    if (reaches.has('all')) out = 'all';
    else {
      const set = new Set<string>();
      for (const r of reaches) for (const id of await this.#reachOf(r)) set.add(id);
      out = set;
    }
    // Only a patient/ scope grants this: confined to the one patient in context.
    if (this.principal.scopes.grants('user', type, perm).length === 0) {
      const only = this.#launchPatient;
      const confined = only === undefined ? await this.#reachOf('self') : new Set([only]);
      out = new Set([...confined].filter((id) => out === 'all' || out.has(id)));
    }
    return out;
  }

  #reachOf(reach: Reach): Promise<ReadonlySet<string>> {
    let found = this.#reach.get(reach);
    if (found === undefined) {
      found = this.#computeReach(reach);
      this.#reach.set(reach, found);
    }
    return found;
  }

  async #computeReach(reach: Reach): Promise<ReadonlySet<string>> {
    const fhirUser = this.#user?.fhirUser ?? '';
    switch (reach) {
      case 'all':
        return new Set();
      case 'self': {
        if (fhirUser.startsWith('Patient/')) return new Set([fhirUser.slice('Patient/'.length)]);
        if (!fhirUser.startsWith('RelatedPerson/')) return new Set();
        // A RelatedPerson acts for the patient it names, while it is active.
        const found = await this.#policy.repository.engine.matchCondition('RelatedPerson', `_id=${fhirUser.slice('RelatedPerson/'.length)}`);
        const rp = found[0]?.resource as { active?: boolean } | undefined;
        return rp === undefined || rp.active === false ? new Set() : new Set(patientsOf(found[0]?.resource as Resource, this.#policy.fhirBaseUrl));
      }
      case 'related': {
        const related = await this.#policy.relationships.patientsOf(fhirUser, this.#user?.organizations ?? [], this.#policy.sameOrganizationAccess);
        return new Set([...related, ...(await this.#breakGlass())]);
      }
      case 'research':
        return this.#policy.researchPatients();
    }
  }

  #breakGlass(): Promise<ReadonlySet<string>> {
    this.#btg ??= this.principal.userId === undefined ? Promise.resolve(new Set<string>()) : this.#policy.breakGlass.activePatients(this.principal.userId);
    return this.#btg;
  }

  #decided(reason: string, purpose?: string): void {
    const a = this.#audit;
    if (a === undefined) return;
    const reasons = new Set((a.decision ?? '').split(',').filter((s) => s !== ''));
    reasons.add(reason);
    a.decision = [...reasons].sort().join(',');
    if (purpose !== undefined && !(a.purposeOfUse ?? []).includes(purpose)) a.purposeOfUse = [...(a.purposeOfUse ?? []), purpose];
  }

  /** Whether the caller may see a resource (read, vread, history, search match, include). */
  canRead(resource: Resource): Promise<boolean> {
    return this.#visible(resource, this.allows(resource.resourceType, 'r') ? 'r' : 's');
  }

  /** Whether the resource is visible to the caller acting with `perm` (a write sees what it replaces this way). */
  async #visible(resource: Resource, perm: Permission): Promise<boolean> {
    const type = resource.resourceType;
    if (!this.allows(type, perm) || !this.#meetsScopes(resource, perm)) return false;
    const labels = protectedLabels(resource);
    if (this.principal.kind === 'client') return labels.every((l) => cleared(this.#clearances, l));
    const compartment = isPatientCompartmentType(type);
    const patients = compartment ? patientsOf(resource, this.#policy.fhirBaseUrl) : [];
    const reach = compartment ? await this.patients(type, perm) : 'all';
    // A patient's record that names no patient is for callers who reach every patient.
    if (compartment && patients.length === 0 && reach !== 'all') return false;
    const btg = await this.#breakGlass();
    const underBtg = patients.length > 0 && patients.every((p) => btg.has(p));
    if (reach !== 'all' && !patients.every((p) => reach.has(p))) return false;
    // Patients see their own record whole (HIPAA right of access); labels and Consents guard it from others.
    const own = this.#user?.fhirUser;
    if (own !== undefined && patients.length > 0 && patients.every((p) => own === `Patient/${p}`)) {
      this.#decided('own-record');
      return true;
    }
    for (const l of labels) {
      if (cleared(this.#clearances, l)) continue;
      if (!(BREAK_GLASS_LABELS.has(l) && underBtg)) return false;
    }
    const actors = [this.#user?.fhirUser, ...(this.#user?.organizations ?? []).map((o) => `Organization/${o}`)].filter((a): a is string => a !== undefined);
    for (const p of patients) {
      const answer = consentAnswer(await this.#policy.consentsOf(p), { actors, purpose: this.#purpose, resource, now: this.#policy.now() });
      if (answer !== 'deny') continue;
      // Break-the-glass overrides a Consent's deny, except for substance-use records (42 CFR Part 2).
      if (!btg.has(p) || labels.some((l) => PART_2.has(l))) return false;
    }
    if (underBtg && reach !== 'all') this.#decided('break-glass', 'BTG');
    else this.#decided(reach === 'all' ? 'role' : this.#user?.fhirUser?.startsWith('Practitioner/') === true ? 'care-relationship' : 'own-record');
    return true;
  }

  /** Whether the caller may write this content (create, or the new content of an update). */
  async canWrite(resource: Resource, perm: Permission): Promise<boolean> {
    const type = resource.resourceType;
    if (!this.allows(type, perm) || !this.#meetsScopes(resource, perm)) return false;
    const reach = await this.patients(type, perm);
    if (reach === 'all') return true;
    const patients = patientsOf(resource, this.#policy.fhirBaseUrl);
    return patients.length > 0 && patients.every((p) => reach.has(p));
  }

  /** Throws ERR_ACCESS_DENIED unless `canWrite`. */
  async requireWrite(resource: Resource, perm: Permission): Promise<void> {
    if (!(await this.canWrite(resource, perm))) throw new VigilError('ERR_ACCESS_DENIED');
  }

  visible(found: Found): Promise<boolean> {
    return this.canRead(found.resource);
  }

  /** SQL narrowing for `type`: never stricter than `canRead`, so it hides nothing visible. */
  async clauseFor(type: string): Promise<SearchClause | undefined> {
    if (!this.allows(type, 'r') && !this.allows(type, 's')) return { kind: 'none' };
    const parts: SearchClause[] = [];
    const reach = await this.patients(type, this.allows(type, 's') ? 's' : 'r');
    if (reach !== 'all') parts.push(this.#policy.repository.compartmentClause(type, reach));
    const openedByBtg = this.isUser && (await this.#breakGlass()).size > 0 ? BREAK_GLASS_LABELS : new Set<string>();
    // A patient's own labelled records stay visible to them, so SQL may not drop labels for patients.
    const self = this.#user?.fhirUser?.startsWith('Patient/') === true;
    const hidden = self ? [] : PROTECTED_LABELS.filter((l) => !cleared(this.#clearances, l) && !openedByBtg.has(l));
    if (hidden.length > 0) parts.push(this.#policy.repository.withoutLabelsClause(type, hidden));
    if (parts.length === 0) return undefined;
    return parts.length === 1 ? parts[0] : { kind: 'any', groups: [parts] };
  }
}
