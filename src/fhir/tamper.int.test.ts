import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SQLITE_FILE } from '../store/index.js';
import { startTestVigil, syntheticPatient, type TestVigil } from '../testing/harness.js';

/**
 * An attacker with write access to the database file edits ciphertext rows. Every edit must be
 * refused loudly and generically on read: never served, never explained byte by byte.
 */
describe('tampered ciphertext rows', () => {
  let t: TestVigil;
  let db: Database.Database;
  const ids: string[] = [];

  before(async () => {
    t = await startTestVigil();
    for (const tag of ['alpha', 'bravo', 'charlie', 'delta', 'echo']) {
      const res = await t.fhir('POST', '/fhir/Patient', { body: syntheticPatient(tag) });
      ids.push(String(JSON.parse(res.body).id));
    }
    await t.fhir('PUT', `/fhir/Patient/${ids[4]}`, { body: { ...syntheticPatient('echo2'), id: ids[4] } });
    db = new Database(join(t.dir, SQLITE_FILE));
  });
  after(async () => {
    db.close();
    await t.close();
  });

  const box = (id: string, version = 1): Buffer =>
    (db.prepare('SELECT box FROM resource_versions WHERE id = ? AND version_id = ?').get(id, version) as { box: Buffer }).box;
  const setBox = (id: string, value: Buffer, version = 1): void => {
    db.prepare('UPDATE resource_versions SET box = ? WHERE id = ? AND version_id = ?').run(value, id, version);
  };

  async function assertRefused(url: string, what: string): Promise<void> {
    const res = await t.fhir('GET', url);
    assert.equal(res.statusCode, 500, what);
    const outcome = JSON.parse(res.body) as { issue: { code: string; diagnostics: string; details: { text: string } }[] };
    assert.equal(outcome.issue[0]?.diagnostics, 'ERR_INTEGRITY', what);
    assert.match(outcome.issue[0]?.details.text ?? '', /^Stored data failed an integrity check \(request [0-9a-f-]{36}\)$/, what);
    assert.ok(!res.body.includes('Family'), `${what}: content leaked`);
  }

  it('refuses two rows whose ciphertexts were swapped', async () => {
    const [a, b] = [ids[0] ?? '', ids[1] ?? ''];
    const [boxA, boxB] = [box(a), box(b)];
    setBox(a, boxB);
    setBox(b, boxA);
    await assertRefused(`/fhir/Patient/${a}`, 'swapped a');
    await assertRefused(`/fhir/Patient/${b}`, 'swapped b');
    setBox(a, boxA);
    setBox(b, boxB);
    assert.equal((await t.fhir('GET', `/fhir/Patient/${a}`)).statusCode, 200, 'restored rows read again');
  });

  it('refuses a flipped byte anywhere in the ciphertext', async () => {
    const id = ids[2] ?? '';
    const original = box(id);
    for (const at of [0, 1, 3, 6, 20, Math.floor(original.length / 2), original.length - 1]) {
      const flipped = Buffer.from(original);
      flipped[at] = (flipped[at] ?? 0) ^ 0x01;
      setBox(id, flipped);
      await assertRefused(`/fhir/Patient/${id}`, `flip at ${at}`);
    }
    setBox(id, original);
    assert.equal((await t.fhir('GET', `/fhir/Patient/${id}`)).statusCode, 200);
  });

  it('refuses an older version replayed as a newer one of the same resource', async () => {
    const id = ids[4] ?? '';
    const v2 = box(id, 2);
    setBox(id, box(id, 1), 2);
    await assertRefused(`/fhir/Patient/${id}`, 'replayed v1 as v2');
    setBox(id, v2, 2);
  });

  it('refuses a row moved to another id or type', async () => {
    const id = ids[3] ?? '';
    db.prepare('DROP TRIGGER resource_versions_no_update').run();
    try {
      db.prepare("UPDATE resource_versions SET id = 'moved' WHERE id = ?").run(id);
      db.prepare("UPDATE resource_current SET id = 'moved' WHERE id = ?").run(id);
      await assertRefused('/fhir/Patient/moved', 'moved id');
      db.prepare("UPDATE resource_versions SET type = 'Person', id = 'moved' WHERE id = 'moved'").run();
      db.prepare("UPDATE resource_current SET type = 'Person' WHERE id = 'moved'").run();
      await assertRefused('/fhir/Person/moved', 'moved type');
    } finally {
      db.prepare("UPDATE resource_versions SET type = 'Patient', id = ? WHERE id = 'moved'").run(id);
      db.prepare("UPDATE resource_current SET type = 'Patient', id = ? WHERE id = 'moved'").run(id);
    }
    assert.equal((await t.fhir('GET', `/fhir/Patient/${id}`)).statusCode, 200);
  });

  it('refuses a head pointer moved to another resource\'s row', async () => {
    const [a, b] = [ids[0] ?? '', ids[1] ?? ''];
    const seqOf = (id: string): number => (db.prepare('SELECT seq FROM resource_current WHERE id = ?').get(id) as { seq: number }).seq;
    const original = seqOf(a);
    db.prepare('UPDATE resource_current SET seq = ? WHERE id = ?').run(seqOf(b), a);
    await assertRefused(`/fhir/Patient/${a}`, 'head points at another patient');
    const search = JSON.parse((await t.fhir('GET', `/fhir/Patient?_id=${a}`)).body) as { entry?: { resource: { id: string } }[] };
    assert.deepEqual((search.entry ?? []).map((e) => e.resource.id), [], 'search does not serve the other row under this id');
    db.prepare('UPDATE resource_current SET seq = ? WHERE id = ?').run(original, a);
    assert.equal((await t.fhir('GET', `/fhir/Patient/${a}`)).statusCode, 200);
  });

  it('refuses tampered rows in history too, and logs no content', async () => {
    const id = ids[0] ?? '';
    const original = box(id);
    setBox(id, Buffer.concat([original, Buffer.from([0])]));
    const res = await t.fhir('GET', `/fhir/Patient/${id}/_history`);
    assert.equal(res.statusCode, 500);
    setBox(id, original);
    const logs = t.logs.join('');
    assert.ok(logs.includes('ERR_INTEGRITY'));
    assert.ok(!/Family|Given|MRN/.test(logs), 'the log holds no record content');
  });
});
