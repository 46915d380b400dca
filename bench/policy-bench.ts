/**
 * The access policy in the bench: a signed-in clinician reads the same patients the system
 * client reads, each related to the clinician by an Encounter, so every read runs the whole
 * decision (user record, session, roles, care relationships, labels, Consent) and is permitted.
 */
import { loadConfig } from '../src/config/index.js';
import { openVigil } from '../src/runtime/index.js';
import { ScopeSet } from '../src/auth/index.js';

const FHIR_JSON = 'application/fhir+json';

async function post(url: string, token: string, body: unknown): Promise<string> {
  const res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': FHIR_JSON, accept: FHIR_JSON }, body: JSON.stringify(body) });
  const json = (await res.json()) as { id?: unknown };
  if (res.status !== 201 || typeof json.id !== 'string') throw new Error(`seeding answered ${res.status}`);
  return json.id;
}

/**
 * Creates a Practitioner, an Encounter joining it to each patient, and a clinician user linked
 * to it; returns an access token of that user (signed by the server's keys, in its store).
 */
export async function clinicianToken(fhirUrl: string, adminToken: string, dataDir: string, patientIds: readonly string[], concurrency: number): Promise<string> {
  const practitioner = await post(`${fhirUrl}/Practitioner`, adminToken, { resourceType: 'Practitioner', name: [{ family: 'Bench', given: ['Clinician'] }] });
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < patientIds.length) {
      const id = patientIds[next++] ?? '';
      await post(`${fhirUrl}/Encounter`, adminToken, {
        resourceType: 'Encounter',
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
        subject: { reference: `Patient/${id}` },
        participant: [{ individual: { reference: `Practitioner/${practitioner}` } }],
      });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  // The bench opens the same data directory as the running server (SQLite WAL allows it).
  // Same origin as the server, so the token's issuer and audience are the server's.
  const vigil = await openVigil(loadConfig({ VIGIL_LOG_LEVEL: 'silent', VIGIL_PUBLIC_URL: new URL(fhirUrl).origin }, { dataDir }));
  try {
    const user = await vigil.users.add({ username: 'bench.clinician', roles: ['clinician'], fhirUser: `Practitioner/${practitioner}`, password: 'bench clinician long passphrase' });
    const { session } = await vigil.sessions.start(user.id, 'bench');
    const issued = await vigil.tokens.issue('bench', ScopeSet.parse('user/*.rs'), user.roles, { userId: user.id, sessionId: session.handle, fhirUser: `Practitioner/${practitioner}` });
    return issued.access_token;
  } finally {
    await vigil.close();
  }
}
