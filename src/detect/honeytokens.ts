import { randomBytes, randomInt } from 'node:crypto';
import type { Patient } from '@medplum/fhirtypes';
import type { SealedRecords } from '../auth/index.js';
import type { AuditDraft } from '../audit/trail.js';
import type { Repository } from '../fhir/index.js';
import { drawPerson } from '../synthetic/patient.js';
import { Rng } from '../synthetic/random.js';
import { MRN_SYSTEM } from '../synthetic/systems.js';
import { HONEYTOKEN_KIND } from './facts.js';

/** A decoy that looks like any other registered patient: name, sex, birth date, MRN, address. */
function decoy(): Patient {
  const rng = Rng.derive(randomBytes(16).toString('hex'), 'honeytoken');
  const person = drawPerson(rng, Date.now());
  const birthDate = new Date(person.birth).toISOString().slice(0, 10);
  return {
    resourceType: 'Patient',
    identifier: [{ system: MRN_SYSTEM, value: `${String(randomInt(100, 999))}${String(randomInt(1_000_000, 9_999_999))}` }],
    name: [{ use: 'official', family: person.family, given: [person.given] }],
    gender: person.female ? 'female' : 'male',
    birthDate,
    address: [{ use: 'home', line: [`${randomInt(1, 999)} ${rng.pick(['Oak', 'Maple', 'Cedar', 'Elm', 'Pine'])} Street`], city: 'Springfield', postalCode: String(randomInt(10000, 99999)) }],
  };
}

/**
 * Plants `count` decoy patients. They are written like any other create, so nothing in the
 * database (audit entries included) tells them apart; which ids are decoys is kept only in sealed
 * records, read by the `honeytoken` rule.
 */
export async function plantHoneytokens(repository: Repository, records: SealedRecords, count: number, audit: () => AuditDraft): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const { version } = await repository.create('Patient', decoy(), audit());
    await records.put(HONEYTOKEN_KIND, randomBytes(16).toString('base64url'), { patient: version.id, plantedAt: version.lastUpdated });
    ids.push(version.id);
  }
  return ids;
}

/** The decoy patients' ids (for security admins; never shown in the API or logs). */
export async function listHoneytokens(records: SealedRecords): Promise<{ patient: string; plantedAt: string }[]> {
  return (await records.list<{ patient: string; plantedAt: string }>(HONEYTOKEN_KIND)).map((r) => r.value);
}
