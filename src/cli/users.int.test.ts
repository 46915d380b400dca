import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config/index.js';
import { openVigil } from '../runtime/index.js';
import { cleanEnv } from '../testing/serve.js';

// The compiled CLI beside this test (what bin/vigil.js loads from dist/).
const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const NAME = 'cli.nurse.qx';
const PASSWORD = 'ember-willow-lagoon-62';

function cli(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { env: cleanEnv({ VIGIL_LOG_LEVEL: 'silent' }), encoding: 'utf8', timeout: 60_000, ...(input === undefined ? {} : { input }) });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('vigil users and vigil clients, end to end', () => {
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-users-cli-'));
    const vigil = await openVigil(loadConfig({}, { dataDir: dir }), { create: true });
    await vigil.close();
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('adds a user with the password on stdin, never argv; refuses weak passwords and a missing --password-stdin', () => {
    const weak = cli(['users', 'add', '--data', dir, '--username', 'weak.user', '--role', 'billing', '--password-stdin'], 'password123\n');
    assert.equal(weak.status, 1);
    assert.match(weak.stderr, /common or breached/);
    const noStdin = cli(['users', 'add', '--data', dir, '--username', 'x.user', '--role', 'billing']);
    assert.equal(noStdin.status, 1);
    assert.match(noStdin.stderr, /--password-stdin/);
    const add = cli(['users', 'add', '--data', dir, '--username', NAME, '--role', 'nurse', '--practitioner', 'pr-7', '--organization', 'org-1', '--clearance', 'R', '--clearance', 'PSY', '--password-stdin', '--json'], `${PASSWORD}\n`);
    assert.equal(add.status, 0, add.stderr);
    const user = JSON.parse(add.stdout) as { id: string; username: string; fhirUser: string; clearances: string[] };
    assert.equal(user.username, NAME);
    assert.equal(user.fhirUser, 'Practitioner/pr-7');
    assert.deepEqual(user.clearances, ['R', 'PSY']);
    assert.ok(!add.stdout.includes(PASSWORD));
    const linkless = cli(['users', 'add', '--data', dir, '--username', 'doc.nolink', '--role', 'clinician', '--password-stdin'], `${PASSWORD}\n`);
    assert.match(linkless.stderr, /needs a Practitioner/);
  });

  it('disables, enables, resets MFA and lists', async () => {
    assert.equal(cli(['users', 'disable', '--data', dir, NAME]).status, 0);
    let vigil = await openVigil(loadConfig({}, { dataDir: dir }));
    assert.deepEqual(await vigil.users.signIn(NAME, PASSWORD, '127.0.0.1'), { ok: false, reason: 'invalid' });
    await vigil.close();
    assert.equal(cli(['users', 'enable', '--data', dir, NAME]).status, 0);
    assert.equal(cli(['users', 'mfa-reset', '--data', dir, NAME]).status, 0);
    vigil = await openVigil(loadConfig({}, { dataDir: dir }));
    assert.equal((await vigil.users.signIn(NAME, PASSWORD, '127.0.0.1')).ok, true);
    await vigil.close();
    const list = cli(['users', 'list', '--data', dir, '--json']);
    assert.equal((JSON.parse(list.stdout) as { username: string }[]).length, 1);
    assert.ok(!list.stdout.includes('scrypt'));
    const missing = cli(['users', 'disable', '--data', dir, 'nobody.here']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /No such user/);
  });

  it('adds clients: a secret once for confidential ones, none for public; lists and disables', () => {
    const machine = cli(['clients', 'add', '--data', dir, '--name', 'lab feed', '--grant', 'client_credentials', '--scope', 'system/Observation.c', '--json']);
    assert.equal(machine.status, 0, machine.stderr);
    const { clientId, clientSecret } = JSON.parse(machine.stdout) as { clientId: string; clientSecret: string };
    assert.equal(typeof clientSecret, 'string');
    const app = cli(['clients', 'add', '--data', dir, '--name', 'portal', '--grant', 'authorization_code', '--scope', 'patient/*.rs openid fhirUser', '--redirect-uri', 'https://portal.example/cb', '--public', '--json']);
    assert.equal(app.status, 0, app.stderr);
    assert.equal((JSON.parse(app.stdout) as { clientSecret?: string }).clientSecret, undefined);
    const bad = cli(['clients', 'add', '--data', dir, '--name', 'evil', '--grant', 'authorization_code', '--scope', 'user/*.rs', '--redirect-uri', 'http://evil.example/cb']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /https/);
    const list = cli(['clients', 'list', '--data', dir, '--json']);
    assert.ok(list.stdout.includes(clientId) && !list.stdout.includes(clientSecret));
    assert.equal(cli(['clients', 'disable', '--data', dir, clientId]).status, 0);
    assert.equal((JSON.parse(cli(['clients', 'list', '--data', dir, '--json']).stdout) as { clientId: string; disabled: boolean }[]).find((c) => c.clientId === clientId)?.disabled, true);
  });

  it('audits each action as a security event by id; no user name or password in the audit rows or anywhere in the data directory', async () => {
    const vigil = await openVigil(loadConfig({}, { dataDir: dir }));
    const rows = await vigil.store.readAuditBySeq(0, 10_000);
    await vigil.close();
    const subtypes = rows.map((r) => r.subtype);
    for (const s of ['user-add', 'user-disable', 'user-enable', 'mfa-reset', 'user-list', 'client-add', 'client-disable']) assert.ok(subtypes.includes(s), s);
    const bodies = rows.map((r) => r.body).join('\n');
    assert.ok(bodies.includes('user/') && bodies.includes('os:'));
    for (const file of readdirSync(dir)) {
      const bytes = readFileSync(join(dir, file));
      assert.ok(!bytes.includes(NAME) && !bytes.includes(PASSWORD), file);
    }
    assert.ok(!bodies.includes(NAME) && !bodies.includes(PASSWORD));
  });
});
