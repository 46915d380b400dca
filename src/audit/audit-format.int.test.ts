import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteStore, type NewAuditRow } from '../store/index.js';
import { startTestVigil, syntheticPatient, type TestVigil } from '../testing/harness.js';
import { verifyLog, type VerifyResult } from './verify.js';
import { auditLeafData, auditLeafFormat, leafHash } from './leaf.js';
import { AuditTrail } from './trail.js';
import { parseVerifierKey } from './note-key.js';
import { exportRecord } from './export/record.js';
import { backupKeys, createBackup, restoreBackup, verifyBackupSet } from '../backup/index.js';

/**
 * A log that holds audit entries of both leaf formats, as a store written before format 2 and
 * used since does: format 1 leaves cover the body alone, format 2 leaves the columns as well.
 * Both paths of `vigil verify` (the sequential walk and leaf ranges on worker threads) must accept
 * both formats, and catch edits to either.
 */

/** An entry as Vigil wrote it before format 2: the body without the marker, and its format 1 leaf. */
function formatOneRow(i: number, patient: string): NewAuditRow {
  const recorded = `2025-01-01T00:00:${String(i % 60).padStart(2, '0')}.000Z`;
  const body = JSON.stringify({ recorded, type: 'rest', subtype: 'read', action: 'R', outcome: '0', client: 'ehr-app', user: `dr-${i}`, entities: [`Patient/${patient}`], patients: [patient] });
  const row = { tenant: 'default', recorded, action: 'R', subtype: 'read', outcome: '0', agent: `dr-${i}`, patients: ` ${patient} `, body };
  assert.equal(auditLeafFormat(body), 1);
  return { ...row, leaf: leafHash(auditLeafData(row)) };
}

describe('audit entries of both leaf formats in one log', () => {
  let t: TestVigil;
  let dbFile: string;
  let patient: string;

  before(async () => {
    t = await startTestVigil();
    dbFile = join(t.dir, 'vigil.db');
    patient = JSON.parse((await t.fhir('POST', '/fhir/Patient', { body: syntheticPatient('f1') })).body).id as string;
    // Enough entries for several leaf ranges, format 1 first (older entries), then format 2.
    for (let i = 0; i < 150; i++) await t.vigil.store.appendAudit(formatOneRow(i, patient));
    await t.vigil.log.checkpoint();
    const trail = new AuditTrail(t.vigil.store, 'default');
    for (let i = 0; i < 150; i++) await trail.record({ type: 'rest', subtype: 'read', action: 'R', client: 'ehr-app', user: `dr-${i}`, entities: [`Patient/${patient}`], patients: [patient] });
    // A lone surrogate cannot be kept in a text column: the trail writes it as U+FFFD, so the row still verifies.
    await trail.record({ type: 'security', subtype: 'token', action: 'E', client: 'app\ud800', user: 'x\udc00y', entities: [], patients: [] });
    await t.vigil.log.checkpoint();
  });
  after(async () => {
    await t.close();
  });

  /** Verifies a copy of the database after `tamper`, sequentially (`leafWorkers` 0) or in ranges on two worker threads. */
  async function verifyCopy(tamper: (db: Database.Database) => void, leafWorkers: number): Promise<VerifyResult> {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-format-'));
    try {
      for (const suffix of ['', '-wal', '-shm']) if (existsSync(dbFile + suffix)) copyFileSync(dbFile + suffix, join(dir, `vigil.db${suffix}`));
      const db = new Database(join(dir, 'vigil.db'));
      db.exec('DROP TRIGGER IF EXISTS audit_events_no_update');
      tamper(db);
      db.close();
      const store = new SqliteStore(join(dir, 'vigil.db'));
      try {
        return await verifyLog({ store, tenant: 'default', origin: t.vigil.log.origin, verifier: parseVerifierKey(t.vigil.log.verifierKey), indexWorker: leafWorkers > 0, leafWorkers });
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** The sequence number of the `nth` entry (from 0) of a format. */
  const entryOf = (db: Database.Database, format: 1 | 2, nth: number): number => {
    const rows = db.prepare('SELECT seq, body FROM audit_events ORDER BY seq').all() as { seq: number; body: string }[];
    const seq = rows.filter((r) => auditLeafFormat(r.body) === format)[nth]?.seq;
    assert.ok(seq !== undefined);
    return seq;
  };

  for (const leafWorkers of [0, 2]) {
    const path = leafWorkers === 0 ? 'the sequential walk' : 'leaf ranges on worker threads';

    it(`verifies both formats untouched, on ${path}`, async () => {
      const r = await verifyCopy(() => undefined, leafWorkers);
      assert.equal(r.firstBroken, null, JSON.stringify(r.firstBroken));
      assert.equal(r.phases.leafWorkers, leafWorkers);
      assert.ok(r.leaves > 300);
    });

    it(`catches a format 1 entry's column edited (its leaf covers the body alone), on ${path}`, async () => {
      const r = await verifyCopy((db) => db.prepare("UPDATE audit_events SET patients = ' ' WHERE seq = ?").run(entryOf(db, 1, 20)), leafWorkers);
      assert.equal(r.firstBroken?.kind, 'audit', JSON.stringify(r.firstBroken));
      assert.match(r.firstBroken.detail, /columns do not match its body/);
    });

    it(`catches a format 1 body edited, on ${path}`, async () => {
      const r = await verifyCopy((db) => db.prepare("UPDATE audit_events SET body = replace(body, '\"outcome\":\"0\"', '\"outcome\":\"4\"'), outcome = '4' WHERE seq = ?").run(entryOf(db, 1, 5)), leafWorkers);
      assert.equal(r.firstBroken?.kind, 'audit', JSON.stringify(r.firstBroken));
    });

    it(`catches a format 2 column edited, on ${path}`, async () => {
      const r = await verifyCopy((db) => db.prepare("UPDATE audit_events SET agent = 'someone-else' WHERE seq = ?").run(entryOf(db, 2, 40)), leafWorkers);
      assert.equal(r.firstBroken?.kind, 'audit', JSON.stringify(r.firstBroken));
      assert.match(r.firstBroken.detail, /does not match its leaf/);
    });

    it(`catches a format 2 entry passed off as format 1 (marker removed, columns made to match), on ${path}`, async () => {
      const r = await verifyCopy((db) => assert.equal(db.prepare("UPDATE audit_events SET body = replace(body, '{\"format\":2,', '{') WHERE seq = ?").run(entryOf(db, 2, 60)).changes, 1), leafWorkers);
      assert.equal(r.firstBroken?.kind, 'audit', JSON.stringify(r.firstBroken));
    });
  }

  it('exports each entry with the leaf the log holds for it, in either format', async () => {
    const rows = await t.vigil.store.readAuditBySeq(1, 1000);
    const leaves = await t.vigil.store.readLeaves(1, 1000);
    const byRef = new Map(leaves.filter((l) => l.kind === 'audit').map((l) => [l.ref, Buffer.from(l.hash).toString('hex')]));
    const formats = new Set<number>();
    for (const row of rows) {
      formats.add(auditLeafFormat(row.body));
      assert.equal(exportRecord(row).leaf, byRef.get(row.seq), `entry ${row.seq}`);
    }
    assert.deepEqual([...formats].sort(), [1, 2]);
  });

  it('backs up and restores both formats: the backup replays every leaf offline, and the restored store verifies', async () => {
    const work = mkdtempSync(join(tmpdir(), 'vigil-format-backup-'));
    try {
      const set = join(work, 'set');
      await createBackup(t.vigil, { to: set, kind: 'full' });
      const checked = verifyBackupSet(set, { key: backupKeys(t.vigil.keyring, 'default').key });
      assert.equal(checked.ok, true, JSON.stringify(checked.backups));
      const master = Buffer.from(readFileSync(join(t.dir, 'master.key'), 'utf8').trim(), 'base64');
      const restored = await restoreBackup({ from: set, to: join(work, 'restored'), masterKey: master, env: {} });
      assert.equal(restored.ok, true, JSON.stringify(restored.verify));
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
