import type { Consent } from '@medplum/fhirtypes';
import type { Principal, SealedRecords } from '../auth/index.js';
import type { AuditDraft } from '../audit/trail.js';
import type { Repository } from '../fhir/index.js';
import { BreakGlass } from './break-glass.js';
import { CareRelationships, RELATIONSHIP_CACHE_MS, RELATIONSHIP_TYPES } from './relationships.js';
import { consentAnswer } from './consent.js';
import { AccessGate } from './gate.js';
import { TtlCache } from './ttl-cache.js';

/** What the policy needs to know of a signed-in user (their current record, not the token's copy). */
export interface PolicyUser {
  readonly roles: readonly string[];
  readonly fhirUser?: string;
  readonly organizations: readonly string[];
  readonly clearances: readonly string[];
  readonly disabled: boolean;
}

export interface UserSource {
  get(id: string): Promise<PolicyUser | undefined>;
}

export interface AccessPolicyOptions {
  readonly repository: Repository;
  readonly records: SealedRecords;
  readonly fhirBaseUrl: string;
  readonly breakGlassSeconds: number;
  readonly sameOrganizationAccess: boolean;
  readonly users?: UserSource;
  readonly now?: () => Date;
}

/**
 * The access decision (default deny), shared by every request: it makes one `AccessGate` per
 * request and keeps what is costly to work out (care relationships, Consents) for a short while.
 */
export class AccessPolicy {
  readonly repository: Repository;
  readonly breakGlass: BreakGlass;
  readonly relationships: CareRelationships;
  readonly fhirBaseUrl: string;
  readonly sameOrganizationAccess: boolean;
  readonly now: () => Date;
  #users: UserSource | undefined;
  readonly #consents: TtlCache<Consent[]>;
  readonly #research: TtlCache<ReadonlySet<string>>;

  constructor(o: AccessPolicyOptions) {
    this.repository = o.repository;
    this.fhirBaseUrl = o.fhirBaseUrl;
    this.sameOrganizationAccess = o.sameOrganizationAccess;
    this.now = o.now ?? (() => new Date());
    this.breakGlass = new BreakGlass(o.records, o.breakGlassSeconds, this.now);
    this.relationships = new CareRelationships(o.repository, o.fhirBaseUrl, () => this.now().getTime());
    this.#users = o.users;
    const clock = (): number => this.now().getTime();
    this.#consents = new TtlCache(RELATIONSHIP_CACHE_MS, 50_000, clock);
    this.#research = new TtlCache(RELATIONSHIP_CACHE_MS, 1, clock);
  }

  /** Sets where users are looked up (the user directory is opened after the policy). */
  setUsers(users: UserSource): void {
    this.#users = users;
  }

  /** The gate for one request of a principal; `audit` receives the purpose of use and the decision. */
  async gate(principal: Principal, audit?: AuditDraft): Promise<AccessGate> {
    let user: PolicyUser | undefined;
    if (principal.kind === 'user' && principal.userId !== undefined) {
      user = await this.#users?.get(principal.userId);
      // A disabled or vanished user keeps no rights, whatever the token still says.
      if (user?.disabled === true) user = undefined;
    }
    return new AccessGate(this, principal, user, audit);
  }

  /** Called after a write of `type`: cached relationships and Consents may no longer hold. */
  changed(type: string): void {
    if (RELATIONSHIP_TYPES.has(type)) this.relationships.clear();
    if (type === 'Consent') {
      this.#consents.clear();
      this.#research.clear();
    }
  }

  /** The active Consents of a patient (cached briefly). */
  consentsOf(patient: string): Promise<Consent[]> {
    return this.#consents.get(patient, async () =>
      (await this.repository.engine.matchCondition('Consent', `patient=Patient/${patient}&status=active`)).map((f) => f.resource as Consent),
    );
  }

  /** Patients whose active Consent permits research (purpose HRESCH). */
  researchPatients(): Promise<ReadonlySet<string>> {
    return this.#research.get('', async () => {
      const out = new Set<string>();
      const all = (await this.repository.engine.matchCondition('Consent', 'status=active')).map((f) => f.resource as Consent);
      for (const c of all) {
        const ref = c.patient?.reference;
        if (ref?.startsWith('Patient/') !== true) continue;
        if (consentAnswer([c], { actors: [], purpose: 'HRESCH', now: this.now() }) === 'permit') out.add(ref.slice('Patient/'.length));
      }
      // A deny from any other Consent of the patient wins.
      for (const p of [...out]) if (consentAnswer(await this.consentsOf(p), { actors: [], purpose: 'HRESCH', now: this.now() }) === 'deny') out.delete(p);
      return out;
    });
  }
}
