import type { Patient, Practitioner, Resource } from '@medplum/fhirtypes';
import type { ClientRegistry, SealedRecords, UserDirectory } from '../auth/index.js';
import { normalize, parseSearch, type Repository } from '../fhir/index.js';
import { TtlCache, type AccessPolicy } from '../policy/index.js';
import type { Facts } from './types.js';

/** How long looked-up facts are reused (relationships, VIP and honeytoken lists, demographics). */
const TTL_MS = 30_000;
/** Appointments and encounters this close to the access explain a front-desk or billing look. */
const EXPLAIN_WINDOW_MS = 2 * 86_400_000;
export const HONEYTOKEN_KIND = 'honeytoken';

function freeText(value: unknown, out: string[], key = ''): void {
  if (typeof value === 'string') {
    if (['div', 'text', 'valueString', 'description', 'conclusion', 'comment', 'note', 'valueMarkdown'].includes(key)) out.push(key === 'div' ? value.replace(/<[^>]*>/g, ' ') : value);
  } else if (Array.isArray(value)) for (const v of value) freeText(v, out, key);
  else if (typeof value === 'object' && value !== null) for (const [k, v] of Object.entries(value)) freeText(v, out, k);
}

/** Shannon entropy in bits per character. */
export function entropy(text: string): number {
  const counts = new Map<string, number>();
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  const n = [...text].length;
  for (const c of counts.values()) bits -= (c / n) * Math.log2(c / n);
  return n === 0 ? 0 : bits;
}

/** The record-backed facts the rules ask for, from the repository (decrypted in process), cached briefly. */
export class RecordFacts implements Facts {
  readonly #repo: Repository;
  readonly #policy: AccessPolicy;
  readonly #users: UserDirectory;
  readonly #clients: ClientRegistry;
  readonly #records: SealedRecords;
  readonly #base: string;
  readonly #now: () => Date;
  readonly #lists = new TtlCache<ReadonlySet<string>>(TTL_MS, 100);
  readonly #answers = new TtlCache<unknown>(TTL_MS, 20_000);

  constructor(o: { repository: Repository; policy: AccessPolicy; users: UserDirectory; clients: ClientRegistry; records: SealedRecords; fhirBaseUrl: string; now?: () => Date }) {
    this.#clients = o.clients;
    this.#repo = o.repository;
    this.#policy = o.policy;
    this.#users = o.users;
    this.#records = o.records;
    this.#base = o.fhirBaseUrl;
    this.#now = o.now ?? (() => new Date());
  }

  /** Forgets cached facts (after honeytokens are planted, or in tests). */
  clear(): void {
    this.#lists.clear();
    this.#answers.clear();
  }

  async #match(type: string, query: string): Promise<Resource[]> {
    return (await this.#repo.engine.matchCondition(type, query)).map((f) => f.resource);
  }

  async #read<T extends Resource>(type: string, id: string): Promise<T | undefined> {
    try {
      return JSON.parse((await this.#repo.read(type, id)).json) as T;
    } catch {
      return undefined;
    }
  }

  #cached<T>(key: string, make: () => Promise<T>): Promise<T> {
    return this.#answers.get(key, make) as Promise<T>;
  }

  explained(_principal: string, patient: string, fhirUser: string | undefined): Promise<string | undefined> {
    return this.#cached(`explained\u0000${fhirUser ?? ''}\u0000${patient}`, async () => {
      if (fhirUser === `Patient/${patient}`) return 'own-record';
      if (fhirUser?.startsWith('Practitioner/') === true) {
        const related = await this.#policy.relationships.patientsOf(fhirUser, [], false);
        if (related.has(patient)) return 'care-relationship';
      }
      const now = this.#now().getTime();
      const from = new Date(now - EXPLAIN_WINDOW_MS).toISOString();
      const to = new Date(now + EXPLAIN_WINDOW_MS).toISOString();
      if ((await this.#match('Appointment', `patient=Patient/${patient}&date=ge${from}&date=le${to}`)).length > 0) return 'appointment';
      if ((await this.#match('Encounter', `subject=Patient/${patient}&date=ge${from}&date=le${to}`)).length > 0) return 'encounter';
      if ((await this.#match('Claim', `patient=Patient/${patient}`)).length > 0) return 'claim';
      if ((await this.#match('Account', `patient=Patient/${patient}`)).length > 0) return 'account';
      return undefined;
    });
  }

  async isVip(patient: string): Promise<boolean> {
    const vips = await this.#lists.get('vip', async () => new Set((await this.#repo.engine.matchCondition('Patient', '_tag=VIP')).map((f) => f.id)));
    return vips.has(patient);
  }

  async isHoneytoken(patient: string): Promise<boolean> {
    const decoys = await this.#lists.get('honeytokens', async () => new Set((await this.#records.list<{ patient: string }>(HONEYTOKEN_KIND)).map((r) => r.value.patient)));
    return decoys.has(patient);
  }

  personalTie(userId: string, patient: string): Promise<'self' | 'same-surname' | 'same-address' | undefined> {
    return this.#cached(`tie\u0000${userId}\u0000${patient}`, async () => {
      const fhirUser = await this.userFhirUser(userId);
      if (fhirUser?.startsWith('Practitioner/') !== true) return undefined;
      const [staff, p] = await Promise.all([this.#read<Practitioner>('Practitioner', fhirUser.slice('Practitioner/'.length)), this.#read<Patient>('Patient', patient)]);
      if (staff === undefined || p === undefined) return undefined;
      const families = (r: Practitioner | Patient): Set<string> => new Set((r.name ?? []).flatMap((n) => (n.family === undefined ? [] : [normalize(n.family)])));
      const givens = (r: Practitioner | Patient): Set<string> => new Set((r.name ?? []).flatMap((n) => (n.given ?? []).map(normalize)));
      const addresses = (r: Practitioner | Patient): Set<string> =>
        new Set((r.address ?? []).flatMap((a) => (a.line === undefined || a.postalCode === undefined ? [] : [normalize(`${a.line.join(' ')}|${a.postalCode}`)])));
      const shared = <T>(a: Set<T>, b: Set<T>): boolean => [...a].some((x) => b.has(x));
      const sameFamily = shared(families(staff), families(p));
      if (sameFamily && shared(givens(staff), givens(p)) && staff.birthDate !== undefined && staff.birthDate === p.birthDate) return 'self';
      if (shared(addresses(staff), addresses(p))) return 'same-address';
      return sameFamily ? 'same-surname' : undefined;
    });
  }

  userFhirUser(userId: string): Promise<string | undefined> {
    return this.#cached(`fhirUser\u0000${userId}`, async () => (await this.#users.get(userId))?.fhirUser);
  }

  async clientDisabled(clientId: string): Promise<boolean> {
    return this.#clients.isDisabled(clientId);
  }

  async userDisabled(userId: string): Promise<boolean> {
    return (await this.#users.get(userId))?.disabled === true;
  }

  async sharedIdentifiers(patient: string): Promise<string[]> {
    const p = await this.#read<Patient>('Patient', patient);
    const out = new Set<string>();
    for (const ident of p?.identifier ?? []) {
      if (ident.system === undefined || ident.value === undefined) continue;
      // A few matches answer the question; a value shared by thousands must not cost thousands.
      const request = parseSearch('Patient', [['identifier', `${ident.system}|${ident.value}`], ['_count', '3'], ['_total', 'none']], false);
      for (const other of (await this.#repo.search(request)).matches) if (other.id !== patient) out.add(other.id);
    }
    return [...out];
  }

  async demographicsChanged(patient: string, versionId: number): Promise<boolean> {
    if (versionId < 2) return false;
    try {
      const [now, before] = await Promise.all([this.#repo.vread('Patient', patient, versionId), this.#repo.vread('Patient', patient, versionId - 1)]);
      const pick = (json: string): string => {
        const p = JSON.parse(json) as Patient;
        return JSON.stringify([p.address ?? [], p.telecom ?? []]);
      };
      return pick(now.json) !== pick(before.json);
    } catch {
      return false;
    }
  }

  async writtenTextEntropy(type: string, id: string, versionId: number): Promise<{ bits: number; length: number } | undefined> {
    try {
      const v = await this.#repo.vread(type, id, versionId);
      const texts: string[] = [];
      freeText(JSON.parse(v.json), texts);
      const joined = texts.join(' ');
      return { bits: entropy(joined), length: joined.length };
    } catch {
      return undefined;
    }
  }

  get fhirBaseUrl(): string {
    return this.#base;
  }
}
