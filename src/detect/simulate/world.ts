import { randomInt } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import { ScopeSet } from '../../auth/index.js';
import type { Vigil } from '../../runtime/index.js';
import { plantHoneytokens } from '../honeytokens.js';

/** A signed-in actor of the simulation: who they are and the token they send. */
export interface Actor {
  readonly name: string;
  readonly role: string;
  readonly userId: string;
  readonly principal: string;
  readonly token: string;
  readonly practitioner?: string;
  /** Patients this actor works with (care relationship, appointment, account). */
  readonly patients: string[];
}

/** Everything the traffic and the attacks need: the data set's ids and the actors. */
export interface World {
  readonly patients: string[];
  readonly observations: Map<string, string[]>;
  readonly booked: string[];
  readonly billed: string[];
  readonly vip: string[];
  readonly honeytokens: string[];
  readonly benign: Actor[];
  /** Attackers by attack kind. */
  readonly attackers: Map<string, Actor>;
  /** Patients set up for particular attacks. */
  readonly targets: { self: string; family: string; ssnVictim: string; ssn: string; demographics: string };
  readonly systemToken: string;
}

let users = 0;
/** A distinct number per simulated user, for passwords that never contain the user name. */
function userId(): number {
  users += 1;
  return users;
}

const PATIENT_FAMILIES = ['Abbott', 'Baker', 'Chen', 'Diaz', 'Evans', 'Fischer', 'Garcia', 'Haddad', 'Ivanova', 'Jensen', 'Kowalski', 'Lopez', 'Moreau', 'Nakamura', 'Okafor', 'Patel', 'Quinn', 'Rossi', 'Silva', 'Tanaka'];
const GIVENS = ['Ada', 'Ben', 'Cleo', 'Dev', 'Eli', 'Fay', 'Gus', 'Hana', 'Ivo', 'June', 'Kai', 'Lena', 'Milo', 'Nia', 'Omar', 'Pia'];
const STAFF_FAMILIES = ['Wexley', 'Yarrow', 'Zabini', 'Quillon', 'Vantreight', 'Ulmerton', 'Thistlewood', 'Sorrell', 'Rookwood', 'Pemberly', 'Oakhurst', 'Northam', 'Marchbank', 'Lockridge', 'Kingsley', 'Juniper', 'Ironside', 'Holloway', 'Greyfield', 'Fairbairn', 'Eastwick', 'Draycott', 'Carrow', 'Blackwood', 'Ashdown'];

/** The patients one actor sees in a shift: a human day's worth, not a whole panel in minutes. */
const SHIFT = 20;
function shift(patients: readonly string[], n: number): string[] {
  const from = (n * SHIFT) % Math.max(1, patients.length);
  return [...patients.slice(from), ...patients.slice(0, from)].slice(0, SHIFT);
}

/** Builds the data set and the actors on a fresh Vigil (written directly: setup is not traffic). */
export async function buildWorld(vigil: Vigil, patientCount: number): Promise<World> {
  const repo = vigil.repository;
  const create = async (r: Resource): Promise<string> => (await repo.create(r.resourceType, r)).version.id;
  let staffIndex = 0;
  const practitioner = async (extra: Record<string, unknown> = {}): Promise<string> =>
    create({ resourceType: 'Practitioner', name: [{ family: `${STAFF_FAMILIES[staffIndex++ % STAFF_FAMILIES.length] ?? 'Staff'}${staffIndex}`, given: ['Sam'] }], birthDate: '1975-05-05', ...extra } as Resource);
  const patients: string[] = [];
  const observations = new Map<string, string[]>();
  for (let i = 0; i < patientCount; i++) {
    const id = await create({
      resourceType: 'Patient',
      name: [{ family: PATIENT_FAMILIES[i % PATIENT_FAMILIES.length] ?? 'X', given: [GIVENS[i % GIVENS.length] ?? 'Y'] }],
      birthDate: `19${String(40 + (i % 60)).padStart(2, '0')}-0${1 + (i % 9)}-1${i % 10}`,
      identifier: [{ system: 'http://hl7.org/fhir/sid/us-ssn', value: `999-${String(10 + (i % 90))}-${String(1000 + i)}` }],
      address: [{ line: [`${i + 1} Harbour Road`], postalCode: String(20000 + i) }],
    } as Resource);
    patients.push(id);
    const obs: string[] = [];
    for (let k = 0; k < 2; k++) obs.push(await create({ resourceType: 'Observation', status: 'final', code: { text: k === 0 ? 'pulse' : 'weight' }, subject: { reference: `Patient/${id}` }, note: [{ text: 'Patient seen in clinic; stable, no new complaints, follow up in three months as planned.' }] } as Resource));
    observations.set(id, obs);
  }
  const now = Date.now();
  const encounter = (patient: string, doctor: string): Promise<string> =>
    create({ resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: `Patient/${patient}` }, participant: [{ individual: { reference: `Practitioner/${doctor}` } }], period: { start: new Date(now - 30 * 86_400_000).toISOString(), end: new Date(now - 30 * 86_400_000 + 3600_000).toISOString() } } as Resource);
  const actors: Actor[] = [];
  const actor = async (name: string, role: string, prac: string | undefined, mine: string[], scope = 'user/*.cruds', fhirUser?: string): Promise<Actor> => {
    const link = fhirUser ?? (prac === undefined ? undefined : `Practitioner/${prac}`);
    const user = await vigil.users.add({ username: name, roles: [role], ...(link === undefined ? {} : { fhirUser: link }), password: `simulated staff passphrase ${userId()}` });
    const { session } = await vigil.sessions.start(user.id, 'simulate');
    const issued = await vigil.tokens.issue('simulate', ScopeSet.parse(scope), user.roles, { userId: user.id, sessionId: session.handle, ...(link === undefined ? {} : { fhirUser: link }) });
    const a: Actor = { name, role, userId: user.id, principal: `user/${user.id}`, token: issued.access_token, ...(prac === undefined ? {} : { practitioner: prac }), patients: mine };
    actors.push(a);
    return a;
  };
  // Clinicians each treat a panel (an encounter with each); nurses share the panels of two clinicians.
  const clinicians = Math.max(4, Math.ceil(patientCount / 25));
  const benign: Actor[] = [];
  for (let c = 0; c < clinicians; c++) {
    const prac = await practitioner();
    const panel = patients.filter((_, i) => i % clinicians === c);
    for (const p of panel) await encounter(p, prac);
    benign.push(await actor(`clinician${c}`, 'clinician', prac, shift(panel, c)));
  }
  for (let n = 0; n < Math.ceil(clinicians / 2); n++) {
    const prac = await practitioner();
    const panel = patients.filter((_, i) => i % clinicians === 2 * n || i % clinicians === 2 * n + 1);
    for (const p of panel) await create({ resourceType: 'CareTeam', status: 'active', subject: { reference: `Patient/${p}` }, participant: [{ member: { reference: `Practitioner/${prac}` } }] } as Resource);
    benign.push(await actor(`nurse${n}`, 'nurse', prac, shift(panel, n)));
  }
  // Today's appointments explain the front desk's looks; open accounts explain billing's.
  const booked = patients.filter((_, i) => i % 3 === 0);
  for (const p of booked) await create({ resourceType: 'Appointment', status: 'booked', start: new Date(now + randomInt(1, 8) * 3600_000).toISOString(), end: new Date(now + 9 * 3600_000).toISOString(), participant: [{ actor: { reference: `Patient/${p}` }, status: 'accepted' }] } as Resource);
  const billed = patients.filter((_, i) => i % 3 === 1);
  for (const p of billed) await create({ resourceType: 'Account', status: 'active', subject: [{ reference: `Patient/${p}` }] } as Resource);
  for (let f = 0; f < 2; f++) benign.push(await actor(`desk${f}`, 'front-desk', await practitioner(), shift(booked, f)));
  for (let b = 0; b < 2; b++) benign.push(await actor(`billing${b}`, 'billing', await practitioner(), shift(billed, b)));
  // Flagged and decoy records: the VIPs have no appointment or account, so only their doctors have a reason to look.
  const vip = patients.filter((p) => !booked.includes(p) && !billed.includes(p)).slice(-2);
  for (const p of vip) {
    const current = JSON.parse((await repo.read('Patient', p)).json) as Resource;
    await repo.update('Patient', p, { ...current, meta: { tag: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-PatientImportance', code: 'VIP' }] } });
  }
  const honeytokens = await plantHoneytokens(repo, vigil.records, 3, () => ({ type: 'rest', subtype: 'create', action: 'C', entities: [], patients: [] }));
  // Attackers: one principal per attack kind, so each alert can be scored.
  const attackers = new Map<string, Actor>();
  const unexplained = patients.filter((p) => !booked.includes(p) && !billed.includes(p) && !vip.includes(p));
  const selfTarget = unexplained[0] ?? '';
  const familyTarget = unexplained[1] ?? '';
  const demographics = unexplained[2] ?? '';
  const self = JSON.parse((await repo.read('Patient', selfTarget)).json) as { name: { family: string; given: string[] }[]; birthDate: string };
  const selfPrac = await create({ resourceType: 'Practitioner', name: self.name, birthDate: self.birthDate } as Resource);
  const family = JSON.parse((await repo.read('Patient', familyTarget)).json) as { name: { family: string }[] };
  const familyPrac = await create({ resourceType: 'Practitioner', name: [{ family: family.name[0]?.family ?? 'X', given: ['Relative'] }], birthDate: '1966-06-06' } as Resource);
  attackers.set('unexplained-access', await actor('snoop', 'front-desk', await practitioner(), []));
  attackers.set('vip-access', await actor('peek', 'billing', await practitioner(), []));
  attackers.set('self-access', await actor('selfie', 'front-desk', selfPrac, []));
  attackers.set('family-access', await actor('cousin', 'front-desk', familyPrac, []));
  attackers.set('honeytoken', await actor('intruder', 'front-desk', await practitioner(), []));
  attackers.set('bulk-access', await actor('hoarder', 'front-desk', await practitioner(), []));
  attackers.set('repeated-denials', await actor('prober', 'patient', undefined, [], 'patient/*.rs', `Patient/${unexplained[3] ?? ''}`));
  attackers.set('disabled-principal', await actor('leaver', 'nurse', await practitioner(), []));
  attackers.set('identity-theft', await actor('forger', 'front-desk', await practitioner(), []));
  attackers.set('identity-theft:new-party', await actor('impostor', 'billing', await practitioner(), []));
  const ransomPrac = await practitioner();
  const ransomPanel = unexplained.slice(4, 24);
  for (const p of ransomPanel) await encounter(p, ransomPrac);
  attackers.set('ransomware-burst', await actor('locker', 'clinician', ransomPrac, ransomPanel));
  const systemToken = (await vigil.tokens.issue('simulate-system', ScopeSet.parse('system/*.rs'), [])).access_token;
  const ssnVictim = patients[5] ?? '';
  return {
    patients,
    observations,
    booked,
    billed,
    vip,
    honeytokens,
    benign,
    attackers,
    targets: { self: selfTarget, family: familyTarget, ssnVictim, ssn: `999-${String(10 + (5 % 90))}-${String(1005)}`, demographics },
    systemToken,
  };
}
