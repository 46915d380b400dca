import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestVigil, syntheticPatient, type TestVigil } from '../testing/harness.js';

interface Json {
  [key: string]: unknown;
}

function json(res: { body: string }): Json {
  return JSON.parse(res.body) as Json;
}

function issues(res: { body: string }): { code: string; diagnostics: string; expression?: string[] }[] {
  const body = json(res);
  assert.equal(body['resourceType'], 'OperationOutcome');
  return body['issue'] as { code: string; diagnostics: string; expression?: string[] }[];
}

describe('FHIR REST interactions', () => {
  let t: TestVigil;
  before(async () => {
    t = await startTestVigil();
  });
  after(async () => {
    await t.close();
  });

  it('serves a truthful CapabilityStatement without a token', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/fhir/metadata' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/fhir\+json/);
    const cs = json(res);
    assert.equal(cs['resourceType'], 'CapabilityStatement');
    assert.equal(cs['fhirVersion'], '4.0.1');
    const rest = (cs['rest'] as Json[])[0] as Json;
    const resources = rest['resource'] as { type: string; interaction: { code: string }[] }[];
    assert.ok(resources.length >= 145);
    const patient = resources.find((r) => r.type === 'Patient');
    assert.deepEqual(patient?.interaction.map((i) => i.code).sort(), ['create', 'delete', 'history-instance', 'history-type', 'read', 'search-type', 'update', 'vread']);
    const params = (patient as unknown as { searchParam: { name: string; type: string }[] }).searchParam;
    for (const name of ['name', 'family', 'birthdate', 'identifier', 'general-practitioner', '_id', '_lastUpdated']) assert.ok(params.some((p) => p.name === name), name);
    assert.ok(!params.some((p) => p.type === 'composite' || p.type === 'special'), 'composite and special parameters are not claimed');
    assert.deepEqual((rest['interaction'] as { code: string }[]).map((i) => i.code).sort(), ['batch', 'history-system', 'transaction']);
    assert.ok(!resources.some((r) => r.type === 'SubscriptionStatus'));
  });

  it('creates with a server id, version 1, Location, ETag and Last-Modified', async () => {
    const res = await t.fhir('POST', '/fhir/Patient', { body: { ...syntheticPatient('c1'), id: 'client-chosen', meta: { versionId: '99', tag: [{ code: 'keep' }] } } });
    assert.equal(res.statusCode, 201);
    const body = json(res);
    assert.notEqual(body['id'], 'client-chosen');
    assert.match(String(body['id']), /^[0-9a-f-]{36}$/);
    const meta = body['meta'] as Json;
    assert.equal(meta['versionId'], '1');
    assert.match(String(meta['lastUpdated']), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    assert.deepEqual(meta['tag'], [{ code: 'keep' }]);
    assert.equal(res.headers['etag'], 'W/"1"');
    assert.equal(res.headers['location'], `${t.config.fhirBaseUrl}/Patient/${String(body['id'])}/_history/1`);
    assert.equal(res.headers['last-modified'], new Date(String(meta['lastUpdated'])).toUTCString());
    const read = await t.fhir('GET', `/fhir/Patient/${String(body['id'])}`);
    assert.equal(read.statusCode, 200);
    assert.deepEqual(json(read), body);
    assert.equal(read.headers['etag'], 'W/"1"');
  });

  it('updates with If-Match, refuses a stale one with 412 and keeps the stored version', async () => {
    const created = json(await t.fhir('POST', '/fhir/Patient', { body: syntheticPatient('u1') }));
    const id = String(created['id']);
    const update = { ...syntheticPatient('u1'), id, gender: 'male' };
    const ok = await t.fhir('PUT', `/fhir/Patient/${id}`, { body: update, headers: { 'if-match': 'W/"1"' } });
    assert.equal(ok.statusCode, 200);
    assert.equal(ok.headers['etag'], 'W/"2"');
    assert.equal((json(ok)['meta'] as Json)['versionId'], '2');
    const stale = await t.fhir('PUT', `/fhir/Patient/${id}`, { body: { ...update, gender: 'other' }, headers: { 'if-match': 'W/"1"' } });
    assert.equal(stale.statusCode, 412);
    assert.equal(issues(stale)[0]?.code, 'conflict');
    const current = json(await t.fhir('GET', `/fhir/Patient/${id}`));
    assert.equal(current['gender'], 'male');
    const v1 = await t.fhir('GET', `/fhir/Patient/${id}/_history/1`);
    assert.equal(v1.statusCode, 200);
    assert.equal(json(v1)['gender'], 'female');
    assert.equal((await t.fhir('GET', `/fhir/Patient/${id}/_history/3`)).statusCode, 404);
    assert.equal((await t.fhir('GET', `/fhir/Patient/${id}/_history/abc`)).statusCode, 404);
    const badEtag = await t.fhir('PUT', `/fhir/Patient/${id}`, { body: update, headers: { 'if-match': 'nonsense' } });
    assert.equal(badEtag.statusCode, 400);
  });

  it('creates on update with a client id (201), and checks the body id', async () => {
    const res = await t.fhir('PUT', '/fhir/Patient/client-id-1', { body: { ...syntheticPatient('p1'), id: 'client-id-1' } });
    assert.equal(res.statusCode, 201);
    assert.equal(res.headers['etag'], 'W/"1"');
    const mismatch = await t.fhir('PUT', '/fhir/Patient/client-id-2', { body: { ...syntheticPatient('p1'), id: 'other' } });
    assert.equal(mismatch.statusCode, 400);
    const missing = await t.fhir('PUT', '/fhir/Patient/client-id-2', { body: syntheticPatient('p1') });
    assert.equal(missing.statusCode, 400);
    const wrongType = await t.fhir('PUT', '/fhir/Observation/client-id-1', { body: { ...syntheticPatient('p1'), id: 'client-id-1' } });
    assert.equal(wrongType.statusCode, 400);
    const badId = await t.fhir('PUT', `/fhir/Patient/${'x'.repeat(65)}`, { body: { ...syntheticPatient('p1'), id: 'x'.repeat(65) } });
    assert.equal(badId.statusCode, 400);
    assert.equal((await t.fhir('GET', '/fhir/Patient/client-id-2')).statusCode, 404);
  });

  it('deletes with a versioned tombstone: read answers 410, old versions stay readable', async () => {
    const id = String(json(await t.fhir('POST', '/fhir/Patient', { body: syntheticPatient('d1') }))['id']);
    const del = await t.fhir('DELETE', `/fhir/Patient/${id}`);
    assert.equal(del.statusCode, 204);
    const gone = await t.fhir('GET', `/fhir/Patient/${id}`);
    assert.equal(gone.statusCode, 410);
    assert.equal(issues(gone)[0]?.code, 'deleted');
    assert.equal((await t.fhir('GET', `/fhir/Patient/${id}/_history/1`)).statusCode, 200);
    assert.equal((await t.fhir('GET', `/fhir/Patient/${id}/_history/2`)).statusCode, 410);
    assert.equal((await t.fhir('DELETE', `/fhir/Patient/${id}`)).statusCode, 204);
    const hist = json(await t.fhir('GET', `/fhir/Patient/${id}/_history`));
    assert.equal(hist['total'], 2);
    const entries = hist['entry'] as Json[];
    assert.deepEqual((entries[0] as Json)['request'], { method: 'DELETE', url: `Patient/${id}` });
    assert.equal((entries[0] as Json)['resource'], undefined);
    assert.equal((await t.fhir('DELETE', '/fhir/Patient/never-existed')).statusCode, 404);
    const resurrect = await t.fhir('PUT', `/fhir/Patient/${id}`, { body: { ...syntheticPatient('d1'), id } });
    assert.equal(resurrect.statusCode, 201);
    assert.equal(resurrect.headers['etag'], 'W/"3"');
    const stale = await t.fhir('DELETE', `/fhir/Patient/${id}`, { headers: { 'if-match': 'W/"1"' } });
    assert.equal(stale.statusCode, 412);
  });

  it('honours Prefer: return=minimal, representation and OperationOutcome', async () => {
    const minimal = await t.fhir('POST', '/fhir/Patient', { body: syntheticPatient('m'), headers: { prefer: 'return=minimal' } });
    assert.equal(minimal.statusCode, 201);
    assert.equal(minimal.body, '');
    assert.ok(minimal.headers['location']);
    const outcome = await t.fhir('POST', '/fhir/Patient', { body: syntheticPatient('m'), headers: { prefer: 'return=OperationOutcome' } });
    assert.equal(outcome.statusCode, 201);
    assert.equal(json(outcome)['resourceType'], 'OperationOutcome');
    const rep = await t.fhir('POST', '/fhir/Patient', { body: syntheticPatient('m'), headers: { prefer: 'return=representation' } });
    assert.equal(json(rep)['resourceType'], 'Patient');
  });

  it('pages instance, type and system history with signed cursors', async () => {
    const id = 'hist-1';
    for (let i = 0; i < 5; i++) {
      const res = await t.fhir('PUT', `/fhir/Basic/${id}`, { body: { resourceType: 'Basic', id, code: { text: `v${i}` } } });
      assert.ok(res.statusCode === 200 || res.statusCode === 201);
    }
    const seen: string[] = [];
    let url: string | undefined = `/fhir/Basic/${id}/_history?_count=2`;
    let pages = 0;
    while (url !== undefined) {
      const page = json(await t.fhir('GET', url));
      assert.equal(page['type'], 'history');
      assert.equal(page['total'], 5);
      for (const e of page['entry'] as Json[]) seen.push(((e['resource'] as Json)['meta'] as Json)['versionId'] as string);
      const next = (page['link'] as { relation: string; url: string }[]).find((l) => l.relation === 'next');
      url = next === undefined ? undefined : next.url.replace(t.config.publicUrl, '');
      pages++;
    }
    assert.equal(pages, 3);
    assert.deepEqual(seen, ['5', '4', '3', '2', '1']);

    const typePage = json(await t.fhir('GET', '/fhir/Basic/_history?_count=1'));
    const next = (typePage['link'] as { relation: string; url: string }[]).find((l) => l.relation === 'next');
    assert.ok(next !== undefined);
    const cursor = new URL(next.url).searchParams.get('_cursor') ?? '';
    // The same cursor on another address, or edited, is refused.
    assert.equal((await t.fhir('GET', `/fhir/Patient/_history?_cursor=${cursor}`)).statusCode, 400);
    const edited = `${cursor.slice(0, 20)}${cursor[20] === 'A' ? 'B' : 'A'}${cursor.slice(21)}`;
    assert.equal((await t.fhir('GET', `/fhir/Basic/_history?_cursor=${edited}`)).statusCode, 400);
    assert.equal((await t.fhir('GET', `/fhir/Basic/_history?_cursor=${cursor}`)).statusCode, 200, 'control: the unedited cursor works');
    // History of an id that never existed is 404, not an empty Bundle.
    assert.equal((await t.fhir('GET', '/fhir/Basic/never-was/_history')).statusCode, 404);

    const system = json(await t.fhir('GET', '/fhir/_history?_count=3'));
    assert.equal((system['entry'] as Json[]).length, 3);
    assert.ok((system['total'] as number) >= 5);

    const future = json(await t.fhir('GET', '/fhir/Basic/_history?_since=2999-01-01T00:00:00Z'));
    assert.equal(future['total'], 0);
    assert.equal((await t.fhir('GET', '/fhir/Basic/_history?_since=yesterday')).statusCode, 400);
    assert.equal((await t.fhir('GET', '/fhir/Basic/_history?_at=2020')).statusCode, 400);
    assert.equal((await t.fhir('GET', '/fhir/Basic/_history?_count=-1')).statusCode, 400);
  });

  it('validates against the R4 definitions and names each problem by path, storing nothing', async () => {
    const before = json(await t.fhir('GET', '/fhir/Patient/_history?_count=0'))['total'];
    const res = await t.fhir('POST', '/fhir/Patient', {
      body: { resourceType: 'Patient', name: [{ family: 'Quarantotto', given: 'NotAnArray' }], birthDate: '1990-13-45', active: 'yes', unknownThing: 1 },
    });
    assert.equal(res.statusCode, 400);
    const list = issues(res);
    const paths = list.flatMap((i) => i.expression ?? []);
    for (const p of ['Patient.name.given', 'Patient.birthDate', 'Patient.active', 'Patient.unknownThing']) assert.ok(paths.some((x) => x.startsWith(p)), p);
    assert.ok(!res.body.includes('Quarantotto'));
    assert.equal(json(await t.fhir('GET', '/fhir/Patient/_history?_count=0'))['total'], before);
    const obs = await t.fhir('POST', '/fhir/Observation', { body: { resourceType: 'Observation', code: { text: 'x' } } });
    assert.equal(obs.statusCode, 400, 'Observation.status is required (cardinality 1..1)');
  });

  it('answers hostile and unsupported requests with a 4xx OperationOutcome and no echo', async () => {
    const cases: { name: string; status: number; run: () => ReturnType<TestVigil['fhir']> }[] = [
      { name: 'unknown type', status: 404, run: () => t.fhir('GET', '/fhir/Hacker/1') },
      { name: 'unknown type create', status: 404, run: () => t.fhir('POST', '/fhir/Hacker', { body: { resourceType: 'Hacker' } }) },
      { name: 'abstract type', status: 404, run: () => t.fhir('GET', '/fhir/DomainResource/1') },
      { name: '__proto__ key', status: 400, run: () => t.fhir('POST', '/fhir/Patient', { body: '{"resourceType":"Patient","__proto__":{"admin":true}}' }) },
      { name: 'constructor key', status: 400, run: () => t.fhir('POST', '/fhir/Patient', { body: '{"resourceType":"Patient","name":[{"constructor":{"prototype":1}}]}' }) },
      { name: 'deep nesting', status: 400, run: () => t.fhir('POST', '/fhir/Basic', { body: `{"resourceType":"Basic","x":${'['.repeat(200)}${']'.repeat(200)}}` }) },
      { name: 'invalid JSON', status: 400, run: () => t.fhir('POST', '/fhir/Patient', { body: '{"resourceType":"Patient","name":[{"family":"Ozymandias"' }) },
      { name: 'not an object', status: 400, run: () => t.fhir('POST', '/fhir/Patient', { body: '["Patient"]' }) },
      { name: 'type mismatch', status: 400, run: () => t.fhir('POST', '/fhir/Patient', { body: { resourceType: 'Observation' } }) },
      { name: 'xml body', status: 415, run: () => t.fhir('POST', '/fhir/Patient', { body: '<Patient/>', headers: { 'content-type': 'application/fhir+xml' } }) },
      { name: 'xml accept', status: 406, run: () => t.fhir('GET', '/fhir/Patient/x', { headers: { accept: 'application/fhir+xml' } }) },
      { name: 'xml _format', status: 406, run: () => t.fhir('GET', '/fhir/Patient/x?_format=xml') },
      { name: 'id too long', status: 404, run: () => t.fhir('GET', `/fhir/Patient/${'a'.repeat(65)}`) },
      { name: 'id bad chars', status: 404, run: () => t.fhir('GET', '/fhir/Patient/a_b') },
      { name: 'unknown search parameter', status: 400, run: () => t.fhir('GET', '/fhir/Patient?nickname=Ozymandias') },
      { name: 'bad search modifier', status: 400, run: () => t.fhir('GET', '/fhir/Patient?name:sounds-like=Ozymandias') },
      { name: 'bad date value', status: 400, run: () => t.fhir('GET', '/fhir/Patient?birthdate=Ozymandias') },
      { name: 'collection bundle to /fhir', status: 400, run: () => t.fhir('POST', '/fhir', { body: { resourceType: 'Bundle', type: 'collection' } }) },
      { name: 'patch not built', status: 501, run: () => t.fhir('PATCH', '/fhir/Patient/x', { body: [] }) },
      { name: 'no route', status: 404, run: () => t.fhir('GET', '/fhir/Patient/1/2/3/4') },
    ];
    for (const c of cases) {
      const res = await c.run();
      assert.equal(res.statusCode, c.status, c.name);
      assert.match(String(res.headers['content-type']), /application\/fhir\+json/, c.name);
      assert.ok(issues(res).length > 0, c.name);
      assert.ok(!res.body.includes('Ozymandias'), `${c.name} echoed a value`);
      assert.ok(!/at .*\.js:\d+/.test(res.body), `${c.name} leaked a stack trace`);
      assert.equal(res.headers['x-content-type-options'], 'nosniff', c.name);
    }
  });

  it('answers malformed URLs through the same handler: OperationOutcome, security headers, no echo', async () => {
    for (const url of [`/fhir/Patient/${'Ozymandias'.repeat(20)}`, '/fhir/Patient/%E0%A4%A', '/fhir/Patient/Ozymandias%zz']) {
      const res = await t.fhir('GET', url);
      assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${url}: ${res.statusCode}`);
      assert.ok(issues(res).length > 0, url);
      assert.equal(res.headers['cache-control'], 'no-store', url);
      assert.match(String(res.headers['x-request-id']), /^[0-9a-f-]{36}$/, url);
      assert.ok(!res.body.includes('Ozymandias'), `${url} echoed`);
    }
  });

  it('refuses a body over the configured limit with 413', async () => {
    const small = await startTestVigil({ env: { VIGIL_BODY_LIMIT: '2048' } });
    try {
      const res = await small.fhir('POST', '/fhir/Basic', { body: { resourceType: 'Basic', code: { text: 'x'.repeat(4096) } } });
      assert.equal(res.statusCode, 413);
      assert.equal(issues(res)[0]?.code, 'too-costly');
    } finally {
      await small.close();
    }
  });

  it('puts security headers on every response, errors included', async () => {
    for (const res of [await t.app.inject({ method: 'GET', url: '/fhir/metadata' }), await t.app.inject({ method: 'GET', url: '/nowhere' }), await t.fhir('GET', '/fhir/Patient/none')]) {
      assert.equal(res.headers['x-frame-options'], 'DENY');
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.match(String(res.headers['content-security-policy']), /default-src 'none'/);
      assert.equal(res.headers['referrer-policy'], 'no-referrer');
      assert.match(String(res.headers['x-request-id']), /^[0-9a-f-]{36}$/);
      assert.equal(res.headers['strict-transport-security'], undefined, 'no HSTS on plain loopback HTTP');
    }
  });
});

describe('SMART system scopes per type and interaction', () => {
  let t: TestVigil;
  before(async () => {
    t = await startTestVigil();
  });
  after(async () => {
    await t.close();
  });

  it('grants exactly what the scopes say, and nothing runs when refused', async () => {
    const id = String(json(await t.fhir('POST', '/fhir/Patient', { body: syntheticPatient('s1') }))['id']);
    const readOnly = await t.token('system/Patient.rs');
    assert.equal((await t.fhir('GET', `/fhir/Patient/${id}`, { token: readOnly })).statusCode, 200);
    assert.equal((await t.fhir('GET', '/fhir/Patient/_history', { token: readOnly })).statusCode, 200);
    const refusedCreate = await t.fhir('POST', '/fhir/Patient', { token: readOnly, body: syntheticPatient('s2') });
    assert.equal(refusedCreate.statusCode, 403);
    assert.match(String(refusedCreate.headers['www-authenticate']), /insufficient_scope/);
    assert.equal((await t.fhir('GET', '/fhir/Observation/any', { token: readOnly })).statusCode, 403);
    assert.equal((await t.fhir('DELETE', `/fhir/Patient/${id}`, { token: readOnly })).statusCode, 403);
    assert.equal((await t.fhir('GET', '/fhir/_history', { token: readOnly })).statusCode, 403, 'system history needs */rs');

    const updateOnly = await t.token('system/Patient.u');
    assert.equal((await t.fhir('PUT', `/fhir/Patient/${id}`, { token: updateOnly, body: { ...syntheticPatient('s1'), id } })).statusCode, 200);
    assert.equal((await t.fhir('PUT', '/fhir/Patient/new-by-put', { token: updateOnly, body: { ...syntheticPatient('s1'), id: 'new-by-put' } })).statusCode, 403);
    assert.equal((await t.fhir('GET', `/fhir/Patient/${id}`, { token: updateOnly })).statusCode, 403);

    const v1 = await t.token('system/Patient.read');
    assert.equal((await t.fhir('GET', `/fhir/Patient/${id}`, { token: v1 })).statusCode, 200);
    const restricted = await t.token('system/Patient.rs?identifier=x|y');
    assert.equal((await t.fhir('GET', `/fhir/Patient/${id}`, { token: restricted })).statusCode, 404, 'a restricted scope grants only what matches it');
    const matching = await t.token('system/Patient.rs?identifier=http://hospital.example/mrn|MRNs1');
    assert.equal((await t.fhir('GET', `/fhir/Patient/${id}`, { token: matching })).statusCode, 200, 'and what matches it, it grants');
    const userScope = await t.token('user/Patient.cruds');
    assert.equal((await t.fhir('GET', `/fhir/Patient/${id}`, { token: userScope })).statusCode, 403);

    // The refused writes changed nothing.
    const hist = json(await t.fhir('GET', `/fhir/Patient/${id}/_history`));
    assert.equal(hist['total'], 2);
    assert.equal((await t.fhir('GET', '/fhir/Patient/new-by-put')).statusCode, 404);
  });
});
