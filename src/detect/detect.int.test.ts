import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { startTestVigil, type TestVigil } from '../testing/harness.js';
import { plantHoneytokens, signature, type Alert } from './index.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const SECRET = 'a-webhook-secret-of-at-least-32-characters';

/** Detection under attack: each rule fires on its attack, answers as configured, and tells the receivers. */
describe('detection', () => {
  let t: TestVigil;
  let admin: string;
  let webhook: Server;
  let syslog: TcpServer;
  const posts: { body: string; headers: Record<string, string | string[] | undefined> }[] = [];
  const syslogData: string[] = [];
  const ids: Record<string, string> = {};

  const create = async (key: string, body: Json): Promise<string> => {
    const res = await t.fhir('POST', `/fhir/${String(body['resourceType'])}`, { token: admin, body });
    assert.equal(res.statusCode, 201, res.body);
    ids[key] = String((JSON.parse(res.body) as Json)['id']);
    return ids[key];
  };
  const alertsOf = async (rule: string): Promise<Alert[]> => {
    await t.vigil.detection.engine.drain();
    return (await t.vigil.detection.alerts.list()).filter((a) => a.rule === rule);
  };
  const adminApi = (method: 'GET' | 'POST', url: string, token: string, payload?: unknown) =>
    t.app.inject({ method, url, headers: { authorization: `Bearer ${token}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) }, ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }) });

  before(async () => {
    webhook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        posts.push({ body, headers: req.headers });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => webhook.listen(0, '127.0.0.1', r));
    syslog = createTcpServer((socket) => socket.on('data', (d: Buffer) => syslogData.push(d.toString())));
    await new Promise<void>((r) => syslog.listen(0, '127.0.0.1', r));
    t = await startTestVigil({
      env: {
        VIGIL_ALERT_WEBHOOK: `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/alerts`,
        VIGIL_ALERT_WEBHOOK_SECRET: SECRET,
        VIGIL_ALERT_SYSLOG: `tcp://127.0.0.1:${(syslog.address() as AddressInfo).port}`,
        VIGIL_TOKEN_RATE_LIMIT: '10000',
      },
    });
    admin = await t.token('system/*.cruds', ['security-admin', 'label:*']);
    await create('drA', { resourceType: 'Practitioner', name: [{ family: 'Ortega', given: ['Lena'] }], birthDate: '1980-02-03', address: [{ line: ['7 Quarry Lane'], postalCode: '12345' }] });
    await create('self', { resourceType: 'Patient', name: [{ family: 'Ortega', given: ['Lena'] }], birthDate: '1980-02-03' });
    await create('cousin', { resourceType: 'Patient', name: [{ family: 'Ortega', given: ['Marco'] }], birthDate: '1990-01-01' });
    await create('vip', { resourceType: 'Patient', meta: { tag: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-PatientImportance', code: 'VIP' }] }, name: [{ family: 'Famous' }] });
    await create('plain', { resourceType: 'Patient', name: [{ family: 'Quiet' }], identifier: [{ system: 'http://hl7.org/fhir/sid/us-ssn', value: '999-11-2222' }] });
    await create('booked', { resourceType: 'Patient', name: [{ family: 'Booked' }] });
    await create('appt', { resourceType: 'Appointment', status: 'booked', start: new Date().toISOString(), end: new Date(Date.now() + 1800_000).toISOString(), participant: [{ actor: { reference: `Patient/${ids['booked'] ?? ''}` }, status: 'accepted' }] });
    await t.vigil.detection.engine.drain();
  });
  after(async () => {
    await t.close();
    webhook.close();
    syslog.close();
  });

  it('answers a ransomware-like burst with read-only mode: writes 503, reads go on, until an admin lifts it', async () => {
    const writer = await t.token('system/Observation.cruds');
    const obs: string[] = [];
    for (let i = 0; i < 30; i++) obs.push(await create(`o${i}`, { resourceType: 'Observation', status: 'final', code: { text: 'note' }, subject: { reference: `Patient/${ids['plain'] ?? ''}` } }));
    for (const id of obs) {
      const res = await t.fhir('PUT', `/fhir/Observation/${id}`, { token: writer, body: { resourceType: 'Observation', id, status: 'amended', code: { text: 'x' } } });
      assert.equal(res.statusCode, 200);
    }
    const [alert] = await alertsOf('ransomware-burst');
    assert.equal(alert?.severity, 'critical');
    assert.ok((alert?.evidence.length ?? 0) >= 30);
    const mode = JSON.parse((await adminApi('GET', '/admin/mode', admin)).body) as Json;
    assert.equal(mode['mode'], 'read-only');
    const refused = await t.fhir('POST', '/fhir/Observation', { token: admin, body: { resourceType: 'Observation', status: 'final', code: { text: 'y' } } });
    assert.equal(refused.statusCode, 503);
    assert.equal((JSON.parse(refused.body) as Json)['issue'][0]['diagnostics'], 'ERR_READ_ONLY_MODE');
    assert.equal((await t.fhir('GET', `/fhir/Observation/${obs[0] ?? ''}`, { token: admin })).statusCode, 200, 'reads go on');
    const search = await t.fhir('POST', '/fhir/Observation/_search', { token: admin, body: 'status=amended', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(search.statusCode, 200, 'a search by POST is a read');
    const trail = (await t.vigil.store.searchAudit({ tenant: t.config.tenant, limit: 5000 })).map((r) => JSON.parse(r.body) as Json);
    assert.ok(trail.some((b) => b['subtype'] === 'detect-read-only'), 'the response is audited');
    assert.equal((await adminApi('POST', '/admin/mode', await t.token('system/*.rs', ['privacy-officer']), { mode: 'read-write', reason: 'x' })).statusCode, 403, 'only a security admin lifts it');
    assert.equal((await adminApi('POST', '/admin/mode', admin, { mode: 'read-write', reason: 'restored after review' })).statusCode, 200);
    assert.equal((await t.fhir('POST', '/fhir/Observation', { token: admin, body: { resourceType: 'Observation', status: 'final', code: { text: 'y' } } })).statusCode, 201);
    // Confirmed: the next burst by the same principal raises a new alert instead of adding to this one.
    assert.equal((await adminApi('POST', `/admin/alerts/${alert?.id ?? ''}`, admin, { status: 'confirmed', reason: 'drill' })).statusCode, 200);
  });

  it('catches high-entropy text written over clinical notes', async () => {
    const writer = await t.token('system/Observation.cruds');
    const noise = (): string => Buffer.from(Array.from({ length: 300 }, () => Math.floor(Math.random() * 256))).toString('base64');
    const before = (await alertsOf('ransomware-burst')).length;
    for (let i = 0; i < 3; i++) {
      const id = ids[`o${i}`] ?? '';
      await t.fhir('PUT', `/fhir/Observation/${id}`, { token: writer, body: { resourceType: 'Observation', id, status: 'amended', code: { text: 'x' }, valueString: noise() } });
    }
    const after = await alertsOf('ransomware-burst');
    assert.ok(after.length > before && after.some((a) => a.explanation.includes('high-entropy')));
    await adminApi('POST', '/admin/mode', admin, { mode: 'read-write', reason: 'test reset' });
  });

  it('locks whoever touches a honeytoken, and ends their tokens', async () => {
    const decoys = await plantHoneytokens(t.vigil.repository, t.vigil.records, 2, () => ({ type: 'rest', subtype: 'create', action: 'C', entities: [], patients: [], client: 'vigil-cli' }));
    t.vigil.detection.facts.clear();
    const desk = await t.user({ roles: ['front-desk'] });
    assert.equal((await t.fhir('GET', `/fhir/Patient/${decoys[0] ?? ''}`, { token: desk.token })).statusCode, 200);
    const [alert] = await alertsOf('honeytoken');
    assert.equal(alert?.severity, 'critical');
    assert.equal(alert?.principal, `user/${desk.userId}`);
    assert.equal(alert?.patient, decoys[0]);
    assert.equal((await t.fhir('GET', `/fhir/Patient/${ids['plain'] ?? ''}`, { token: desk.token })).statusCode, 401, 'locked: the token stopped');
    assert.equal((await t.vigil.users.get(desk.userId))?.disabled, true);
    // Nothing in the stored trail marks the decoys as decoys.
    const trail = (await t.vigil.store.searchAudit({ tenant: t.config.tenant, limit: 5000 })).map((r) => r.body).join('\n');
    assert.ok(!trail.includes('honeytoken-plant'));
  });

  it('flags staff looking at their own record, a relative’s, a VIP’s, or a patient nothing explains', async () => {
    const desk = await t.user({ roles: ['front-desk'], fhirUser: `Practitioner/${ids['drA'] ?? ''}` });
    for (const key of ['self', 'cousin', 'vip', 'booked', 'plain']) assert.equal((await t.fhir('GET', `/fhir/Patient/${ids[key] ?? ''}`, { token: desk.token })).statusCode, 200);
    assert.deepEqual((await alertsOf('self-access')).map((a) => a.patient), [ids['self']]);
    assert.deepEqual((await alertsOf('family-access')).map((a) => a.patient), [ids['cousin']]);
    assert.deepEqual((await alertsOf('vip-access')).map((a) => a.patient), [ids['vip']]);
    const unexplained = (await alertsOf('unexplained-access')).map((a) => a.patient);
    assert.ok(unexplained.includes(ids['plain']), 'no appointment, encounter, claim or account');
    assert.ok(!unexplained.includes(ids['booked']), 'an appointment today explains it');
  });

  it('notices probing, scraping, identity theft, brute force and a disabled user', async () => {
    const alice = await t.user({ roles: ['patient'], fhirUser: `Patient/${ids['plain'] ?? ''}`, scope: 'patient/*.rs' });
    for (let i = 0; i < 8; i++) await t.fhir('GET', `/fhir/Patient/${ids[i % 2 === 0 ? 'vip' : 'booked'] ?? ''}-x${i}`, { token: alice.token });
    assert.equal((await alertsOf('repeated-denials'))[0]?.principal, `user/${alice.userId}`);

    const scraper = await t.token('system/Patient.rs');
    for (let i = 0; i < 42; i++) await create(`bulk${i}`, { resourceType: 'Patient', name: [{ family: `Bulk${i}` }] });
    for (let i = 0; i < 42; i++) await t.fhir('GET', `/fhir/Patient/${ids[`bulk${i}`] ?? ''}`, { token: scraper });
    assert.equal((await alertsOf('bulk-access')).length, 1);

    await create('twin', { resourceType: 'Patient', name: [{ family: 'Other' }], identifier: [{ system: 'http://hl7.org/fhir/sid/us-ssn', value: '999-11-2222' }] });
    assert.equal((await alertsOf('identity-theft'))[0]?.patient, ids['twin']);

    const failures = [];
    for (let i = 0; i < 10; i++) {
      failures.push(t.app.inject({ method: 'POST', url: '/oauth2/token', headers: { authorization: `Basic ${Buffer.from(`nobody:guess${i}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'grant_type=client_credentials' }));
    }
    for (const res of await Promise.all(failures)) assert.equal(res.statusCode, 401);
    assert.match((await alertsOf('brute-force'))[0]?.principal ?? '', /^address\//);

    const gone = await t.user({ roles: ['clinician'], fhirUser: `Practitioner/${ids['drA'] ?? ''}` });
    await t.vigil.users.disable((await t.vigil.users.get(gone.userId))?.username ?? '');
    assert.equal((await t.fhir('GET', `/fhir/Patient/${ids['plain'] ?? ''}`, { token: gone.token })).statusCode, 401);
    assert.ok((await alertsOf('disabled-principal')).some((a) => a.principal === `user/${gone.userId}`));

    // A client disabled (here by hand; detection's lock does the same) loses its live tokens at once.
    const integration = await t.vigil.clients.create({ name: 'interface engine', scopes: 'system/Patient.rs', roles: [] });
    const issued = await t.app.inject({ method: 'POST', url: '/oauth2/token', headers: { authorization: `Basic ${Buffer.from(`${integration.clientId}:${integration.clientSecret ?? ''}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'grant_type=client_credentials' });
    const clientToken = String((JSON.parse(issued.body) as Json)['access_token']);
    assert.equal((await t.fhir('GET', `/fhir/Patient/${ids['plain'] ?? ''}`, { token: clientToken })).statusCode, 200);
    await t.vigil.clients.disable(integration.clientId);
    assert.equal((await t.fhir('GET', `/fhir/Patient/${ids['plain'] ?? ''}`, { token: clientToken })).statusCode, 401);
    assert.ok((await alertsOf('disabled-principal')).some((a) => a.principal === `client/${integration.clientId}`));
  });

  it('lists and triages alerts for security roles only, and signs what it sends', async () => {
    assert.equal((await t.app.inject({ method: 'GET', url: '/admin/alerts' })).statusCode, 401);
    const doctor = await t.user({ roles: ['clinician'], fhirUser: `Practitioner/${ids['drA'] ?? ''}` });
    assert.equal((await adminApi('GET', '/admin/alerts', doctor.token)).statusCode, 403);
    const officer = await t.token('system/*.rs', ['privacy-officer']);
    const listed = JSON.parse((await adminApi('GET', '/admin/alerts?status=open', officer)).body) as { alerts: Json[] };
    assert.ok(listed.alerts.length >= 8);
    const first = listed.alerts[0] ?? {};
    for (const field of ['id', 'rule', 'severity', 'status', 'principal', 'evidence', 'explanation', 'createdAt']) assert.ok(field in first, field);
    assert.equal((await adminApi('GET', '/admin/alerts?since=not-a-date', officer)).statusCode, 400);
    assert.equal((await adminApi('POST', `/admin/alerts/${String(first['id'])}`, officer, { status: 'dismissed' })).statusCode, 400, 'a dismissal needs a reason');
    const triaged = JSON.parse((await adminApi('POST', `/admin/alerts/${String(first['id'])}`, officer, { status: 'dismissed', reason: 'test traffic' })).body) as Json;
    assert.equal(triaged['status'], 'dismissed');
    const future = new Date(Date.now() + 60_000).toISOString();
    assert.deepEqual((JSON.parse((await adminApi('GET', `/admin/alerts?since=${future}`, officer)).body) as { alerts: unknown[] }).alerts, []);
    // Notifications: a webhook signed with HMAC-SHA256, and syslog.
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(posts.length >= 8);
    for (const p of posts) {
      const ts = String(p.headers['x-vigil-timestamp']);
      assert.equal(p.headers['x-vigil-signature'], signature(SECRET, ts, p.body));
    }
    assert.ok(syslogData.join('').includes('[alert@32473'));
    assert.ok(!posts.map((p) => p.body).join('').includes('Ortega'), 'no names in notifications');
  });
});
