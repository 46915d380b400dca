import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runScan, type ScanInput } from './scanner.js';
import { ScanClient } from './http-client.js';
import { transportCheck } from './checks/transport.js';
import { fhirMetadataCheck } from './checks/fhir-metadata.js';
import { startVulnerableTarget, type VulnerableTarget } from './testing/vulnerable-target.js';

/** Every flaw planted in the target, by the id of the finding that must name it. */
const PLANTED = [
  'plain-http', 'tls-cert-self-signed', 'tls-cert-hostname', 'tls-cert-expiring', 'tls-legacy-version', 'hsts-missing',
  'missing-security-headers', 'version-banner', 'cacheable-phi', 'cors-reflected-origin', 'cors-wildcard-credentials',
  'verbose-errors', 'directory-listing', 'trace-enabled', 'needless-methods', 'metadata-no-security', 'metadata-software-version',
  'smart-config-invalid', 'pkce-plain-advertised', 'implicit-grant', 'pkce-not-required', 'pkce-plain-accepted', 'aud-not-checked',
  'token-lifetime-long', 'token-no-audience', 'expired-token-accepted', 'anonymous-search', 'anonymous-read',
  'bola-read', 'bola-search', 'bola-include', 'bola-paging', 'scope-not-enforced', 'count-uncapped', 'unknown-params-ignored',
  'sql-error', 'reflected-input',
];
/** Values of the target's patients that must never appear in a report. */
const PHI = ['Okafor', 'Lindqvist', '1961-04-12', '555-201-7788', '0099123'];
const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'cli', 'main.js');

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('vigil scan against a deliberately vulnerable target', () => {
  let dir: string;
  let target: VulnerableTarget | undefined;
  let input: ScanInput;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-scan-'));
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=wrong.example',
      '-addext', 'subjectAltName=DNS:wrong.example', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { encoding: 'utf8' });
    if (made.status !== 0) return;
    target = await startVulnerableTarget({ tls: { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') } });
    input = {
      target: target.base,
      identity: { token: target.tokens.a },
      second: { clientId: 'svc-b', clientSecret: 'secret-b' },
      expiredToken: target.tokens.expired,
      authorizeClientId: 'app',
      redirectUri: 'https://app.example/cb',
      httpPort: target.httpPort,
      rate: 500,
    };
  });
  after(async () => {
    await target?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds every planted flaw, with PHI masked in the evidence', async (t) => {
    if (target === undefined) return t.skip('openssl is not installed');
    const result = await runScan(input);
    const ids = result.findings.map((f) => f.id);
    for (const id of PLANTED) assert.ok(ids.includes(id), `${id} was not found; found: ${ids.join(', ')}`);
    assert.deepEqual(result.errors, []);
    assert.deepEqual(result.refused, [], 'everything the target pointed to was on its own host');
    assert.ok(result.requests < 150, `a bounded number of requests (${result.requests})`);
    const text = JSON.stringify(result.findings);
    for (const leak of [...PHI, target.tokens.a, 'secret-b']) assert.ok(!text.includes(leak), `${leak} leaked into the report`);
    for (const f of result.findings) {
      assert.ok(f.evidence.length > 0 && f.fix.length > 0 && f.mappings.length > 0, `${f.id} has evidence, a fix and mappings`);
      assert.ok(f.mappings.every((m) => /^(OWASP-API\d+|HIPAA-164\.3\d\d\(.+\))$/.test(m)), `${f.id} mappings: ${f.mappings.join(', ')}`);
    }
    assert.equal(result.findings.find((f) => f.id === 'implicit-grant')?.severity, 'high', 'the probe that got a token outranks the advertisement');
  });

  it('flags an expired certificate once the clock passes its end', async (t) => {
    if (target === undefined) return t.skip('openssl is not installed');
    const result = await runScan({ ...input, checks: [transportCheck], now: () => new Date(Date.now() + 3 * 86_400_000) });
    assert.ok(result.findings.some((f) => f.id === 'tls-cert-expired' && f.severity === 'high'));
  });

  it('flags a server without discoverable SMART', async () => {
    const bare = await startVulnerableTarget({ smart: false });
    try {
      const result = await runScan({ target: bare.base, rate: 500, checks: [fhirMetadataCheck] });
      assert.deepEqual(result.findings.map((f) => f.id).sort(), ['metadata-no-security', 'metadata-no-smart', 'metadata-software-version']);
    } finally {
      await bare.close();
    }
  });

  it('refuses hosts it was not given and follows no redirect', async (t) => {
    if (target === undefined) return t.skip('openssl is not installed');
    const client = new ScanClient({ hosts: ['127.0.0.1'], perSecond: 100 });
    const other = await client.request('GET', target.base.replace('127.0.0.1', 'localhost') + '/metadata');
    assert.equal(other.error, 'out-of-scope');
    assert.equal(client.sent, 0, 'nothing was sent to the other host');
    const redirect = await client.request('GET', `${target.base}/authorize?client_id=app&redirect_uri=${encodeURIComponent('https://app.example/cb')}`);
    assert.equal(redirect.status, 302, 'the redirect is reported, not followed');
    assert.deepEqual(client.refused, [target.base.replace('127.0.0.1', 'localhost') + '/metadata']);
  });

  it('vigil scan: JSON, SARIF and HTML reports and exit codes', async (t) => {
    if (target === undefined) return t.skip('openssl is not installed');
    const sarif = join(dir, 'scan.sarif');
    const html = join(dir, 'scan.html');
    const args = ['scan', target.base, '--token', target.tokens.a, '--second-identity', 'client:svc-b:secret-b', '--redirect-uri', 'https://app.example/cb', '--auth-client-id', 'app', '--rate', '50', '--http-port', String(target.httpPort)];
    const run = await runCli([...args, '--json', '--sarif', sarif, '--html', html]);
    assert.equal(run.code, 1, run.stderr);
    const report = JSON.parse(run.stdout) as { target: string; findings: Record<string, unknown>[] };
    assert.deepEqual(Object.keys(report), ['target', 'findings']);
    assert.equal(report.target, target.base);
    for (const f of report.findings) assert.deepEqual(Object.keys(f), ['id', 'title', 'severity', 'category', 'evidence', 'fix', 'mappings']);
    const s = JSON.parse(readFileSync(sarif, 'utf8')) as { version: string; runs: { results: { ruleId: string; level: string }[]; tool: { driver: { rules: unknown[] } } }[] };
    assert.equal(s.version, '2.1.0');
    assert.equal(s.runs[0]?.results.length, report.findings.length);
    assert.ok(s.runs[0]?.results.some((r) => r.ruleId === 'bola-read' && r.level === 'error'));
    const page = readFileSync(html, 'utf8');
    assert.match(page, /<style>/);
    assert.doesNotMatch(page, /<script|<b>vsp|src=|href="http/i, 'no script, no reflected markup, nothing loaded from elsewhere');
    for (const leak of PHI) assert.ok(!page.includes(leak), `${leak} is not in the HTML report`);
    const human = await runCli([...args, '--fail-on', 'critical']);
    assert.equal(human.code, 1, 'critical findings exist');
    assert.match(human.stdout, /SEVERITY\s+ID\s+CATEGORY\s+TITLE/);
    assert.match(human.stdout, /CRITICAL\s+bola-read/);
  });

  it('vigil scan: bad usage exits 2', async () => {
    for (const bad of [['scan'], ['scan', 'http://127.0.0.1:9/fhir', '--fail-on', 'bogus'], ['scan', 'http://127.0.0.1:9/fhir', '--rate', '0'], ['scan', 'not a url'],
      ['scan', 'http://127.0.0.1:9/fhir', '--token', 't', '--client-id', 'c', '--client-secret', 's'], ['scan', 'http://127.0.0.1:9/fhir', '--no-such-flag']]) {
      const run = await runCli(bad);
      assert.equal(run.code, 2, `${bad.join(' ')}: ${run.stderr}`);
    }
  });
});
