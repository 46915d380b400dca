import type { Resource } from '@medplum/fhirtypes';
import { patientsOf, type Repository } from '../fhir/index.js';
import { TtlCache } from './ttl-cache.js';

/** How long a computed set of related patients is reused before it is asked again. */
export const RELATIONSHIP_CACHE_MS = 30_000;

/** Resource types whose writes can change who is related to whom (they clear the cache). */
export const RELATIONSHIP_TYPES: ReadonlySet<string> = new Set(['Encounter', 'CareTeam', 'EpisodeOfCare', 'Appointment', 'PractitionerRole', 'Patient', 'RelatedPerson']);

/** How far back an encounter or appointment still makes a care relationship. */
export const RELATIONSHIP_YEARS = 2;

/** Statuses that never make a relationship: records entered in error, plans called off. */
const VOID = new Set(['entered-in-error', 'cancelled', 'noshow', 'inactive']);

/**
 * Care relationships: the patients a practitioner is treating, found in the record itself. A
 * practitioner (directly or through one of their PractitionerRoles) is related to a patient when
 * they take part in one of the patient's Encounters or Appointments of the last two years (or to
 * come), are a member of one of the
 * patient's active CareTeams, or manage one of their EpisodesOfCare; and, when the organization
 * rule is on, when the patient's managing organization is one of the user's.
 */
export class CareRelationships {
  readonly #repository: Repository;
  readonly #base: string;
  readonly #now: () => number;
  readonly #cache: TtlCache<ReadonlySet<string>>;

  constructor(repository: Repository, fhirBaseUrl: string, now: () => number = Date.now) {
    this.#repository = repository;
    this.#base = fhirBaseUrl;
    this.#now = now;
    this.#cache = new TtlCache(RELATIONSHIP_CACHE_MS, 10_000, now);
  }

  /** Forgets every cached answer (a write changed an Encounter, CareTeam...). */
  clear(): void {
    this.#cache.clear();
  }

  patientsOf(practitioner: string, organizations: readonly string[], sameOrganization: boolean): Promise<ReadonlySet<string>> {
    const key = JSON.stringify([practitioner, sameOrganization ? [...organizations].sort() : []]);
    return this.#cache.get(key, () => this.#compute(practitioner, sameOrganization ? organizations : []));
  }

  async #compute(practitioner: string, organizations: readonly string[]): Promise<ReadonlySet<string>> {
    const out = new Set<string>();
    if (!/^Practitioner\/[A-Za-z0-9\-.]{1,64}$/.test(practitioner)) return out;
    const roles = (await this.#match('PractitionerRole', `practitioner=${practitioner}`)).map((r) => `PractitionerRole/${r.id ?? ''}`);
    const actors = [practitioner, ...roles].join(',');
    const add = (resources: Resource[]): void => {
      for (const r of resources) {
        const status = (r as { status?: string }).status;
        if (status !== undefined && VOID.has(status)) continue;
        for (const p of patientsOf(r, this.#base)) out.add(p);
      }
    };
    // Current care only: encounters and appointments of the last two years (or still to come).
    const since = new Date(this.#now() - RELATIONSHIP_YEARS * 365 * 86_400_000).toISOString().slice(0, 10);
    // (A record without a date cannot be placed in time, so it counts.)
    for (const when of [`date=ge${since}`, 'date:missing=true']) {
      add(await this.#match('Encounter', `participant=${actors}&${when}`));
      add(await this.#match('Appointment', `actor=${actors}&${when}`));
    }
    add(await this.#match('CareTeam', `participant=${actors}`));
    add(await this.#match('EpisodeOfCare', `care-manager=${practitioner}`));
    if (organizations.length > 0) {
      const orgs = organizations.filter((o) => /^[A-Za-z0-9\-.]{1,64}$/.test(o)).map((o) => `Organization/${o}`);
      if (orgs.length > 0) add(await this.#match('Patient', `organization=${orgs.join(',')}`));
    }
    return out;
  }

  async #match(type: string, query: string): Promise<Resource[]> {
    return (await this.#repository.engine.matchCondition(type, query)).map((f) => f.resource);
  }
}
