import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { syntheticPatient } from '../testing/harness.js';
import { cleanEnv, serve as serveWith, stop, tokenFor, type Served } from '../testing/serve.js';

/** The repository root: the nearest folder above this file with a package.json. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}

const ROOT = repoRoot();
const BIN = join(ROOT, 'bin', 'vigil.js');
const env = cleanEnv;

function cli(args: string[], extraEnv: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { env: env(extraEnv), encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

type Server = Served;
const serve = (dataDir: string, extraEnv: Record<string, string> = {}): Promise<Served> => serveWith(BIN, dataDir, extraEnv);

async function until(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

describe('vigil serve over a real socket, with the CLI working beside it', () => {
  let dir: string;
  let server: Server;
  let token: string;
  const fhir = (path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${server.base}/fhir${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json', ...init.headers } });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-'));
    server = await serve(dir);
    token = await tokenFor(server.base, dir);
  });
  after(async () => {
    if (server.child.exitCode === null) await stop(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it('announces the bootstrap file by path and never prints the secret', () => {
    const admin = JSON.parse(readFileSync(join(dir, 'bootstrap-admin.json'), 'utf8')) as { client_secret: string };
    const announced = server.lines.map((l) => JSON.parse(l) as { path?: string }).find((l) => l.path !== undefined);
    assert.equal(announced?.path, join(dir, 'bootstrap-admin.json'));
    assert.ok(!server.lines.join('\n').includes(admin.client_secret));
  });

  it('serves FHIR over HTTP: 401 without a token, create and read with one', async () => {
    const health = await fetch(`${server.base}/healthz`);
    assert.equal(health.status, 200);
    const anon = await fetch(`${server.base}/fhir/Patient/x`);
    assert.equal(anon.status, 401);
    assert.equal(((await anon.json()) as { resourceType: string }).resourceType, 'OperationOutcome');
    const meta = await fetch(`${server.base}/fhir/metadata`);
    assert.equal(meta.status, 200);
    const created = await fhir('/Patient', { method: 'POST', body: JSON.stringify(syntheticPatient('e2e')) });
    assert.equal(created.status, 201);
    const location = created.headers.get('location') ?? '';
    assert.ok(location.startsWith(`${server.base}/fhir/Patient/`));
    const id = ((await created.json()) as { id: string }).id;
    const read = await fhir(`/Patient/${id}`);
    assert.equal(read.status, 200);
    assert.equal(read.headers.get('etag'), 'W/"1"');
    assert.equal(((await read.json()) as { name: { family: string }[] }).name[0]?.family, 'Familye2e');
  });

  it('answers malformed HTTP on the raw socket with an OperationOutcome, security headers and no echo', async () => {
    const { connect } = await import('node:net');
    const url = new URL(server.base);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write(Buffer.concat([Buffer.from('GET /fhir/Patient?name='), Buffer.from('Zyxwöv\u0001', 'utf8'), Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n')]));
      });
      let data = '';
      socket.on('data', (d) => (data += d.toString('utf8')));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    assert.match(raw, /^HTTP\/1\.1 400 /);
    assert.match(raw, /x-content-type-options: nosniff/i);
    assert.match(raw, /"resourceType":"OperationOutcome"/);
    assert.ok(!raw.includes('Zyxw'));
  });

  it('rotates the data key while serving: new writes use it, rewrap re-encrypts the old ones, all stay readable', async () => {
    const before: string[] = [];
    for (let i = 0; i < 30; i++) {
      const res = await fhir('/Patient', { method: 'POST', body: JSON.stringify(syntheticPatient(`r${i}`)) });
      before.push(((await res.json()) as { id: string }).id);
    }
    const rotated = cli(['keys', 'rotate', '--data', dir, '--json']);
    assert.equal(rotated.status, 0, rotated.stderr);
    assert.deepEqual(JSON.parse(rotated.stdout), { dataKeyVersion: 2 });

    const db = new Database(join(dir, 'vigil.db'), { readonly: true });
    try {
      const keyOf = (id: string): number => (db.prepare('SELECT key_version FROM resource_versions WHERE id = ?').get(id) as { key_version: number }).key_version;
      const sawNewKey = await until(async () => {
        const res = await fhir('/Patient', { method: 'POST', body: JSON.stringify(syntheticPatient('after')) });
        return keyOf(((await res.json()) as { id: string }).id) === 2;
      }, 10_000);
      assert.ok(sawNewKey, 'the running server writes with the new key within seconds');

      const rewrap = cli(['keys', 'rewrap', '--data', dir, '--json']);
      assert.equal(rewrap.status, 0, rewrap.stderr);
      const result = JSON.parse(rewrap.stdout) as { keyVersion: number; rewrapped: number; remaining: number };
      assert.equal(result.keyVersion, 2);
      assert.ok(result.rewrapped >= 31, `rewrapped ${result.rewrapped}`);
      assert.equal(result.remaining, 0);
      assert.match(rewrap.stderr, /rewrap/, 'progress is shown on stderr');
      for (const id of before) assert.equal(keyOf(id), 2);
    } finally {
      db.close();
    }
    for (const id of before) assert.equal((await fhir(`/Patient/${id}`)).status, 200);
    const audited = new Database(join(dir, 'vigil.db'), { readonly: true });
    try {
      const events = (audited.prepare("SELECT subtype FROM audit_events WHERE subtype LIKE 'data-key-%' ORDER BY seq").all() as { subtype: string }[]).map((r) => r.subtype);
      assert.deepEqual(events, ['data-key-rotate', 'data-key-rewrap'], 'key operations are audited');
    } finally {
      audited.close();
    }
    const list = cli(['keys', 'list', '--data', dir, '--json']);
    assert.equal(list.status, 0, list.stderr);
    const keys = JSON.parse(list.stdout) as { currentDataKey: number; versionsUnderOlderKeys: number; dataKeys: unknown[] };
    assert.equal(keys.currentDataKey, 2);
    assert.equal(keys.versionsUnderOlderKeys, 0);
    assert.equal(keys.dataKeys.length, 2);
  });

  it('rotates the signing key while serving: old tokens keep working, new ones use the new key', async () => {
    const rotated = cli(['keys', 'rotate', '--signing', '--data', dir, '--json']);
    assert.equal(rotated.status, 0, rotated.stderr);
    const kid = (JSON.parse(rotated.stdout) as { signingKey: string }).signingKey;
    const published = await until(async () => {
      const jwks = (await (await fetch(`${server.base}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
      return jwks.keys.some((k) => k.kid === kid);
    }, 10_000);
    assert.ok(published);
    assert.equal((await fhir('/Patient/_history?_count=1')).status, 200, 'a token signed by the old key still verifies');
    const fresh = await tokenFor(server.base, dir);
    const header = JSON.parse(Buffer.from(fresh.split('.')[0] ?? '', 'base64url').toString()) as { kid: string };
    assert.equal(header.kid, kid);
  });

  it('stops cleanly on SIGTERM', async () => {
    assert.equal(await stop(server), 0);
  });
});

describe('vigil command line', () => {
  it('prints help naming its commands', () => {
    const help = cli(['--help']);
    assert.equal(help.status, 0);
    for (const command of ['serve', 'keys']) assert.match(help.stdout, new RegExp(`\\b${command}\\b`));
    const keys = cli(['keys', '--help']);
    for (const sub of ['list', 'rotate', 'rewrap']) assert.match(keys.stdout, new RegExp(`\\b${sub}\\b`));
  });

  it('refuses to serve plain HTTP on a non-loopback address, and unknown settings, listing every problem', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-cli-'));
    try {
      const r = cli(['serve', '--host', '0.0.0.0', '--data', dir], { VIGIL_FROBNICATE: '1', VIGIL_MASTER_KEY: 'short' });
      assert.equal(r.status, 2);
      assert.match(r.stderr, /0\.0\.0\.0 is not loopback/);
      assert.match(r.stderr, /VIGIL_FROBNICATE is not a known setting/);
      assert.match(r.stderr, /VIGIL_MASTER_KEY must be 32 random bytes/);
      assert.ok(!r.stderr.includes('short'), 'the key value is not echoed');
      assert.ok(!existsSync(join(dir, 'vigil.db')), 'nothing was created');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a master key that does not open the data directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-cli-'));
    try {
      const none = cli(['keys', 'list', '--data', dir]);
      assert.equal(none.status, 2, 'a directory without a store is refused, not silently created');
      assert.match(none.stderr, /No Vigil data directory/);
      assert.ok(!existsSync(join(dir, 'master.key')));
      await stop(await serve(dir));
      assert.equal(cli(['keys', 'list', '--data', dir]).status, 0);
      const wrong = cli(['keys', 'list', '--data', dir], { VIGIL_MASTER_KEY: Buffer.alloc(32, 7).toString('base64') });
      assert.equal(wrong.status, 1);
      assert.match(wrong.stderr, /master key does not open the data keys/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serves over TLS when given a certificate, with HSTS', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-tls-'));
    try {
      const openssl = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost',
        '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { encoding: 'utf8' });
      if (openssl.status !== 0) {
        t.skip('openssl is not installed');
        return;
      }
      const server = await serve(join(dir, 'data'), { VIGIL_TLS_CERT: join(dir, 'cert.pem'), VIGIL_TLS_KEY: join(dir, 'key.pem') });
      try {
        assert.ok(server.base.startsWith('https://'));
        const headers = await new Promise<Record<string, unknown>>((resolve, reject) => {
          const req = httpsRequest(`${server.base}/healthz`, { ca: readFileSync(join(dir, 'cert.pem')) }, (res) => {
            res.resume();
            resolve(res.headers);
          });
          req.on('error', reject);
          req.end();
        });
        assert.match(String(headers['strict-transport-security']), /max-age=\d+/);
      } finally {
        await stop(server);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
