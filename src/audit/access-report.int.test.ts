import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestVigil, syntheticPatient, type TestVigil } from '../testing/harness.js';
import { ScopeSet, type Principal } from '../auth/index.js';
import { validate } from '../fhir/index.js';
import { AuditTrail, type AuditDraft } from './trail.js';
import { mayReadAccessReport, sixYearsBefore } from './access-report.js';

type Json = Record<string, any>;

/** The parts of one `access` or `disclosure` parameter, by name (repeated names collected). */
function parts(p: Json): Record<string, Json[]> {
  const out: Record<string, Json[]> = {};
  for (const part of p['part'] as Json[]) (out[part['name'] as string] ??= []).push(part);
  return out;
}

function entries(report: Json, name: 'access' | 'disclosure'): Record<string, Json[]>[] {
  return (report['parameter'] as Json[]).filter((p) => p['name'] === name).map(parts);
}

function param(report: Json, name: string): Json | undefined {
  return (report['parameter'] as Json[]).find((p) => p['name'] === name);
}

const client = (e: Record<string, Json[]>, key = 'client'): string | undefined => e[key]?.[0]?.['valueIdentifier'].value;
const refs = (e: Record<string, Json[]>): string[] => (e['resource'] ?? []).map((r) => r['valueReference'].reference as string);

describe('Patient/$access-report: who accessed a record, and the HIPAA accounting of disclosures', () => {
  let t: TestVigil;
  let pid: string;
  let other: string;
  let oid: string;
  let otherObs: string;
  let officer: string;
  let portalId: string;
  const report = async (url: string, token?: string) => t.fhir('GET', url, { token: token ?? officer });

  /** An audit entry about `pid`, written straight to the trail (as if a client had asserted a purpose). */
  const simulate = (trail: AuditTrail, client: string, extra: Partial<AuditDraft> = {}): Promise<number> =>
    trail.record({ type: 'rest', subtype: 'read', action: 'R', outcome: '0', client, entities: [`Observation/${oid}`], patients: [pid], ...extra });

  before(async () => {
    t = await startTestVigil();
    officer = await t.token('system/AuditEvent.rs', ['privacy-officer']);
    pid = JSON.parse((await t.fhir('POST', '/fhir/Patient', { body: syntheticPatient('ReportSubject') })).body).id as string;
    other = JSON.parse((await t.fhir('POST', '/fhir/Patient', { body: syntheticPatient('ReportOther') })).body).id as string;
    const obs = (p: string) => ({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${p}` } });
    oid = JSON.parse((await t.fhir('POST', '/fhir/Observation', { body: obs(pid) })).body).id as string;
    otherObs = JSON.parse((await t.fhir('POST', '/fhir/Observation', { body: obs(other) })).body).id as string;

    // Real accesses: a read and a search by the test client, a search that spans two patients,
    // and a read by a registered application (whose name the accounting shows).
    assert.equal((await t.fhir('GET', `/fhir/Patient/${pid}`)).statusCode, 200);
    assert.equal((await t.fhir('GET', `/fhir/Observation?subject=Patient/${pid}`)).statusCode, 200);
    assert.equal((await t.fhir('GET', '/fhir/Observation?status=final')).statusCode, 200);
    const portal = await t.vigil.clients.create({ name: 'Research Portal', scopes: 'system/Observation.rs', roles: [] });
    portalId = portal.clientId;
    const portalToken = (await t.vigil.tokens.issue(portalId, ScopeSet.parse('system/Observation.rs'))).access_token;
    assert.equal((await t.fhir('GET', `/fhir/Observation/${oid}`, { token: portalToken })).statusCode, 200);

    // Simulated accesses with recorded purposes of use (Vigil has no way yet for a client to assert one).
    const trail = t.vigil.repository.trail;
    await simulate(trail, 'treat-client', { purposeOfUse: ['TREAT'] });
    await simulate(trail, 'payment-client', { purposeOfUse: ['HPAYMT'] });
    await simulate(trail, 'operations-client', { purposeOfUse: ['HOPERAT'] });
    await simulate(trail, 'patient-request-client', { purposeOfUse: ['PATRQT'] });
    await simulate(trail, 'directory-client', { purposeOfUse: ['HDIRECT'] });
    await simulate(trail, 'research-client', { purposeOfUse: ['HRESCH'] });
    await simulate(trail, 'public-health-client', { purposeOfUse: ['PUBHLTH'] });
    await simulate(trail, 'mixed-client', { purposeOfUse: ['TREAT', 'HRESCH'] });
    await simulate(trail, 'military-client', { purposeOfUse: ['MILDCRG'] });
    await simulate(trail, 'unknown-purpose-client', { purposeOfUse: ['NOTACODE'] });
    await simulate(trail, 'patient-self-client', { user: `Patient/${pid}` });
    await simulate(trail, 'refused-client', { outcome: '4', entities: [], status: 403, reason: 'ERR_SCOPE' });
    await simulate(trail, 'writer-client', { subtype: 'update', action: 'U', entities: [`Observation/${oid}/_history/2`] });
    await simulate(trail, 'batch-write-client', { subtype: 'batch-transaction', action: 'E', entities: [`Observation/${oid}/_history/3`] });
    // Old entries, through trails whose clocks are pinned in the past.
    await simulate(new AuditTrail(t.vigil.store, t.config.tenant, () => new Date('2015-01-01T00:00:00Z')), 'ancient-client');
    const fiveYearsAgo = new Date(Date.now() - 5 * 365 * 24 * 3600_000);
    await simulate(new AuditTrail(t.vigil.store, t.config.tenant, () => fiveYearsAgo), 'five-years-client');
    const justOutside = new Date(sixYearsBefore(new Date()).getTime() - 24 * 3600_000);
    await simulate(new AuditTrail(t.vigil.store, t.config.tenant, () => justOutside), 'six-years-client');
  });
  after(async () => {
    await t.close();
  });

  it('shows an officer every access: when, who, what, purpose and outcome, as valid FHIR R4 Parameters', async () => {
    const res = await report(`/fhir/Patient/${pid}/$access-report?_format=json`);
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers['content-type']), /^application\/fhir\+json/);
    const body = JSON.parse(res.body) as Json;
    validate(body as never);
    assert.equal(body['resourceType'], 'Parameters');
    assert.equal(param(body, 'patient')?.['valueReference'].reference, `Patient/${pid}`);
    assert.equal(param(body, 'type')?.['valueCode'], 'access');
    const all = entries(body, 'access');
    assert.equal(param(body, 'count')?.['valueUnsignedInt'], all.length);

    const read = all.find((e) => e['interaction']?.[0]?.['valueCoding'].code === 'read' && client(e) === 'test-client');
    assert.ok(read, 'the read of the Patient is listed');
    assert.deepEqual(refs(read), [`Patient/${pid}`]);
    assert.equal(read['action']?.[0]?.['valueCode'], 'R');
    assert.equal(read['outcome']?.[0]?.['valueCoding'].code, '0');
    assert.ok(Date.now() - Date.parse(read['recorded']?.[0]?.['valueInstant']) < 120_000, 'recorded just now');
    assert.match(read['event']?.[0]?.['valueReference'].reference, /^AuditEvent\/[0-9]+$/);

    const search = all.find((e) => e['interaction']?.[0]?.['valueCoding'].code === 'search-type' && refs(e).includes(`Observation/${oid}`) && e['otherPatients'] === undefined);
    assert.ok(search, 'the search for the patient is listed with what it returned');
    assert.equal(search['action']?.[0]?.['valueCode'], 'E');

    const portal = all.find((e) => client(e) === portalId);
    assert.deepEqual(refs(portal ?? {}), [`Observation/${oid}`]);

    const treat = all.find((e) => client(e) === 'treat-client');
    assert.deepEqual(treat?.['purposeOfUse']?.map((p) => p['valueCoding'].code), ['TREAT']);
    const refused = all.find((e) => client(e) === 'refused-client');
    assert.deepEqual([refused?.['outcome']?.[0]?.['valueCoding'].code, refused?.['reason']?.[0]?.['valueString']], ['4', 'ERR_SCOPE']);
    assert.ok(all.some((e) => client(e) === 'ancient-client'), 'the access report has no time limit of its own');
  });

  it("never names another patient's resources: a result that spanned patients shows only this one's Patient", async () => {
    const text = (await report(`/fhir/Patient/${pid}/$access-report`)).body;
    assert.ok(!text.includes(other) && !text.includes(otherObs), "the other patient's ids stay out");
    const spanning = entries(JSON.parse(text), 'access').filter((e) => e['otherPatients']?.[0]?.['valueBoolean'] === true);
    assert.equal(spanning.length, 1);
    assert.deepEqual(refs(spanning[0] ?? {}), []);
    for (const tag of ['ReportSubject', 'ReportOther', 'MRN', 'Family']) assert.ok(!text.includes(tag), `no PHI: ${tag}`);
  });

  it('accounts for disclosures: six years, successful reads only, without the 164.528(a)(1) exclusions', async () => {
    const res = await report(`/fhir/Patient/${pid}/$access-report?type=accounting`);
    assert.equal(res.statusCode, 200, res.body);
    const body = JSON.parse(res.body) as Json;
    validate(body as never);
    assert.equal(param(body, 'type')?.['valueCode'], 'accounting');
    const period = param(body, 'period')?.['valuePeriod'] as Json;
    const years = (Date.parse(period['end']) - Date.parse(period['start'])) / (365.25 * 24 * 3600_000);
    assert.ok(Math.abs(years - 6) < 0.01, 'a six-year window ending now');

    const list = entries(body, 'disclosure');
    const recipients = new Set(list.map((e) => client(e, 'recipient')));
    // Listed: no purpose recorded (conservative), non-TPO purposes, mixed purposes, unknown codes.
    for (const c of ['test-client', portalId, 'research-client', 'public-health-client', 'mixed-client', 'military-client', 'unknown-purpose-client', 'five-years-client']) {
      assert.ok(recipients.has(c), `listed: ${c}`);
    }
    // Excluded: TPO, to the individual, directory; refusals and writes; outside the window.
    for (const c of ['treat-client', 'payment-client', 'operations-client', 'patient-request-client', 'directory-client', 'patient-self-client', 'refused-client', 'writer-client', 'batch-write-client', 'ancient-client', 'six-years-client']) {
      assert.ok(!recipients.has(c), `not listed: ${c}`);
    }
    // The access reports themselves return audit data, not the record: they are not disclosures.
    assert.ok(!list.some((e) => e['description']?.[0]?.['valueString'].startsWith('operation')));

    const portal = list.find((e) => client(e, 'recipient') === portalId) ?? {};
    assert.equal(portal['recipientName']?.[0]?.['valueString'], 'Research Portal');
    assert.equal(portal['description']?.[0]?.['valueString'], 'read: 1 Observation');
    assert.deepEqual(refs(portal), [`Observation/${oid}`]);
    assert.equal(portal['purpose']?.[0]?.['valueCodeableConcept'].text, 'Not recorded');
    assert.ok(Date.parse(portal['date']?.[0]?.['valueInstant']) > Date.now() - 120_000);
    const research = list.find((e) => client(e, 'recipient') === 'research-client') ?? {};
    assert.deepEqual(research['purpose']?.[0]?.['valueCodeableConcept'].coding, [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'HRESCH' }]);
    const spanning = list.find((e) => (e['description']?.[0]?.['valueString'] as string).includes("other patients' data"));
    assert.ok(spanning, 'a search over several patients is listed, described without their data');
    assert.ok(!JSON.stringify(body).includes(otherObs));
  });

  it('answers 404 to everyone else, the same whether or not the patient exists', async () => {
    const callers = {
      'no role': await t.token('system/*.cruds'),
      'role without scope': await t.token('system/Observation.rs', ['privacy-officer']),
      'other role': await t.token('system/AuditEvent.rs system/Patient.rs', ['clinician']),
    };
    const missing = 'no-such-patient';
    const reference = await report(`/fhir/Patient/${missing}/$access-report`);
    assert.equal(reference.statusCode, 404, 'an officer asking about a patient that never existed');
    for (const [label, token] of Object.entries(callers)) {
      for (const id of [pid, missing]) {
        for (const query of ['', '?type=accounting', '?bogus=1']) {
          const res = await report(`/fhir/Patient/${id}/$access-report${query}`, token);
          assert.equal(res.statusCode, 404, `${label} ${id}${query}`);
          assert.equal(res.body, reference.body, 'identical answers: nothing tells the ids apart');
          assert.ok(!res.body.includes(id) && !res.body.includes('access'), 'nothing echoed');
        }
      }
    }
    const outcome = JSON.parse(reference.body) as Json;
    assert.equal(outcome['issue'][0].details.text, 'The resource was not found');
    const noToken = await t.app.inject({ method: 'GET', url: `/fhir/Patient/${pid}/$access-report` });
    assert.equal(noToken.statusCode, 401);
    const admin = await report(`/fhir/Patient/${pid}/$access-report`, await t.token('system/Patient.rs', ['security-admin']));
    assert.equal(admin.statusCode, 200, 'a security admin with system/Patient.rs');
  });

  it('lets a patient read their own report and no one else’s', () => {
    const principal = (scope: string, extra: Record<string, unknown> = {}, roles: string[] = ['patient']): Principal =>
      ({ kind: 'user', clientId: 'app', userId: 'u1', sessionId: 's1', scopes: ScopeSet.parse(scope), roles, tokenId: 'j', expiresAt: 0, ...extra }) as Principal;
    assert.equal(mayReadAccessReport(principal('patient/Patient.rs', { patient: pid }, ['clinician']), pid), false, 'a clinician with the patient in context');
    assert.equal(mayReadAccessReport(principal('patient/Patient.rs', { fhirUser: `Patient/${pid}` }), pid), true, 'the patient, by their own link');
    assert.equal(mayReadAccessReport({ ...principal('patient/Patient.rs', { patient: pid }), kind: 'client' } as Principal, pid), false, 'a client is no patient');
    assert.equal(mayReadAccessReport(principal('patient/Patient.rs', { patient: pid }), pid), true);
    assert.equal(mayReadAccessReport(principal('patient/AuditEvent.r', { patient: pid }), pid), true);
    assert.equal(mayReadAccessReport(principal('patient/Patient.rs', { patient: pid }), other), false, 'another patient');
    assert.equal(mayReadAccessReport(principal('patient/Observation.rs', { patient: pid }), pid), false, 'no patient read scope');
    assert.equal(mayReadAccessReport(principal('patient/Patient.rs', { patient: [pid] }), pid), false, 'a claim that is not a string');
    assert.equal(mayReadAccessReport(principal('patient/Patient.rs'), pid), false, 'no patient claim');
    assert.equal(mayReadAccessReport(principal('system/AuditEvent.r', { kind: 'client' }, ['privacy-officer']), pid), false, 'read without search');
    assert.equal(mayReadAccessReport(principal('system/AuditEvent.rs', { kind: 'client' }, ['privacy-officer']), pid), true);
  });

  it('filters by _since and date, pages with a cursor bound to the patient, and refuses bad input without echoing it', async () => {
    const recent = entries(JSON.parse((await report(`/fhir/Patient/${pid}/$access-report?_since=2016-01-01T00:00:00Z`)).body), 'access');
    assert.ok(recent.some((e) => client(e) === 'six-years-client'));
    assert.ok(!recent.some((e) => client(e) === 'ancient-client'), '_since leaves out what came before');
    const dated = JSON.parse((await report(`/fhir/Patient/${pid}/$access-report?date=ge2014-12-31&date=le2015-01-02`)).body) as Json;
    assert.deepEqual(entries(dated, 'access').map((e) => client(e)), ['ancient-client']);
    assert.deepEqual(param(dated, 'period')?.['valuePeriod'], { start: '2014-12-31T00:00:00.000Z', end: '2015-01-02T23:59:59.999Z' });
    const accountingOld = JSON.parse((await report(`/fhir/Patient/${pid}/$access-report?type=accounting&date=le2015-06-01`)).body) as Json;
    assert.equal(entries(accountingOld, 'disclosure').length, 0, 'the accounting never reaches past six years');
    validate(accountingOld as never);

    const first = JSON.parse((await report(`/fhir/Patient/${pid}/$access-report?_count=2`)).body) as Json;
    assert.equal(entries(first, 'access').length, 2);
    const next = param(first, 'next')?.['valueUri'] as string;
    assert.ok(next.startsWith(`${t.config.fhirBaseUrl}/Patient/${pid}/$access-report?_cursor=`));
    const path = new URL(next).pathname + new URL(next).search;
    const second = JSON.parse((await report(path)).body) as Json;
    const seqs = (r: Json) => entries(r, 'access').map((e) => e['event']?.[0]?.['valueReference'].reference as string);
    assert.equal(seqs(second).length, 2);
    assert.ok(!seqs(second).some((s) => seqs(first).includes(s)), 'the next page continues where the first stopped');
    const cursor = new URL(next).searchParams.get('_cursor') ?? '';
    assert.equal((await report(`/fhir/Patient/${other}/$access-report?_cursor=${cursor}`)).statusCode, 400, 'a cursor is bound to its patient');

    const accounting = JSON.parse((await report(`/fhir/Patient/${pid}/$access-report?type=accounting&_count=3`)).body) as Json;
    const more = param(accounting, 'next')?.['valueUri'] as string;
    const rest = JSON.parse((await report(new URL(more).pathname + new URL(more).search)).body) as Json;
    assert.equal(param(rest, 'type')?.['valueCode'], 'accounting', 'the cursor keeps the report type');
    assert.ok(entries(rest, 'disclosure').length > 0);

    for (const [query, status] of [
      ['date=geSecretValue42', 400],
      ['_since=SecretValue42', 400],
      ['type=SecretValue42', 400],
      ['_count=SecretValue42', 400],
      ['_cursor=SecretValue42', 400],
      ['SecretValue42=1', 400],
      ['type=access&type=accounting', 400],
      ['_format=xml', 406],
    ] as const) {
      const res = await report(`/fhir/Patient/${pid}/$access-report?${query}`);
      assert.equal(res.statusCode, status, query);
      assert.ok(!res.body.includes('SecretValue42'), `not echoed: ${query}`);
    }
  });

  it('is itself audited, as an operation on the patient, and shows up in the next report', async () => {
    const res = await report(`/fhir/Patient/${pid}/$access-report?type=accounting`);
    assert.equal(res.statusCode, 200);
    const audit = JSON.parse((await t.fhir('GET', `/fhir/AuditEvent?patient=Patient/${pid}&_count=1`, { token: officer })).body) as Json;
    const event = audit['entry'][0].resource as Json;
    assert.equal(event['subtype'][0].code, 'operation');
    assert.equal(event['action'], 'E');
    assert.equal(event['outcome'], '0');
    assert.equal(event['agent'][0].who.identifier.value, 'test-client');
    assert.equal(event['entity'].find((e: Json) => e['what'].reference === `Patient/${pid}`)?.role.code, '1');
    const denied = await report(`/fhir/Patient/${pid}/$access-report`, await t.token('system/*.cruds'));
    assert.equal(denied.statusCode, 404);
    const next = JSON.parse((await report(`/fhir/Patient/${pid}/$access-report?_count=3`)).body) as Json;
    const [deniedEntry, accountingEntry] = entries(next, 'access');
    assert.equal(deniedEntry?.['interaction']?.[0]?.['valueCoding'].code, 'operation');
    assert.deepEqual([deniedEntry?.['outcome']?.[0]?.['valueCoding'].code, deniedEntry?.['reason']?.[0]?.['valueString']], ['4', 'ERR_NOT_FOUND'], 'a refused attempt is on the record too');
    assert.equal(accountingEntry?.['outcome']?.[0]?.['valueCoding'].code, '0');
  });
});
