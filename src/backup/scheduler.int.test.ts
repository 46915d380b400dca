import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { buildApp, createLogger } from '../http/index.js';
import { startTestVigil, syntheticPatient, type TestVigil } from '../testing/harness.js';
import { BackupScheduler, type BackupRun } from './index.js';
import { verifyBackupSet } from './verify.js';

describe('scheduled backups and GET /admin/backups', () => {
  let t: TestVigil;
  let work: string;

  before(async () => {
    t = await startTestVigil();
    work = mkdtempSync(join(tmpdir(), 'vigil-sched-'));
    await t.fhir('POST', '/fhir/Patient', { body: syntheticPatient('Sched') });
  });
  after(async () => {
    await t.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('runs a full then an incremental backup and shows the last one to a security admin only', async () => {
    const backups = new BackupScheduler(t.vigil, { dir: join(work, 'set'), intervalMinutes: 60 });
    assert.equal((await backups.runNow()).kind, 'full');
    const second = await backups.runNow();
    assert.equal(second.ok, true);
    assert.equal(second.kind, 'incremental');
    assert.equal(verifyBackupSet(join(work, 'set')).ok, true);
    const app = await buildApp(t.vigil, { logger: createLogger(t.config, new Writable({ write: (_c, _e, done) => done() })), backups });
    try {
      const admin = await t.token('system/*.rs', ['security-admin']);
      const r = await app.inject({ method: 'GET', url: '/admin/backups', headers: { authorization: `Bearer ${admin}` } });
      assert.equal(r.statusCode, 200);
      const body = JSON.parse(r.body) as { enabled: boolean; last: BackupRun; lastSuccessAt: string };
      assert.equal(body.enabled, true);
      assert.equal(body.last.id, second.id);
      assert.equal(body.lastSuccessAt, second.finishedAt);
      const clinician = await t.token('system/*.rs', ['clinician']);
      assert.equal((await app.inject({ method: 'GET', url: '/admin/backups', headers: { authorization: `Bearer ${clinician}` } })).statusCode, 403);
      assert.equal((await app.inject({ method: 'GET', url: '/admin/backups' })).statusCode, 401);
    } finally {
      await app.close();
    }
  });

  it('a failed backup calls the alert hook, shows in the status and is audited', async () => {
    const blocked = join(work, 'not-a-dir');
    writeFileSync(blocked, 'x');
    const failures: BackupRun[] = [];
    const backups = new BackupScheduler(t.vigil, { dir: blocked, intervalMinutes: 5, onBackupFailed: (_err, run) => failures.push(run) });
    const run = await backups.runNow();
    assert.equal(run.ok, false);
    assert.equal(failures.length, 1);
    assert.equal(backups.status().last?.ok, false);
    assert.equal(backups.status().lastSuccessAt, null);
    const audited = await t.vigil.store.searchAudit({ tenant: 'default', limit: 5 });
    assert.ok(audited.some((a) => a.subtype === 'backup-create' && a.outcome === '8'));
  });
});
