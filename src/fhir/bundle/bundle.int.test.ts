import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestVigil, syntheticPatient, type TestVigil } from '../../testing/harness.js';

type Json = Record<string, any>;

const MRN = 'http://hospital.example/mrn';

function patient(tag: string, mrn: string): Json {
  return { ...syntheticPatient(tag), identifier: [{ system: MRN, value: mrn }] };
}

function observation(subject: string, text = 'x'): Json {
  return { resourceType: 'Observation', status: 'final', code: { text }, subject: { reference: subject } };
}

describe('batch and transaction Bundles', () => {
  let t: TestVigil;
  before(async () => {
    t = await startTestVigil();
  });
  after(async () => {
    await t.close();
  });

  const post = async (bundle: Json, token?: string) => {
    const res = await t.fhir('POST', '/fhir', { body: bundle, ...(token === undefined ? {} : { token }) });
    return { status: res.statusCode, body: JSON.parse(res.body) as Json };
  };
  const total = async (type: string): Promise<number> => JSON.parse((await t.fhir('GET', `/fhir/${type}/_history?_count=0`)).body).total as number;

  it('resolves urn:uuid references, stores everything, and answers a transaction-response in entry order', async () => {
    const { status, body } = await post({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:11111111-1111-4111-8111-111111111111', resource: patient('tx1', 'T-1'), request: { method: 'POST', url: 'Patient' } },
        { fullUrl: 'urn:uuid:22222222-2222-4222-8222-222222222222', resource: observation('urn:uuid:11111111-1111-4111-8111-111111111111'), request: { method: 'POST', url: 'Observation' } },
        { request: { method: 'GET', url: `Patient?identifier=${MRN}|T-1` } },
      ],
    });
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body['type'], 'transaction-response');
    const [p, o, search] = body['entry'] as Json[];
    assert.equal(p?.['response'].status, '201 Created');
    assert.match(p?.['response'].location, /\/fhir\/Patient\/[0-9a-f-]{36}\/_history\/1$/);
    const patientId = p?.['resource'].id as string;
    assert.equal(o?.['resource'].subject.reference, `Patient/${patientId}`);
    const stored = JSON.parse((await t.fhir('GET', `/fhir/Observation/${o?.['resource'].id as string}`)).body) as Json;
    assert.equal(stored['subject'].reference, `Patient/${patientId}`);
    assert.equal(search?.['resource'].total, 1, 'reads in a transaction see its writes');
  });

  it('is all or nothing: an invalid last entry leaves nothing behind, and names the entry', async () => {
    const [patients, observations] = [await total('Patient'), await total('Observation')];
    const { status, body } = await post({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:33333333-3333-4333-8333-333333333333', resource: patient('Quarantotto', 'T-2'), request: { method: 'POST', url: 'Patient' } },
        { resource: observation('urn:uuid:33333333-3333-4333-8333-333333333333'), request: { method: 'POST', url: 'Observation' } },
        { resource: { resourceType: 'Observation', code: { text: 'no status' } }, request: { method: 'POST', url: 'Observation' } },
      ],
    });
    assert.equal(status, 400);
    assert.equal(body['resourceType'], 'OperationOutcome');
    assert.match(JSON.stringify(body), /Bundle entry 2/);
    assert.ok(!JSON.stringify(body).includes('Quarantotto'));
    assert.equal(await total('Patient'), patients);
    assert.equal(await total('Observation'), observations);
  });

  it('runs conditional create, update and delete, and conditional references', async () => {
    const existing = JSON.parse((await t.fhir('POST', '/fhir/Patient', { body: patient('c1', 'C-1') })).body) as Json;
    const before = await total('Patient');
    const { status, body } = await post({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        // Exists already: no new Patient, and the fullUrl maps to the existing one.
        { fullUrl: 'urn:uuid:44444444-4444-4444-8444-444444444444', resource: patient('c1', 'C-1'), request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${MRN}|C-1` } },
        { resource: observation('urn:uuid:44444444-4444-4444-8444-444444444444', 'via ifNoneExist'), request: { method: 'POST', url: 'Observation' } },
        { resource: observation(`Patient?identifier=${MRN}|C-1`, 'via conditional reference'), request: { method: 'POST', url: 'Observation' } },
        // Conditional update with no match creates.
        { resource: { ...patient('c2', 'C-2'), gender: 'male' }, request: { method: 'PUT', url: `Patient?identifier=${MRN}|C-2` } },
      ],
    });
    assert.equal(status, 200, JSON.stringify(body));
    const entries = body['entry'] as Json[];
    assert.equal(entries[0]?.['response'].status, '200 OK');
    assert.equal(entries[1]?.['resource'].subject.reference, `Patient/${existing['id'] as string}`);
    assert.equal(entries[2]?.['resource'].subject.reference, `Patient/${existing['id'] as string}`);
    assert.equal(entries[3]?.['response'].status, '201 Created');
    assert.equal(await total('Patient'), before + 1);

    // Conditional update with one match updates it; conditional delete removes it.
    const update = await post({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ resource: { ...patient('c2', 'C-2'), gender: 'female' }, request: { method: 'PUT', url: `Patient?identifier=${MRN}|C-2` } }],
    });
    assert.equal((update.body['entry'] as Json[])[0]?.['response'].status, '200 OK');
    const id = (update.body['entry'] as Json[])[0]?.['resource'].id as string;
    assert.equal((update.body['entry'] as Json[])[0]?.['resource'].meta.versionId, '2');
    const del = await post({ resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'DELETE', url: `Patient?identifier=${MRN}|C-2` } }] });
    assert.equal(del.status, 200);
    assert.equal((await t.fhir('GET', `/fhir/Patient/${id}`)).statusCode, 410);
  });

  it('refuses ambiguous and dangling conditions with 412, and dangling urn references with 400', async () => {
    await t.fhir('POST', '/fhir/Patient', { body: patient('d1', 'DUP') });
    await t.fhir('POST', '/fhir/Patient', { body: patient('d2', 'DUP') });
    const before = await total('Observation');
    const ambiguous = await post({ resourceType: 'Bundle', type: 'transaction', entry: [{ resource: observation(`Patient?identifier=${MRN}|DUP`), request: { method: 'POST', url: 'Observation' } }] });
    assert.equal(ambiguous.status, 412);
    const none = await post({ resourceType: 'Bundle', type: 'transaction', entry: [{ resource: observation(`Patient?identifier=${MRN}|NOPE`), request: { method: 'POST', url: 'Observation' } }] });
    assert.equal(none.status, 412);
    const createAmbiguous = await post({ resourceType: 'Bundle', type: 'transaction', entry: [{ resource: patient('d3', 'DUP'), request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${MRN}|DUP` } }] });
    assert.equal(createAmbiguous.status, 412);
    const dangling = await post({ resourceType: 'Bundle', type: 'transaction', entry: [{ resource: observation('urn:uuid:99999999-9999-4999-8999-999999999999'), request: { method: 'POST', url: 'Observation' } }] });
    assert.equal(dangling.status, 400);
    assert.equal(await total('Observation'), before);
  });

  it('refuses a transaction touching one resource twice, or with a stale If-Match, storing nothing', async () => {
    await t.fhir('PUT', '/fhir/Patient/twice', { body: { ...patient('tw', 'TW'), id: 'twice' } });
    const twice = await post({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: { ...patient('tw', 'TW'), id: 'twice' }, request: { method: 'PUT', url: 'Patient/twice' } },
        { request: { method: 'DELETE', url: 'Patient/twice' } },
      ],
    });
    assert.equal(twice.status, 400);
    const stale = await post({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: patient('st', 'ST'), request: { method: 'POST', url: 'Patient' } },
        { resource: { ...patient('tw', 'TW'), id: 'twice', gender: 'male' }, request: { method: 'PUT', url: 'Patient/twice', ifMatch: 'W/"9"' } },
      ],
    });
    assert.equal(stale.status, 412);
    const current = JSON.parse((await t.fhir('GET', '/fhir/Patient/twice')).body) as Json;
    assert.equal(current['meta'].versionId, '1');
    assert.equal(JSON.parse((await t.fhir('GET', `/fhir/Patient?identifier=${encodeURIComponent(`${MRN}|ST`)}`)).body).total, 0);
  });

  it('checks scopes for every entry before writing anything', async () => {
    const token = await t.token('system/Patient.cruds');
    const before = await total('Patient');
    const res = await post(
      {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { fullUrl: 'urn:uuid:55555555-5555-4555-8555-555555555555', resource: patient('sc', 'SC'), request: { method: 'POST', url: 'Patient' } },
          { resource: observation('urn:uuid:55555555-5555-4555-8555-555555555555'), request: { method: 'POST', url: 'Observation' } },
        ],
      },
      token,
    );
    assert.equal(res.status, 403);
    assert.equal(await total('Patient'), before);
  });

  it('applies search scopes inside Bundles: chains, includes and conditional references', async () => {
    const pid = JSON.parse((await t.fhir('POST', '/fhir/Patient', { body: patient('scope', 'SCOPE-1') })).body).id as string;
    await t.fhir('POST', '/fhir/Observation', { body: observation(`Patient/${pid}`, 'scoped') });
    const obsOnly = await t.token('system/Observation.crs');
    const included = await post({ resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: `Observation?subject=Patient/${pid}&_include=Observation:subject` } }] }, obsOnly);
    const page = (included.body['entry'] as Json[])[0]?.['resource'] as Json;
    assert.deepEqual((page['entry'] as Json[]).map((e) => e['resource'].resourceType), ['Observation'], 'the Patient is not included for an Observation-only token');
    const chained = await post({ resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: `Observation?subject:Patient.identifier=${MRN}|SCOPE-1` } }] }, obsOnly);
    assert.equal((chained.body['entry'] as Json[])[0]?.['response'].status, '403', 'a chain through Patient needs Patient.s');
    const probe = await post({ resourceType: 'Bundle', type: 'transaction', entry: [{ resource: observation(`Patient?identifier=${MRN}|SCOPE-1`), request: { method: 'POST', url: 'Observation' } }] }, obsOnly);
    assert.equal(probe.status, 403, 'a conditional reference is a search of Patient');
  });

  it('runs a batch entry by entry: failures are reported in their entries and the rest is stored', async () => {
    const { status, body } = await post({
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        { resource: patient('b1', 'B-1'), request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Patient', birthDate: 'not-a-date' }, request: { method: 'POST', url: 'Patient' } },
        { request: { method: 'GET', url: 'Patient/does-not-exist' } },
        { resource: patient('b2', 'B-2'), request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${MRN}|B-1` } },
        { resource: patient('b3', 'B-3') },
        { resource: patient('b4', 'B-4'), request: { method: 'POST', url: 'Patient' } },
      ],
    });
    assert.equal(status, 200);
    assert.equal(body['type'], 'batch-response');
    const entries = body['entry'] as Json[];
    assert.equal(entries[0]?.['response'].status, '201 Created');
    assert.equal(entries[1]?.['response'].status, '400');
    assert.equal(entries[1]?.['response'].outcome.resourceType, 'OperationOutcome');
    assert.equal(entries[2]?.['response'].status, '404');
    assert.equal(entries[3]?.['response'].status, '200 OK', 'B-1 exists by then, so the conditional create is a no-op');
    assert.equal(entries[4]?.['response'].status, '400', 'an entry without a request fails alone');
    assert.match(JSON.stringify(entries[4]?.['response'].outcome), /Bundle entry 4/);
    assert.equal(entries[5]?.['response'].status, '201 Created');
    assert.match(JSON.stringify(entries[1]?.['response'].outcome), /Bundle entry 1/, 'errors name their own entry');
  });

  it('runs a batch\'s entries side by side, yet each sees what it would see one by one', async () => {
    const ORG = 'http://hospital.example/org';
    const observations = await total('Observation');
    const putTwice = (gender: string, more: Json = {}): Json => ({ resource: { ...patient('w2', 'W-2'), id: 'w-twice', gender, ...more }, request: { method: 'PUT', url: 'Patient/w-twice' } });
    const orgEntry = { resource: { resourceType: 'Organization', identifier: [{ system: ORG, value: 'W-ORG' }], name: 'Window' }, request: { method: 'POST', url: 'Organization', ifNoneExist: `identifier=${ORG}|W-ORG` } };
    const { status, body } = await post({
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        { resource: patient('w1', 'W-1'), request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${MRN}|W-1` } },
        // A read sees the entries before it, though they take longer to plan (a condition).
        { request: { method: 'GET', url: `Patient?identifier=${MRN}|W-1` } },
        orgEntry,
        // A conditional reference finds what the entry before it created.
        putTwice('male', { managingOrganization: { reference: `Organization?identifier=${ORG}|W-ORG` } }),
        // The same target again is written after it.
        putTwice('female'),
        orgEntry,
        { resource: { resourceType: 'Patient', birthDate: 'not-a-date' }, request: { method: 'POST', url: 'Patient' } },
        // More than one window's worth.
        ...Array.from({ length: 150 }, (_, k) => ({ resource: observation('Patient/w-twice', `window ${k}`), request: { method: 'POST', url: 'Observation' } })),
        { request: { method: 'GET', url: 'Patient/w-twice' } },
      ],
    });
    assert.equal(status, 200);
    const entries = body['entry'] as Json[];
    assert.equal(entries.length, 158);
    assert.deepEqual(
      entries.slice(0, 7).map((e) => e['response'].status),
      ['201 Created', '200 OK', '201 Created', '201 Created', '200 OK', '200 OK', '400'],
    );
    assert.equal(entries[1]?.['resource'].total, 1, 'the search sees the Patient created before it');
    const orgId = entries[2]?.['response'].location.split('/').at(-3) as string;
    const first = JSON.parse((await t.fhir('GET', '/fhir/Patient/w-twice/_history/1')).body) as Json;
    assert.equal(first['managingOrganization'].reference, `Organization/${orgId}`);
    assert.ok(entries.slice(7, 157).every((e) => e['response'].status === '201 Created'));
    const last = entries[157]?.['resource'] as Json;
    assert.equal(last['meta'].versionId, '2');
    assert.equal(last['gender'], 'female', 'the later PUT was written last');
    assert.equal(await total('Observation'), observations + 150);
  });

  it('stores a batch\'s entries in entry order, whatever each took to plan, and a read sees none after it', async () => {
    const put = await t.fhir('PUT', '/fhir/Patient/w-del', { body: { ...patient('wd', 'W-DEL'), id: 'w-del' } });
    assert.equal(put.statusCode, 201, put.body);
    // A conditional delete (planned by a search) and a PUT of the same Patient by its id: one by
    // one, the delete goes first and the PUT brings the Patient back.
    const { status, body } = await post({
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        { request: { method: 'DELETE', url: `Patient?identifier=${MRN}|W-DEL` } },
        { resource: { ...patient('wd', 'W-DEL'), id: 'w-del', gender: 'other' }, request: { method: 'PUT', url: 'Patient/w-del' } },
        // A read sees none of the entries after it.
        { request: { method: 'GET', url: `Patient?identifier=${MRN}|W-LATE` } },
        { resource: patient('wl', 'W-LATE'), request: { method: 'POST', url: 'Patient' } },
      ],
    });
    assert.equal(status, 200);
    const entries = body['entry'] as Json[];
    assert.deepEqual(entries.map((e) => e['response'].status), ['204 No Content', '201 Created', '200 OK', '201 Created']);
    assert.equal(entries[2]?.['resource'].total, 0, 'the search ran before the Patient after it was stored');
    const read = await t.fhir('GET', '/fhir/Patient/w-del');
    assert.equal(read.statusCode, 200, 'the PUT was stored after the delete');
    assert.equal((JSON.parse(read.body) as Json)['meta'].versionId, '3');
  });

  it('refuses malformed Bundles', async () => {
    for (const bundle of [
      { resourceType: 'Bundle', type: 'searchset' },
      { resourceType: 'Patient' },
      { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: patient('m', 'M') }] },
      { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: patient('m', 'M'), request: { method: 'POST', url: 'Nope' } }] },
      { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'PUT', url: 'Patient' }, resource: patient('m', 'M') }] },
      { resourceType: 'Bundle', type: 'batch', entry: { request: { method: 'GET', url: 'Patient' } } },
      { resourceType: 'Bundle', type: 'transaction', entry: [null] },
    ]) {
      const res = await post(bundle);
      assert.ok(res.status === 400 || res.status === 404, `${JSON.stringify(bundle).slice(0, 80)} -> ${res.status}`);
      assert.equal(res.body['resourceType'], 'OperationOutcome');
    }
  });
});
