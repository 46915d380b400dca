import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VigilError } from '../errors.js';
import { startTestVigil, type TestVigil } from '../testing/harness.js';
import { SyslogReceiver, seedAudit, throwawayCertificate } from '../audit/export/test-helpers.js';
import { planExport, type AuditExportOptions } from './audit-export.js';

/** The compiled CLI beside this compiled test (whatever the output folder). */
const MAIN = join(dirname(fileURLToPath(import.meta.url)), 'main.js');
const CERT = throwawayCertificate();

function env(): NodeJS.ProcessEnv {
  return { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VIGIL_'))), VIGIL_LOG_LEVEL: 'silent' };
}
function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { env: env(), encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
function lines(path: string): number[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.endsWith('}')).map((l) => (JSON.parse(l) as { seq: number }).seq);
}
async function until(check: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
function configError(opts: AuditExportOptions, expected: string[]): void {
  assert.throws(
    () => planExport(opts, '/data'),
    (err: unknown) => err instanceof VigilError && err.code === 'ERR_CONFIG' && err.message === `invalid options:\n${expected.map((p) => `  - ${p}`).join('\n')}`,
  );
}

describe('vigil audit export: options', () => {
  it('refuses plaintext syslog to a host that is not this machine (secure by default)', () => {
    for (const host of ['192.0.2.10:514', 'siem.example.org:514', '[2001:db8::1]:514', '0.0.0.0:514']) {
      const h = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
      configError({ syslog: host }, [`refusing plaintext syslog to ${h}, which is not this machine: use --tls (or --insecure on a network you trust)`]);
    }
  });

  it('allows it with --tls, with --insecure, and to loopback', () => {
    assert.deepEqual(planExport({ syslog: 'siem.example.org:6514', tls: true }, '/data').target, { kind: 'syslog', host: 'siem.example.org', port: 6514, tls: true });
    assert.equal(planExport({ syslog: 'siem.example.org:514', insecure: true }, '/data').target.kind, 'syslog');
    assert.equal(planExport({ syslog: '127.0.0.1:514' }, '/data').target.kind, 'syslog');
    assert.equal(planExport({ syslog: '[::1]:514' }, '/data').target.kind, 'syslog');
  });

  it('reports every problem at once', () => {
    configError({ syslog: 'siem:514', jsonl: 'x', batch: '0', interval: 'fast' }, [
      'give exactly one of --syslog HOST:PORT and --jsonl FILE',
      'refusing plaintext syslog to siem, which is not this machine: use --tls (or --insecure on a network you trust)',
      '--interval must be a number of milliseconds from 10 to 3600000',
      '--batch must be an integer from 1 to 10000',
    ]);
    configError({}, ['give exactly one of --syslog HOST:PORT and --jsonl FILE']);
    configError({ syslog: 'siem' }, ['--syslog takes HOST:PORT ([ADDRESS]:PORT for IPv6)']);
    configError({ syslog: '127.0.0.1:514', ca: 'ca.pem', cert: 'c.pem' }, ['--ca, --cert and --key need --tls', '--cert and --key go together']);
    configError({ jsonl: 'a.jsonl', tls: true }, ['--tls, --insecure, --ca, --cert and --key apply to --syslog only']);
    configError({ jsonl: 'a.jsonl', replayWindow: '2000' }, ['--replay-window must be a whole number of MiB from 0 to 1024']);
  });

  it('puts the state file in the data directory by default, one per target', () => {
    const a = planExport({ jsonl: '/var/log/a.jsonl' }, '/data');
    const b = planExport({ jsonl: '/var/log/b.jsonl' }, '/data');
    assert.match(a.statePath, /^\/data\/audit-export-[0-9a-f]{16}\.state$/);
    assert.notEqual(a.statePath, b.statePath);
    assert.equal(planExport({ jsonl: '/var/log/a.jsonl', state: '/elsewhere/s' }, '/data').statePath, '/elsewhere/s');
  });
});

describe('vigil audit export (the command)', () => {
  let t: TestVigil;
  let all: number[];
  const N = 3000;
  before(async () => {
    t = await startTestVigil();
    await seedAudit(t.vigil.store, N);
    all = (await t.vigil.store.readAuditBySeq(1, 1_000_000)).map((r) => r.seq);
  });
  after(async () => t.close());

  it('refuses plaintext to a remote host before connecting, with exit code 2', () => {
    const r = cli(['audit', 'export', '--data', t.dir, '--syslog', '192.0.2.10:514']);
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'vigil: invalid options:\n  - refusing plaintext syslog to 192.0.2.10, which is not this machine: use --tls (or --insecure on a network you trust)\n');
  });

  it('exports to a JSON lines file and prints a summary with --json', () => {
    const file = join(t.dir, 'cli.jsonl');
    const r = cli(['audit', 'export', '--data', t.dir, '--jsonl', file, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as { exported: number; lastSeq: number; target: string };
    assert.equal(summary.exported, all.length);
    assert.equal(summary.lastSeq, all[all.length - 1]);
    assert.equal(summary.target, `jsonl:${file}`);
    assert.deepEqual(lines(file), all);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const states = readdirSync(t.dir).filter((f) => /^audit-export-[0-9a-f]{16}\.state$/.test(f));
    assert.equal(states.length, 1);
    assert.equal(statSync(join(t.dir, states[0] ?? '')).mode & 0o777, 0o600);
    const again = cli(['audit', 'export', '--data', t.dir, '--jsonl', file, '--json']);
    assert.equal((JSON.parse(again.stdout) as { exported: number }).exported, 0);
    const human = cli(['audit', 'export', '--data', t.dir, '--jsonl', file]);
    assert.equal(human.stdout, `exported 0 audit entries to jsonl:${file}; last seq ${all[all.length - 1]}\n`);
  });

  it('killed with SIGKILL mid-way and started again, leaves each entry in the file exactly once', async () => {
    const file = join(t.dir, 'killed.jsonl');
    const state = join(t.dir, 'killed.state');
    const child = spawn(process.execPath, [MAIN, 'audit', 'export', '--data', t.dir, '--jsonl', file, '--state', state, '--batch', '3'], { env: env(), stdio: 'ignore' });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    await until(() => lines(file).length >= 300);
    child.kill('SIGKILL');
    await exited;
    const before = lines(file).length;
    assert.ok(before < all.length, `killed mid-way (${before} of ${all.length} written)`);
    const r = cli(['audit', 'export', '--data', t.dir, '--jsonl', file, '--state', state, '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(lines(file), all);
  });

  it('sends to a syslog receiver on loopback, in order, each entry once when the receiver confirms the close', async () => {
    const receiver = await SyslogReceiver.start();
    try {
      const child = spawn(process.execPath, [MAIN, 'audit', 'export', '--data', t.dir, '--syslog', `127.0.0.1:${receiver.port}`, '--json'], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
      const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
      assert.equal(code, 0, stderr);
      assert.deepEqual(JSON.parse(stdout), { exported: all.length, lastSeq: all[all.length - 1], target: `syslog+tcp://127.0.0.1:${receiver.port}`, resent: 0, seconds: (JSON.parse(stdout) as { seconds: number }).seconds });
      assert.deepEqual(receiver.seqs(), all);
    } finally {
      await receiver.stop();
    }
  });

  it('sends over TLS to a receiver the --ca file vouches for', { skip: CERT === undefined ? 'openssl is not installed' : false }, async () => {
    const { key, cert } = CERT!;
    const ca = join(t.dir, 'receiver-ca.pem');
    writeFileSync(ca, cert);
    const receiver = await SyslogReceiver.start({ tls: { key, cert } });
    try {
      const child = spawn(process.execPath, [MAIN, 'audit', 'export', '--data', t.dir, '--syslog', `localhost:${receiver.port}`, '--tls', '--ca', ca, '--json'], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
      assert.equal(await new Promise<number | null>((r) => child.once('exit', (c) => r(c))), 0, stderr);
      assert.equal((JSON.parse(stdout) as { target: string }).target, `syslog+tls://localhost:${receiver.port}`);
      assert.deepEqual(receiver.seqs(), all);
    } finally {
      await receiver.stop();
    }
    const missing = cli(['audit', 'export', '--data', t.dir, '--syslog', `localhost:${receiver.port}`, '--tls', '--ca', join(t.dir, 'no-such.pem')]);
    assert.equal(missing.status, 2);
    assert.equal(missing.stderr, `vigil: cannot read --ca ${join(t.dir, 'no-such.pem')}\n`);
  });

  it('killed with SIGKILL mid-way while sending to syslog and started again: every entry arrives at least once', async () => {
    const receiver = await SyslogReceiver.start();
    try {
      const state = join(t.dir, 'killed-syslog.state');
      const args = [MAIN, 'audit', 'export', '--data', t.dir, '--syslog', `127.0.0.1:${receiver.port}`, '--state', state, '--batch', '3'];
      const child = spawn(process.execPath, args, { env: env(), stdio: 'ignore' });
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      await receiver.until((x) => x.messages.length >= 300);
      child.kill('SIGKILL');
      await exited;
      assert.ok(new Set(receiver.seqs()).size < all.length, 'killed mid-way');
      const again = spawn(process.execPath, args, { env: env(), stdio: 'ignore' });
      assert.equal(await new Promise<number | null>((r) => again.once('exit', (c) => r(c))), 0);
      const seen = new Set(receiver.seqs());
      assert.deepEqual(all.filter((s) => !seen.has(s)), []);
    } finally {
      await receiver.stop();
    }
  });

  it('with --follow, exports entries written after it started, and stops cleanly on SIGTERM', async () => {
    const file = join(t.dir, 'follow.jsonl');
    const child = spawn(process.execPath, [MAIN, 'audit', 'export', '--data', t.dir, '--jsonl', file, '--follow', '--interval', '50', '--json'], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await until(() => lines(file).length >= all.length);
    await seedAudit(t.vigil.store, 40, 'default', 10_000);
    const now = (await t.vigil.store.readAuditBySeq(1, 1_000_000)).map((r) => r.seq);
    await until(() => lines(file).length >= now.length);
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.deepEqual(lines(file), now);
    const summary = JSON.parse(stdout) as { exported: number; lastSeq: number };
    assert.equal(summary.exported, now.length);
    assert.equal(summary.lastSeq, now[now.length - 1]);
    all = now;
  });
});
