import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startTestVigil, syntheticPatient, type TestVigil } from '../testing/harness.js';

type Json = Record<string, any>;

describe('audit trail: every request recorded, with its write, without health data', () => {
  let t: TestVigil;
  let db: Database.Database;
  before(async () => {
    t = await startTestVigil();
    db = new Database(join(t.dir, 'vigil.db'), { readonly: true });
  });
  after(async () => {
    db.close();
    await t.close();
  });

  const entries = (): Json[] => (db.prepare('SELECT body FROM audit_events ORDER BY seq').all() as { body: string }[]).map((r) => JSON.parse(r.body) as Json);
  const last = (): Json => entries().at(-1) as Json;

  it('records a create in the same transaction as the version, naming the patient by id', async () => {
    const res = await t.fhir('POST', '/fhir/Patient', { body: syntheticPatient('AuditCreate') });
    const id = JSON.parse(res.body).id as string;
    const e = last();
    assert.equal(e['subtype'], 'create');
    assert.equal(e['action'], 'C');
    assert.equal(e['outcome'], '0');
    assert.equal(e['client'], 'test-client');
    assert.deepEqual(e['entities'], [`Patient/${id}/_history/1`]);
    assert.deepEqual(e['patients'], [id]);
    assert.equal(e['requestId'], res.headers['x-request-id']);
    // The version leaf and the audit leaf are adjacent: one transaction appended both.
    const leaves = db.prepare('SELECT kind FROM log_leaves ORDER BY position DESC LIMIT 2').all() as { kind: string }[];
    assert.deepEqual(leaves.map((l) => l.kind), ['audit', 'version']);
  });

  it('records reads, searches and history with every disclosed resource and its patient', async () => {
    const pid = JSON.parse((await t.fhir('POST', '/fhir/Patient', { body: syntheticPatient('AuditRead') })).body).id as string;
    const oid = JSON.parse(
      (await t.fhir('POST', '/fhir/Observation', { body: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${pid}` } } })).body,
    ).id as string;
    await t.fhir('GET', `/fhir/Observation/${oid}`);
    assert.deepEqual([last()['subtype'], last()['entities'], last()['patients']], ['read', [`Observation/${oid}`], [pid]]);
    await t.fhir('GET', `/fhir/Observation?subject=Patient/${pid}&_include=Observation:subject`);
    const search = last();
    assert.equal(search['subtype'], 'search-type');
    assert.deepEqual([...(search['entities'] as string[])].sort(), [`Observation/${oid}`, `Patient/${pid}`].sort());
    assert.deepEqual(search['queryParams'], ['_include', 'subject']);
    assert.ok(!JSON.stringify(search).includes(`Patient/${pid}&`), 'query values are not stored');
    await t.fhir('GET', `/fhir/Patient/${pid}/_history/1`);
    assert.deepEqual(last()['entities'], [`Patient/${pid}/_history/1`]);
  });

  it('records a delete with the patient it concerned, and client roles', async () => {
    const pid = JSON.parse((await t.fhir('POST', '/fhir/Patient', { body: syntheticPatient('AuditDelete') })).body).id as string;
    const oid = JSON.parse((await t.fhir('POST', '/fhir/Observation', { body: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${pid}` } } })).body).id as string;
    await t.fhir('DELETE', `/fhir/Observation/${oid}`, { token: await t.token('system/*.cruds', ['security-admin']) });
    assert.deepEqual([last()['subtype'], last()['entities'], last()['patients'], last()['roles']], ['delete', [`Observation/${oid}/_history/2`], [pid], ['security-admin']]);
  });

  it('records refusals and failures: no token, wrong scope, invalid resource, unknown id', async () => {
    const before = entries().length;
    await t.app.inject({ method: 'GET', url: '/fhir/Patient/x' });
    assert.deepEqual([last()['outcome'], last()['status'], last()['reason'], last()['client']], ['4', 401, 'ERR_UNAUTHENTICATED', undefined]);
    await t.fhir('GET', '/fhir/Observation/x', { token: await t.token('system/Patient.rs') });
    assert.deepEqual([last()['outcome'], last()['status'], last()['reason']], ['4', 403, 'ERR_SCOPE']);
    await t.fhir('POST', '/fhir/Patient', { body: { resourceType: 'Patient', name: [{ family: 'Quintavalle', given: 'x' }] } });
    assert.deepEqual([last()['subtype'], last()['outcome'], last()['reason']], ['create', '4', 'ERR_INVALID_RESOURCE']);
    await t.fhir('GET', '/fhir/Patient/never-there');
    assert.deepEqual([last()['subtype'], last()['status'], last()['entities'], last()['patients']], ['read', 404, ['Patient/never-there'], ['never-there']], 'an attempt names what it addressed');
    assert.equal(entries().length, before + 4);
  });

  it('records token grants, successful or refused', async () => {
    await t.app.inject({ method: 'POST', url: '/oauth2/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'grant_type=client_credentials&client_id=nobody&client_secret=x' });
    assert.deepEqual([last()['type'], last()['subtype'], last()['outcome'], last()['client']], ['security', 'token', '4', undefined]);
  });

  it('keeps names, identifiers and other values out of the trail', () => {
    const text = (db.prepare('SELECT group_concat(body) AS b FROM audit_events').get() as { b: string }).b;
    for (const needle of ['AuditCreate', 'AuditRead', 'Quintavalle', 'MRN', 'Family']) assert.ok(!text.includes(needle), needle);
  });

  it('is readable as BALP-shaped AuditEvents by security and privacy roles only, and searchable', async () => {
    const pid = JSON.parse((await t.fhir('POST', '/fhir/Patient', { body: syntheticPatient('AuditView') })).body).id as string;
    await t.fhir('GET', `/fhir/Patient/${pid}`);
    const officer = await t.token('system/AuditEvent.rs', ['privacy-officer']);
    assert.equal((await t.fhir('GET', '/fhir/AuditEvent', { token: await t.token('system/AuditEvent.rs') })).statusCode, 403, 'scope without role');
    assert.equal((await t.fhir('GET', '/fhir/AuditEvent', { token: await t.token('system/Patient.rs', ['privacy-officer']) })).statusCode, 403, 'role without scope');
    const res = await t.fhir('GET', `/fhir/AuditEvent?patient=Patient/${pid}`, { token: officer });
    assert.equal(res.statusCode, 200, res.body);
    const events = (JSON.parse(res.body).entry as Json[]).map((e) => e['resource'] as Json);
    assert.deepEqual(events.map((e) => e['subtype'][0].code), ['read', 'create'], 'newest first');
    const { validate } = await import('../fhir/index.js');
    for (const e of events) validate(e as never);
    const read = events[0] as Json;
    assert.equal(read['type'].code, 'rest');
    assert.equal(read['action'], 'R');
    assert.equal(read['outcome'], '0');
    assert.ok((read['entity'] as Json[]).some((x) => x['what'].reference === `Patient/${pid}` && x['role']?.code === '1'));
    assert.equal((read['agent'] as Json[])[0]?.['who'].identifier.value, 'test-client');
    const one = await t.fhir('GET', `/fhir/AuditEvent/${read['id'] as string}`, { token: officer });
    assert.equal(JSON.parse(one.body).id, read['id']);
    const refused = JSON.parse((await t.fhir('GET', '/fhir/AuditEvent?outcome=4&_count=1', { token: officer })).body);
    assert.equal((refused.entry as Json[]).length, 1);
    assert.equal(refused.entry[0].resource.outcome, '4');
    assert.ok((refused.link as Json[]).some((l) => l['relation'] === 'next'));
    const future = JSON.parse((await t.fhir('GET', '/fhir/AuditEvent?date=ge2999-01-01', { token: officer })).body);
    assert.equal(future.entry.length, 0);
    assert.equal((await t.fhir('GET', '/fhir/AuditEvent?name=x', { token: officer })).statusCode, 400);
  });

  it('cannot be created, changed or deleted through the API', async () => {
    const event = { resourceType: 'AuditEvent', type: { code: 'rest' }, recorded: '2024-01-01T00:00:00Z', agent: [{ requestor: true }], source: { observer: { display: 'x' } } };
    assert.equal((await t.fhir('POST', '/fhir/AuditEvent', { body: event })).statusCode, 405);
    assert.equal((await t.fhir('PUT', '/fhir/AuditEvent/1', { body: { ...event, id: '1' } })).statusCode, 405);
    assert.equal((await t.fhir('DELETE', '/fhir/AuditEvent/1')).statusCode, 405);
    const tx = await t.fhir('POST', '/fhir', { body: { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: event, request: { method: 'POST', url: 'AuditEvent' } }] } });
    assert.equal(tx.statusCode, 405);
  });

  it('cannot be edited or deleted through SQL triggers', async () => {
    const raw = new Database(join(t.dir, 'vigil.db'));
    try {
      assert.throws(() => raw.prepare("UPDATE audit_events SET outcome = '0'").run(), /immutable/);
      assert.throws(() => raw.prepare('DELETE FROM audit_events').run(), /immutable/);
      assert.throws(() => raw.prepare('DELETE FROM log_leaves').run(), /append-only/);
      assert.throws(() => raw.prepare('UPDATE log_leaves SET hash = x\'00\'').run(), /append-only/);
    } finally {
      raw.close();
    }
  });
});
