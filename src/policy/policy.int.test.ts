import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestVigil, type TestVigil } from '../testing/harness.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const HIV = { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'HIV' };
const RESTRICTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' };

/**
 * The access policy under attack, over the whole FHIR API: patients asking for other patients by
 * id, search, include, chain, _has, history, paging and inside Bundles; clinicians without a care
 * relationship; narrowed scopes; labelled records; a Consent that denies; break-the-glass.
 */
describe('access policy', () => {
  let t: TestVigil;
  let admin: string;
  const ids: Record<string, string> = {};
  const tokens: Record<string, string> = {};

  async function create(key: string, body: Json): Promise<string> {
    const res = await t.fhir('POST', `/fhir/${String(body['resourceType'])}`, { body, token: admin });
    assert.equal(res.statusCode, 201, `${key}: ${res.body}`);
    ids[key] = String((JSON.parse(res.body) as Json)['id']);
    return ids[key];
  }

  const ref = (key: string, type: string): { reference: string } => ({ reference: `${type}/${ids[key] ?? ''}` });
  const get = async (url: string, token: string): Promise<{ status: number; body: Json; text: string }> => {
    const res = await t.fhir('GET', url, { token });
    return { status: res.statusCode, body: JSON.parse(res.body) as Json, text: res.body };
  };
  const idsOf = (bundle: Json): string[] => ((bundle['entry'] ?? []) as Json[]).map((e) => `${String(e['resource']['resourceType'])}/${String(e['resource']['id'])}`).sort();

  before(async () => {
    t = await startTestVigil();
    // Data is loaded by a back-end client cleared for every label.
    admin = await t.token('system/*.cruds', ['label:*']);
    await create('drA', { resourceType: 'Practitioner', name: [{ family: 'Alpha' }] });
    await create('drB', { resourceType: 'Practitioner', name: [{ family: 'Beta' }] });
    await create('alice', { resourceType: 'Patient', name: [{ family: 'Anders', given: ['Alice'] }] });
    await create('bob', { resourceType: 'Patient', name: [{ family: 'Brown', given: ['Bob'] }] });
    await create('carol', { resourceType: 'Patient', meta: { security: [RESTRICTED] }, name: [{ family: 'Cruz' }] });
    await create('dave', { resourceType: 'Patient', name: [{ family: 'Dunn' }] });
    await create('eve', { resourceType: 'Patient', name: [{ family: 'Evans' }] });
    for (const [key, patient, doctor] of [['e1', 'alice', 'drA'], ['e2', 'dave', 'drA'], ['e3', 'carol', 'drA']] as const) {
      await create(key, { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: ref(patient, 'Patient'), participant: [{ individual: ref(doctor, 'Practitioner') }] });
    }
    // An encounter of years ago is no current care.
    await create('old', { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: ref('eve', 'Patient'), participant: [{ individual: ref('drB', 'Practitioner') }], period: { start: '2019-03-01T09:00:00Z', end: '2019-03-01T10:00:00Z' } });
    await create('team', { resourceType: 'CareTeam', status: 'active', subject: ref('bob', 'Patient'), participant: [{ member: ref('drB', 'Practitioner') }] });
    const obs = (patient: string, code: string, extra: Json = {}): Json => ({ resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code }] }, subject: ref(patient, 'Patient'), ...extra });
    await create('obsA', obs('alice', '8867-4'));
    await create('obsAhiv', obs('alice', '75622-1', { meta: { security: [HIV] } }));
    await create('obsB', obs('bob', '8867-4'));
    await create('obsD', obs('dave', '8867-4'));
    await create('obsE', obs('eve', '8867-4'));
    await create('mom', { resourceType: 'RelatedPerson', active: true, patient: ref('bob', 'Patient'), relationship: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: 'MTH' }] }] });
    // Dave refuses Dr Alpha; Eve permits research.
    await create('noDrA', {
      resourceType: 'Consent', status: 'active', scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
      category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }], patient: ref('dave', 'Patient'), policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTOUT' }] },
      provision: { type: 'deny', actor: [{ role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'PRCP' }] }, reference: ref('drA', 'Practitioner') }] },
    });
    await create('research', {
      resourceType: 'Consent', status: 'active', scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'research' }] },
      category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }], patient: ref('eve', 'Patient'), policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
      provision: { type: 'permit', purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'HRESCH' }] },
    });
    tokens['alice'] = (await t.user({ roles: ['patient'], fhirUser: `Patient/${ids['alice'] ?? ''}`, scope: 'patient/*.rs' })).token;
    tokens['mom'] = (await t.user({ roles: ['patient'], fhirUser: `RelatedPerson/${ids['mom'] ?? ''}`, scope: 'patient/*.rs' })).token;
    tokens['drA'] = (await t.user({ roles: ['clinician'], fhirUser: `Practitioner/${ids['drA'] ?? ''}` })).token;
    tokens['drAhiv'] = (await t.user({ roles: ['clinician'], fhirUser: `Practitioner/${ids['drA'] ?? ''}`, clearances: ['HIV'] })).token;
    tokens['drAnarrow'] = (await t.user({ roles: ['clinician'], fhirUser: `Practitioner/${ids['drA'] ?? ''}`, scope: 'user/Patient.rs' })).token;
    tokens['drB'] = (await t.user({ roles: ['clinician'], fhirUser: `Practitioner/${ids['drB'] ?? ''}` })).token;
    tokens['desk'] = (await t.user({ roles: ['front-desk'] })).token;
    tokens['research'] = (await t.user({ roles: ['researcher'], scope: 'user/*.rs' })).token;
  });
  after(async () => {
    await t.close();
  });

  it('refuses without a token, and answers a hidden record exactly like a missing one', async () => {
    assert.equal((await t.app.inject({ method: 'GET', url: `/fhir/Patient/${ids['bob'] ?? ''}` })).statusCode, 401);
    const hidden = await get(`/fhir/Patient/${ids['bob'] ?? ''}`, tokens['alice'] ?? '');
    const missing = await get('/fhir/Patient/no-such-patient', tokens['alice'] ?? '');
    assert.equal(hidden.status, 404);
    assert.equal(missing.status, 404);
    assert.deepEqual(hidden.body, missing.body, 'nothing tells a hidden record from a missing one');
    assert.ok(!hidden.text.includes('Brown'));
  });

  it('keeps a patient to their own compartment: read, vread, search, include, chain, _has, history, paging', async () => {
    const alice = tokens['alice'] ?? '';
    assert.equal((await get(`/fhir/Patient/${ids['alice'] ?? ''}`, alice)).status, 200);
    assert.equal((await get(`/fhir/Observation/${ids['obsAhiv'] ?? ''}`, alice)).status, 200, 'their own labelled record');
    assert.equal((await get(`/fhir/Observation/${ids['obsB'] ?? ''}`, alice)).status, 404);
    assert.equal((await get(`/fhir/Observation/${ids['obsB'] ?? ''}/_history/1`, alice)).status, 404);
    const search = await get('/fhir/Observation', alice);
    assert.deepEqual(idsOf(search.body), [`Observation/${ids['obsA'] ?? ''}`, `Observation/${ids['obsAhiv'] ?? ''}`].sort());
    const byOther = await get(`/fhir/Observation?subject=Patient/${ids['bob'] ?? ''}&_total=accurate`, alice);
    assert.deepEqual(idsOf(byOther.body), []);
    assert.equal(byOther.body['total'], 0, 'the total counts only what may be seen');
    const count = await get('/fhir/Observation?_summary=count', alice);
    assert.equal(count.body['total'], 2);
    assert.deepEqual(idsOf((await get('/fhir/Patient', alice)).body), [`Patient/${ids['alice'] ?? ''}`]);
    const include = await get(`/fhir/Observation?code=8867-4&_include=Observation:subject`, alice);
    assert.deepEqual(idsOf(include.body), [`Observation/${ids['obsA'] ?? ''}`, `Patient/${ids['alice'] ?? ''}`].sort());
    const revinclude = await get(`/fhir/Patient?_revinclude=Observation:subject&_id=${ids['bob'] ?? ''}`, alice);
    assert.deepEqual(idsOf(revinclude.body), []);
    assert.deepEqual(idsOf((await get('/fhir/Observation?subject:Patient.name=Brown', alice)).body), [], 'a chain cannot probe another patient');
    assert.deepEqual(idsOf((await get('/fhir/Patient?_has:Observation:subject:code=8867-4', alice)).body), [`Patient/${ids['alice'] ?? ''}`]);
    assert.equal((await get(`/fhir/Patient/${ids['bob'] ?? ''}/_history`, alice)).status, 404);
    const history = await get('/fhir/Observation/_history', alice);
    assert.equal(history.body['total'], undefined, 'no total that counted hidden versions');
    assert.ok(idsOf(history.body).every((i) => i.startsWith('Observation/') && [ids['obsA'], ids['obsAhiv']].includes(i.slice(12))));
    // Paging one at a time never reaches another patient's record.
    let page = await get('/fhir/Observation?_count=1', alice);
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) {
      seen.push(...idsOf(page.body));
      const next = ((page.body['link'] ?? []) as Json[]).find((l) => l['relation'] === 'next');
      if (next === undefined) break;
      page = await get(String(next['url']).replace(t.config.fhirBaseUrl, '/fhir'), alice);
    }
    assert.deepEqual(seen.sort(), [`Observation/${ids['obsA'] ?? ''}`, `Observation/${ids['obsAhiv'] ?? ''}`].sort());
  });

  it('refuses another patient inside a transaction and a batch, and lets a patient write nothing', async () => {
    const alice = tokens['alice'] ?? '';
    const tx = await t.fhir('POST', '/fhir', { token: alice, body: { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'GET', url: `Patient/${ids['bob'] ?? ''}` } }] } });
    assert.notEqual(tx.statusCode, 200);
    assert.ok(!tx.body.includes('Brown'));
    const batch = await t.fhir('POST', '/fhir', {
      token: alice,
      body: { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: `Patient/${ids['bob'] ?? ''}` } }, { request: { method: 'GET', url: 'Observation?code=8867-4' } }] },
    });
    assert.equal(batch.statusCode, 200);
    const entries = (JSON.parse(batch.body) as Json)['entry'] as Json[];
    assert.equal(entries[0]?.['response']['status'], '404');
    assert.deepEqual(idsOf(entries[1]?.['resource']), [`Observation/${ids['obsA'] ?? ''}`]);
    assert.ok(!batch.body.includes('Brown'));
    const write = await t.fhir('POST', '/fhir/Observation', { token: alice, body: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: ref('alice', 'Patient') } });
    assert.equal(write.statusCode, 403);
  });

  it('lets a RelatedPerson see the patient they act for, and no one else', async () => {
    const mom = tokens['mom'] ?? '';
    assert.equal((await get(`/fhir/Patient/${ids['bob'] ?? ''}`, mom)).status, 200);
    assert.equal((await get(`/fhir/Patient/${ids['alice'] ?? ''}`, mom)).status, 404);
    assert.deepEqual(idsOf((await get('/fhir/Observation', mom)).body), [`Observation/${ids['obsB'] ?? ''}`]);
  });

  it('keeps clinicians to patients they have a care relationship with, honours a denying Consent, and filters labels', async () => {
    const drA = tokens['drA'] ?? '';
    assert.equal((await get(`/fhir/Patient/${ids['alice'] ?? ''}`, drA)).status, 200, 'an encounter relates them');
    assert.equal((await get(`/fhir/Patient/${ids['bob'] ?? ''}`, drA)).status, 404, 'no relationship');
    assert.equal((await get(`/fhir/Patient/${ids['dave'] ?? ''}`, drA)).status, 404, 'a Consent denies Dr Alpha');
    assert.equal((await get(`/fhir/Patient/${ids['carol'] ?? ''}`, drA)).status, 404, 'restricted, and no clearance');
    assert.deepEqual(idsOf((await get('/fhir/Observation', drA)).body), [`Observation/${ids['obsA'] ?? ''}`], 'HIV-labelled and other patients left out');
    assert.deepEqual(idsOf((await get('/fhir/Observation', tokens['drAhiv'] ?? '')).body), [`Observation/${ids['obsA'] ?? ''}`, `Observation/${ids['obsAhiv'] ?? ''}`].sort());
    assert.equal((await get(`/fhir/Patient/${ids['bob'] ?? ''}`, tokens['drB'] ?? '')).status, 200, 'a care team relates them');
    assert.equal((await get(`/fhir/Patient/${ids['eve'] ?? ''}`, tokens['drB'] ?? '')).status, 404, 'an encounter of 2019 does not');
    // Writes: only for related patients; someone else's record looks missing.
    const mine = await t.fhir('POST', '/fhir/Observation', { token: drA, body: { resourceType: 'Observation', status: 'final', code: { text: 'pulse' }, subject: ref('alice', 'Patient') } });
    assert.equal(mine.statusCode, 201);
    const theirs = await t.fhir('POST', '/fhir/Observation', { token: drA, body: { resourceType: 'Observation', status: 'final', code: { text: 'pulse' }, subject: ref('bob', 'Patient') } });
    assert.equal(theirs.statusCode, 403);
    const obsB = JSON.parse((await t.fhir('GET', `/fhir/Observation/${ids['obsB'] ?? ''}`, { token: admin })).body) as Json;
    assert.equal((await t.fhir('PUT', `/fhir/Observation/${ids['obsB'] ?? ''}`, { token: drA, body: { ...obsB, status: 'amended' } })).statusCode, 404);
    assert.equal((await t.fhir('DELETE', `/fhir/Observation/${ids['obsB'] ?? ''}`, { token: drA })).statusCode, 404);
    const moved = await t.fhir('PUT', `/fhir/Observation/${ids['obsA'] ?? ''}`, { token: drA, body: { resourceType: 'Observation', id: ids['obsA'], status: 'final', code: { text: 'x' }, subject: ref('bob', 'Patient') } });
    assert.equal(moved.statusCode, 403, 'a record cannot be moved to a patient the clinician does not reach');
    const unchanged = JSON.parse((await t.fhir('GET', `/fhir/Observation/${ids['obsB'] ?? ''}`, { token: admin })).body) as Json;
    assert.equal(unchanged['meta']['versionId'], '1', 'the refused writes changed nothing');
  });

  it('gives a token no more than its scopes, and no more than its user', async () => {
    assert.equal((await get(`/fhir/Observation/${ids['obsA'] ?? ''}`, tokens['drAnarrow'] ?? '')).status, 403, 'narrowed to Patient');
    assert.equal((await get(`/fhir/Patient/${ids['alice'] ?? ''}`, tokens['drAnarrow'] ?? '')).status, 200);
    assert.equal((await get(`/fhir/Observation/${ids['obsA'] ?? ''}`, tokens['desk'] ?? '')).status, 403, 'the front desk reads no clinical records');
    assert.equal((await get(`/fhir/Patient/${ids['bob'] ?? ''}`, tokens['desk'] ?? '')).status, 200, 'but registers every patient');
    const research = tokens['research'] ?? '';
    assert.equal((await get('/fhir/Patient', research)).status, 403, 'no demographics for research');
    assert.deepEqual(idsOf((await get('/fhir/Observation', research)).body), [`Observation/${ids['obsE'] ?? ''}`], 'only patients whose Consent permits research');
    // A system client without a label clearance does not see labelled records.
    const plain = await t.token('system/*.rs');
    assert.equal((await get(`/fhir/Patient/${ids['carol'] ?? ''}`, plain)).status, 404);
    const patients = await get('/fhir/Patient?_total=accurate', plain);
    assert.ok(!idsOf(patients.body).includes(`Patient/${ids['carol'] ?? ''}`));
    assert.equal(patients.body['total'], 4, 'the total leaves the labelled patient out');
    // A disabled user's token stops working at once.
    const temp = await t.user({ roles: ['clinician'], fhirUser: `Practitioner/${ids['drA'] ?? ''}` });
    assert.equal((await get(`/fhir/Patient/${ids['alice'] ?? ''}`, temp.token)).status, 200);
    const user = await t.vigil.users.get(temp.userId);
    await t.vigil.users.disable(user?.username ?? '');
    assert.equal((await get(`/fhir/Patient/${ids['alice'] ?? ''}`, temp.token)).status, 401);
  });

  it('breaks the glass: time-limited, audited with purpose BTG, flagged for review', async () => {
    const drB = tokens['drB'] ?? '';
    const carol = ids['carol'] ?? '';
    assert.equal((await get(`/fhir/Patient/${carol}`, drB)).status, 404);
    const noReason = await t.fhir('POST', `/fhir/Patient/${carol}/$break-the-glass`, { token: drB, body: { resourceType: 'Parameters', parameter: [] } });
    assert.equal(noReason.statusCode, 400);
    assert.equal((await t.fhir('POST', `/fhir/Patient/${carol}/$break-the-glass`, { token: tokens['alice'] ?? '', body: { resourceType: 'Parameters', parameter: [{ name: 'reason', valueString: 'I want to look at it' }] } })).statusCode, 403, 'patients cannot break the glass');
    const opened = await t.fhir('POST', `/fhir/Patient/${carol}/$break-the-glass`, { token: drB, body: { resourceType: 'Parameters', parameter: [{ name: 'reason', valueString: 'Unconscious in the emergency room' }] } });
    assert.equal(opened.statusCode, 200, opened.body);
    assert.equal((await get(`/fhir/Patient/${carol}`, drB)).status, 200, 'the restricted record opens under break-the-glass');
    const trail = await t.vigil.store.searchAudit({ tenant: t.config.tenant, limit: 1000 });
    const start = trail.map((r) => JSON.parse(r.body) as Json).find((b) => b['subtype'] === 'break-glass-start' && b['outcome'] === '0');
    assert.deepEqual(start?.['purposeOfUse'], ['BTG']);
    assert.deepEqual(start?.['patients'], [carol]);
    assert.ok(!trail.some((r) => r.body.includes('Unconscious')), 'the reason stays out of the audit trail');
    const read = trail.map((r) => JSON.parse(r.body) as Json).find((b) => b['subtype'] === 'read' && b['decision'] === 'break-glass');
    assert.ok(read !== undefined && (read['purposeOfUse'] as string[]).includes('BTG'), 'reads under the grant carry purpose BTG');
    const officer = await t.token('system/Patient.rs', ['privacy-officer']);
    const review = JSON.parse((await t.app.inject({ method: 'GET', url: '/admin/break-glass', headers: { authorization: `Bearer ${officer}` } })).body) as Json;
    const grant = (review['grants'] as Json[]).find((g) => g['patient'] === carol);
    assert.equal(grant?.['flagged'], true);
    const done = await t.app.inject({ method: 'POST', url: `/admin/break-glass/${String(grant?.['id'])}/review`, headers: { authorization: `Bearer ${officer}`, 'content-type': 'application/json' }, payload: { outcome: 'justified' } });
    assert.equal((JSON.parse(done.body) as Json)['flagged'], false);
    assert.equal((await t.app.inject({ method: 'GET', url: '/admin/break-glass', headers: { authorization: `Bearer ${drB}` } })).statusCode, 403, 'clinicians do not review');
    // Ending it closes the record again.
    assert.equal((await t.fhir('DELETE', `/fhir/Patient/${carol}/$break-the-glass`, { token: drB })).statusCode, 204);
    assert.equal((await get(`/fhir/Patient/${carol}`, drB)).status, 404);
  });

  it('records the purpose of use and the reason for what it allowed', async () => {
    await get(`/fhir/Patient/${ids['alice'] ?? ''}`, tokens['drA'] ?? '');
    const trail = (await t.vigil.store.searchAudit({ tenant: t.config.tenant, limit: 1000 })).map((r) => JSON.parse(r.body) as Json);
    const read = trail.find((b) => b['subtype'] === 'read' && b['decision'] === 'care-relationship');
    assert.deepEqual(read?.['purposeOfUse'], ['TREAT']);
    assert.ok(typeof read?.['user'] === 'string');
  });
});

describe('SMART scope restrictions (?param=value)', () => {
  let t: TestVigil;
  before(async () => {
    t = await startTestVigil();
  });
  after(async () => {
    await t.close();
  });

  it('grants only the resources that match, for reads, searches and writes', async () => {
    const admin = await t.token('system/*.cruds');
    const obs = (category: string): Json => ({
      resourceType: 'Observation',
      status: 'final',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: category }] }],
      code: { text: category },
    });
    const lab = JSON.parse((await t.fhir('POST', '/fhir/Observation', { token: admin, body: obs('laboratory') })).body) as Json;
    const vital = JSON.parse((await t.fhir('POST', '/fhir/Observation', { token: admin, body: obs('vital-signs') })).body) as Json;
    const labOnly = await t.token('system/Observation.crs?category=laboratory');
    assert.equal((await t.fhir('GET', `/fhir/Observation/${String(lab['id'])}`, { token: labOnly })).statusCode, 200);
    assert.equal((await t.fhir('GET', `/fhir/Observation/${String(vital['id'])}`, { token: labOnly })).statusCode, 404);
    const found = JSON.parse((await t.fhir('GET', '/fhir/Observation?_total=accurate', { token: labOnly })).body) as Json;
    assert.deepEqual(((found['entry'] ?? []) as Json[]).map((e) => e['resource']['id']), [lab['id']]);
    assert.equal(found['total'], 1);
    assert.equal((await t.fhir('POST', '/fhir/Observation', { token: labOnly, body: obs('laboratory') })).statusCode, 201);
    assert.equal((await t.fhir('POST', '/fhir/Observation', { token: labOnly, body: obs('vital-signs') })).statusCode, 403);
    // A restriction on a parameter the policy cannot check grants nothing.
    const odd = await t.token('system/Observation.rs?date=ge2020');
    assert.equal((await t.fhir('GET', `/fhir/Observation/${String(lab['id'])}`, { token: odd })).statusCode, 404);
  });
});
