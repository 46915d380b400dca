import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { VigilError } from '../errors.js';
import { loadConfig } from '../config/index.js';
import { openVigil, type Vigil } from '../runtime/index.js';
import { verifyLog } from '../audit/verify.js';
import { parseVerifierKey } from '../audit/note-key.js';
import { startTestVigil, syntheticPatient, type TestVigil } from '../testing/harness.js';
import { backupKeys, createBackup, restoreBackup, verifyBackupSet } from './index.js';
import { signManifest } from './signing.js';
import type { ManifestFile } from './format.js';
import { canonicalJson } from './format.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function assertBackupError(err: unknown): true {
  assert.ok(err instanceof VigilError, 'a VigilError');
  assert.equal(err.code, 'ERR_BACKUP');
  return true;
}

/** Every version of a store, decrypted, in sequence order. */
async function versionsOf(vigil: Vigil): Promise<string[]> {
  const out: string[] = [];
  for (const v of await vigil.store.readVersionsBySeq(1, 100_000)) {
    const json = v.deleted ? null : (await vigil.repository.vread(v.type, v.id, v.versionId)).json;
    out.push(JSON.stringify([v.seq, v.type, v.id, v.versionId, v.lastUpdated, v.deleted, Buffer.from(v.box ?? []).toString('base64'), json]));
  }
  return out;
}

async function currentOf(vigil: Vigil): Promise<string[]> {
  return (await vigil.store.listCurrent(1, 100_000)).map((c) => `${c.type}/${c.id}@${c.seq}${c.deleted ? ' deleted' : ''}`).sort();
}

async function verifies(dir: string): Promise<boolean> {
  const vigil = await openVigil(loadConfig({}, { dataDir: dir }));
  try {
    return (await verifyLog({ store: vigil.store, tenant: vigil.config.tenant, origin: vigil.log.origin, verifier: parseVerifierKey(vigil.log.verifierKey) })).ok;
  } finally {
    await vigil.close();
  }
}

describe('backup, verify and restore', () => {
  let t: TestVigil;
  let work: string;
  let set: string;
  let master: Buffer;
  const ids: string[] = [];
  let between = '';

  before(async () => {
    t = await startTestVigil();
    work = mkdtempSync(join(tmpdir(), 'vigil-backup-'));
    set = join(work, 'set');
    master = Buffer.from(readFileSync(join(t.dir, 'master.key'), 'utf8').trim(), 'base64');
    for (let i = 0; i < 12; i++) {
      const r = await t.fhir('POST', '/fhir/Patient', { body: syntheticPatient(`Bk${i}`) });
      assert.equal(r.statusCode, 201);
      ids.push((JSON.parse(r.body) as { id: string }).id);
    }
    await createBackup(t.vigil, { to: set, kind: 'full' });
    // Between the two backups: an update, a deletion, a new patient; then a time mark, then more.
    await t.fhir('PUT', `/fhir/Patient/${ids[0]}`, { body: { ...syntheticPatient('Early'), id: ids[0] } });
    await t.fhir('DELETE', `/fhir/Patient/${ids[1]}`);
    await sleep(30);
    between = new Date().toISOString();
    await sleep(30);
    await t.fhir('PUT', `/fhir/Patient/${ids[0]}`, { body: { ...syntheticPatient('Late'), id: ids[0] } });
    await t.fhir('POST', '/fhir/Patient', { body: syntheticPatient('Newest') });
    await createBackup(t.vigil, { to: set, kind: 'incremental' });
  });

  after(async () => {
    await t.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('verifies a full backup and its incremental, offline, with the published key', () => {
    const r = verifyBackupSet(set, { key: backupKeys(t.vigil.keyring, 'default').key });
    assert.equal(r.ok, true, JSON.stringify(r.backups));
    assert.equal(r.backups.length, 2);
    assert.deepEqual(r.backups.map((b) => b.kind), ['full', 'incremental']);
    assert.equal(r.keySource, 'given');
    assert.ok(r.versions >= 16);
  });

  it('restores resource by resource and version by version; the restored dir verifies and keeps the checkpoint', async () => {
    const to = join(work, 'restored');
    const r = await restoreBackup({ from: set, to, masterKey: master, env: {} });
    assert.equal(r.ok, true, JSON.stringify(r.verify));
    assert.equal(r.checkpoint.matchesBackup, true);
    assert.equal(r.checkpoint.signedNew, false);
    assert.equal(r.reindexed, 0);
    const restored = await openVigil(loadConfig({}, { dataDir: to }));
    try {
      assert.deepEqual(await versionsOf(restored), await versionsOf(t.vigil));
      assert.deepEqual(await currentOf(restored), await currentOf(t.vigil));
      assert.equal(restored.log.verifierKey, t.vigil.log.verifierKey);
    } finally {
      await restored.close();
    }
    assert.equal(await verifies(to), true);
  });

  it('restores to a time between two writes: exactly the earlier state, searchable, with a new checkpoint', async () => {
    const to = join(work, 'pitr');
    const r = await restoreBackup({ from: set, to, masterKey: master, at: new Date(between), env: {} });
    assert.equal(r.ok, true, JSON.stringify(r.verify));
    assert.ok(r.lastWriteAt !== null && r.lastWriteAt <= between);
    assert.equal(r.checkpoint.signedNew, true);
    assert.ok(r.reindexed >= 1);
    const restored = await openVigil(loadConfig({}, { dataDir: to }));
    try {
      const live = (await t.vigil.store.readVersionsBySeq(1, 100_000)).filter((v) => v.lastUpdated <= between);
      const kept = await restored.store.readVersionsBySeq(1, 100_000);
      assert.deepEqual(kept.map((v) => `${v.type}/${v.id}/${v.versionId}`), live.map((v) => `${v.type}/${v.id}/${v.versionId}`));
      const p0 = await restored.repository.read('Patient', ids[0] ?? '');
      assert.match(p0.json, /FamilyEarly/);
      assert.equal(JSON.parse(p0.json).meta.versionId, '2');
      await assert.rejects(restored.repository.read('Patient', ids[1] ?? ''), (e: unknown) => e instanceof VigilError && e.code === 'ERR_GONE');
    } finally {
      await restored.close();
    }
    assert.equal(await verifies(to), true);
  });

  it('refuses a target that is not empty', async () => {
    const to = join(work, 'busy');
    cpSync(set, to, { recursive: true });
    await assert.rejects(restoreBackup({ from: set, to, masterKey: master, env: {} }), assertBackupError);
  });

  it('catches a tampered chunk, and restore refuses it', async () => {
    const copy = join(work, 'tampered');
    cpSync(set, copy, { recursive: true });
    const chunk = join(copy, 'chunks', readdirSync(join(copy, 'chunks')).filter((n) => !n.startsWith('.'))[0] ?? '');
    const bytes = readFileSync(chunk);
    const at = Math.floor(bytes.length / 2);
    bytes[at] = (bytes[at] ?? 0) ^ 1;
    writeFileSync(chunk, bytes);
    const r = verifyBackupSet(copy);
    assert.equal(r.ok, false);
    assert.ok(r.backups.some((b) => b.problems.some((p) => /altered/.test(p))));
    await assert.rejects(restoreBackup({ from: copy, to: join(work, 'from-tampered'), masterKey: master, env: {} }), assertBackupError);
  });

  it('refuses a manifest whose chunk names try to leave the set', async () => {
    const copy = join(work, 'traversal');
    cpSync(set, copy, { recursive: true });
    const name = readdirSync(join(copy, 'manifests')).filter((n) => n.endsWith('.json'))[0] ?? '';
    const file = JSON.parse(readFileSync(join(copy, 'manifests', name), 'utf8')) as { manifest: { files: { sha256: string }[] } };
    const first = file.manifest.files[0];
    if (first !== undefined) first.sha256 = '../../../../etc/passwd';
    writeFileSync(join(copy, 'manifests', name), JSON.stringify(file));
    const r = verifyBackupSet(copy);
    assert.equal(r.ok, false);
    await assert.rejects(restoreBackup({ from: copy, to: join(work, 'from-traversal'), masterKey: master, env: {} }), assertBackupError);
  });

  it('catches a missing incremental, and restore refuses the chain', async () => {
    const copy = join(work, 'gap');
    cpSync(set, copy, { recursive: true });
    await createBackup(t.vigil, { to: copy, kind: 'incremental' });
    const names = readdirSync(join(copy, 'manifests')).filter((n) => n.endsWith('.json')).sort();
    unlinkSync(join(copy, 'manifests', names[1] ?? ''));
    const r = verifyBackupSet(copy);
    assert.equal(r.ok, false);
    assert.ok(r.backups.some((b) => b.problems.some((p) => /missing from the set/.test(p))));
    await assert.rejects(restoreBackup({ from: copy, to: join(work, 'from-gap'), masterKey: master, env: {} }), assertBackupError);
  });

  it('catches a manifest signed by another key', async () => {
    const other = await startTestVigil();
    try {
      const copy = join(work, 'forged');
      cpSync(set, copy, { recursive: true });
      const name = readdirSync(join(copy, 'manifests')).filter((n) => n.endsWith('.json')).sort()[1] ?? '';
      const file = JSON.parse(readFileSync(join(copy, 'manifests', name), 'utf8')) as ManifestFile;
      writeFileSync(join(copy, 'manifests', name), canonicalJson(signManifest({ manifest: file.manifest }, backupKeys(other.vigil.keyring, 'default').signer)));
      const r = verifyBackupSet(copy, { key: backupKeys(t.vigil.keyring, 'default').key });
      assert.equal(r.ok, false);
      assert.ok(r.backups.some((b) => b.problems.some((p) => /not signed by the trusted backup key/.test(p))));
      // A whole set made by another server does not verify under this server's key either.
      const foreign = join(work, 'foreign');
      await createBackup(other.vigil, { to: foreign, kind: 'full' });
      assert.equal(verifyBackupSet(foreign, { key: backupKeys(t.vigil.keyring, 'default').key }).ok, false);
      await assert.rejects(restoreBackup({ from: copy, to: join(work, 'from-forged'), masterKey: master, key: backupKeys(t.vigil.keyring, 'default').key, env: {} }), assertBackupError);
    } finally {
      await other.close();
    }
  });

  it('a backup that crashes midway leaves the earlier backups intact and verifiable', async () => {
    const copy = join(work, 'crash');
    cpSync(set, copy, { recursive: true });
    await t.fhir('POST', '/fhir/Patient', { body: syntheticPatient('Crash') });
    const crash = new Error('simulated crash');
    await assert.rejects(
      createBackup(t.vigil, {
        to: copy,
        kind: 'full',
        afterChunk: (n) => {
          if (n === 3) throw crash;
        },
      }),
      (e: unknown) => e === crash,
    );
    const r = verifyBackupSet(copy);
    assert.equal(r.ok, true, JSON.stringify(r.backups));
    assert.equal(r.backups.length, 2);
    await createBackup(t.vigil, { to: copy, kind: 'incremental' });
    assert.equal(verifyBackupSet(copy).ok, true);
  });
});
