import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { runScan, type ScanResult } from './scanner.js';
import { atLeast } from './types.js';
import { startTestVigil, syntheticPatient, type TestVigil } from '../testing/harness.js';

const REDIRECT = 'https://app.example/callback';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/**
 * Vigil scanned by its own scanner, with default settings, over a real socket: two patient users
 * (B with a narrowed scope), a public app for the authorize probes and an expired token.
 */
describe('vigil scan of Vigil itself', () => {
  let t: TestVigil;
  let result: ScanResult;
  let offsetMs = 0;
  let tokenB = '';
  before(async () => {
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    t = await startTestVigil({ env: { VIGIL_PUBLIC_URL: publicUrl }, now: () => new Date(Date.now() + offsetMs) });
    for (const id of ['scan-a', 'scan-b', 'scan-c']) {
      const put = await t.fhir('PUT', `/fhir/Patient/${id}`, { body: { ...syntheticPatient(id.toUpperCase()), id } });
      assert.ok(put.statusCode < 300, put.body);
      for (let i = 0; i < 3; i++) {
        const obs = await t.fhir('POST', '/fhir/Observation', { body: { resourceType: 'Observation', status: 'final', code: { text: 'Heart rate' }, subject: { reference: `Patient/${id}` }, valueQuantity: { value: 70 + i } } });
        assert.equal(obs.statusCode, 201, obs.body);
      }
      const condition = await t.fhir('POST', '/fhir/Condition', { body: { resourceType: 'Condition', code: { text: 'Asthma' }, subject: { reference: `Patient/${id}` } } });
      assert.equal(condition.statusCode, 201, condition.body);
    }
    const app = await t.vigil.clients.create({ name: 'scan app', scopes: 'openid fhirUser launch/patient patient/*.rs', roles: [], grants: ['authorization_code'], redirectUris: [REDIRECT], public: true });
    const a = await t.user({ roles: ['patient'], fhirUser: 'Patient/scan-a', scope: 'patient/*.rs' });
    // B's token is narrowed: it may read its Patient and Observations, not its Conditions.
    const b = await t.user({ roles: ['patient'], fhirUser: 'Patient/scan-b', scope: 'patient/Patient.rs patient/Observation.rs' });
    tokenB = b.token;
    offsetMs = -2 * 3600_000; // a token issued two hours ago has expired (default lifetime five minutes)
    const expired = await t.user({ roles: ['patient'], fhirUser: 'Patient/scan-a', scope: 'patient/*.rs' });
    offsetMs = 0;
    await t.app.listen({ port, host: '127.0.0.1' });
    result = await runScan({
      target: `${publicUrl}/fhir`,
      identity: { token: a.token },
      second: { token: b.token },
      expiredToken: expired.token,
      authorizeClientId: app.clientId,
      redirectUri: REDIRECT,
      rate: 200,
    });
  });
  after(async () => {
    await t.close();
  });

  it('finds no high or critical finding', (ctx) => {
    for (const f of result.findings) ctx.diagnostic(`${f.severity} ${f.id}: ${f.title} | ${f.evidence.replaceAll('\n', ' ⏎ ')}`);
    const serious = result.findings.filter((f) => atLeast(f.severity, 'high'));
    assert.deepEqual(serious.map((f) => `${f.id}\n${f.evidence}`), []);
    assert.deepEqual(result.errors, []);
    assert.deepEqual(result.refused, []);
  });

  it('actually ran the two-identity and authorize probes', () => {
    const ids = result.findings.map((f) => f.id);
    assert.ok(!ids.includes('bola-untested'), 'B had records A does not hold');
    assert.ok(!ids.includes('authorize-untested'), 'the control authorize request went through');
    assert.ok(result.requests > 40, `${result.requests} requests`);
  });

  it('gave the BOLA probes something to find: B sees its own records, with a next page', async () => {
    const own = await t.fhir('GET', '/fhir/Observation?patient=scan-b&_count=1', { token: tokenB });
    const bundle = JSON.parse(own.body) as { entry?: unknown[]; link?: { relation: string }[] };
    assert.equal(bundle.entry?.length, 1);
    assert.ok(bundle.link?.some((l) => l.relation === 'next'));
  });
});
